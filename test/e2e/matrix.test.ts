import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { regionalFleet } from '../sim/example-fleet.js';
import { DOCS_GUARD, docsGuard, docsInputs, runMatrix } from '../sim/matrix-consumer.js';
import { runAction } from '../sim/run-action.js';
import { startSimulator, type Simulator } from '../sim/server.js';

/*
 * check → matrix → one action run per entry, as the fan-out workflow of docs/check.md runs it: the
 * check job's `matrix` output expanded by GitHub's rules (test/sim/matrix-consumer.ts), each entry's
 * `region` and `clusters || cluster` given to the action as `regions` and `clusters`.
 */

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('the matrix output, fanned out', () => {
  it('the documented fan-out job guards against an empty matrix and has a concurrency group per cluster or batch', () => {
    const page = readFileSync(new URL('../../docs/check.md', import.meta.url), 'utf8');
    expect(page).toContain(`if: ${DOCS_GUARD}`);
    expect(page).toContain('group: eks-ami-drift-${{ matrix.region }}-${{ matrix.clusters || matrix.cluster }}');
    expect(page).toContain('regions: ${{ matrix.region }}');
    expect(page).toContain('clusters: ${{ matrix.clusters || matrix.cluster }}');
  });

  it('no cluster read: the matrix is empty, the guarded job is skipped; without the guard GitHub fails the run', async () => {
    sim = await startSimulator(regionalFleet({ 'us-east-1': 1 }), {});
    const env = { ...sim.env(), AWS_REGION: 'us-east-1' };
    // the only cluster named does not exist: its row is an error, the step fails, the outputs are written
    const check = await runAction({ inputs: { regions: 'us-east-1', clusters: 'ghost' }, env });
    expect(check.code).toBe(1);
    expect(check.outputs.matrix).toBe('{"include":[]}');
    expect(await runMatrix(check.outputs.matrix!, { if: docsGuard, with: docsInputs, run: { env } })).toEqual({ outcome: 'skipped' });
    expect(await runMatrix(check.outputs.matrix!, { with: docsInputs, run: { env } })).toEqual({
      outcome: 'failed',
      error: 'Matrix must define at least one vector',
    });
    // a check job that stopped before its outputs (a bad input): the output is empty, the job skipped too
    const bad = await runAction({ inputs: { regions: 'us-east-1', 'min-release-age': 'a week' }, env });
    expect(bad.outputs.matrix).toBeUndefined();
    expect(await runMatrix('', { if: docsGuard, with: docsInputs, run: { env } })).toEqual({ outcome: 'skipped' });
  });

  it('a small fleet: one job per cluster, the entry’s cluster as the action’s `clusters`', async () => {
    sim = await startSimulator(regionalFleet({ 'us-east-1': 2, 'eu-west-1': 1 }), {});
    const env = { ...sim.env(), AWS_REGION: 'us-east-1' };
    const check = await runAction({ inputs: { regions: 'us-east-1, eu-west-1' }, env });
    const { include } = JSON.parse(check.outputs.matrix!) as { include: { cluster: string }[] };
    expect(include.sort((a, b) => a.cluster.localeCompare(b.cluster))).toEqual([
      { cluster: 'eu-west-1-cluster-000', region: 'eu-west-1' },
      { cluster: 'us-east-1-cluster-000', region: 'us-east-1' },
      { cluster: 'us-east-1-cluster-001', region: 'us-east-1' },
    ]);
    const result = await runMatrix(check.outputs.matrix!, { if: docsGuard, with: docsInputs, run: { env } });
    if (result.outcome !== 'ran') throw new Error(`the fan-out did not run: ${JSON.stringify(result)}`);
    expect(result.jobs.map((j) => j.inputs).sort((a, b) => String(a.clusters).localeCompare(String(b.clusters)))).toEqual([
      { regions: 'eu-west-1', clusters: 'eu-west-1-cluster-000' },
      { regions: 'us-east-1', clusters: 'us-east-1-cluster-000' },
      { regions: 'us-east-1', clusters: 'us-east-1-cluster-001' },
    ]);
    expect(result.jobs.every((j) => j.run.code === 0)).toBe(true);
  });
});
