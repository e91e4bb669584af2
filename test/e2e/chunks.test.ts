import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleFleet, generatedFleet } from '../sim/example-fleet.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import { runAction } from '../sim/run-action.js';
import { DIST_DIR, holdings, loadRecorder, type Holding } from '../sim/dist-files.js';

/*
 * What each run of the bundled action loads: dist/ is split into chunks (ncc emits one per dynamic
 * import()), and a run loads only the ones its command reaches. Recorded by a module hook in the
 * action's own process, the files named by what they hold.
 */
let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function loadedBy(options: Parameters<typeof runAction>[0] & { fleet?: Parameters<typeof startSimulator>[0] }) {
  sim = await startSimulator(options.fleet ?? exampleFleet(), {});
  const recorder = loadRecorder();
  const run = await runAction({ ...options, nodeArgs: recorder.nodeArgs, env: { ...sim.env(), AWS_REGION: 'us-east-1', ...options.env } });
  const files = recorder.loaded();
  return { run, files, holds: new Set<Holding>(files.flatMap(holdings)) };
}

describe('what a run loads', () => {
  it('a check of a region without clusters: the EKS client and the check with its decisions, nothing else', async () => {
    const { run, files, holds } = await loadedBy({ inputs: { regions: 'us-east-1' }, fleet: { clusters: [], parameters: [] } });
    expect(run.stdout).toContain('no EKS clusters found in us-east-1');
    expect(files[0]).toBe('index.js');
    expect([...holds].sort()).toEqual(['check', 'decisions', 'eks']);
  });

  it('a check of a fleet without on-drift: SSM, Auto Scaling and Kubernetes (the pause report), no GitHub, no EC2 without images named by id', async () => {
    const { run, holds } = await loadedBy({ inputs: { regions: 'us-east-1' }, fleet: generatedFleet(2) });
    expect(run.code).toBe(0);
    expect(holds).toEqual(new Set(['eks', 'check', 'decisions', 'ssm', 'autoscaling', 'kubernetes']));
  });

  it('a check that proposes loads the GitHub client; one with a launch template, EC2', async () => {
    const { run, holds } = await loadedBy({ inputs: { regions: 'us-east-1', 'on-drift': 'issue' } });
    expect(run.outputs['issue-number']).toMatch(/^\d/);
    expect(holds.has('github')).toBe(true);
    expect(holds.has('ec2')).toBe(true);
    expect(holds.has('upgrade')).toBe(false);
  });

  it('a bad input: the entry and the inputs only, and the error names the input', async () => {
    const { run, holds } = await loadedBy({ inputs: { regions: 'us-east-1', 'min-release-age': 'a week' } });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("Input 'min-release-age'");
    expect([...holds]).toEqual([]);
  });

  it('the post step with nothing paused: no inputs, no AWS, no Kubernetes', async () => {
    // A main step that stopped at a bad input: it saved the post step's mark, and no pause.
    const main = await runAction({ inputs: { regions: 'us-east-1', 'min-release-age': 'a week' }, env: { AWS_REGION: 'us-east-1' } });
    expect(main.state.isPost).toBe('true');
    const { run, files, holds } = await loadedBy({ inputs: { regions: 'us-east-1' }, postOf: main });
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('::warning::');
    expect(files[0]).toBe('index.js');
    // The entry, the runner's library (@actions/core and its HTTP client, undici), the step that tells
    // main from post, and the post step's own few lines: nothing else.
    const runnerOnly = [/getIDToken/, /undici/, /isPost/, /post step:/];
    for (const file of files.slice(1)) expect([file, runnerOnly.some((re) => re.test(readFileSync(join(DIST_DIR, file), 'utf8')))]).toEqual([file, true]);
    expect(files).toHaveLength(5);
    expect([...holds]).toEqual(['post']);
  });
});
