import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { CheckReport } from '../../src/model/check-report.js';
import { generatedFleet } from '../sim/example-fleet.js';
import type { FleetSpec } from '../sim/fleet.js';
import { orElse, runMatrix } from '../sim/matrix-consumer.js';
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

/** `n` clusters over the regions, one node group each (the fan-out is per cluster: node groups only cost time). */
function fleetIn(perRegion: Record<string, number>): FleetSpec {
  const specs = Object.entries(perRegion).map(([region, n]) => {
    const f = generatedFleet(n, region);
    return { ...f, clusters: f.clusters.map((c) => ({ ...c, name: `${region}-${c.name}`, nodegroups: c.nodegroups.slice(0, 1) })) };
  });
  return { clusters: specs.flatMap((s) => s.clusters), parameters: specs[0]!.parameters };
}

// The guard of docs/check.md's fan-out job, read from the page: the workflow users copy is the one tested.
const DOCS_GUARD = "${{ !cancelled() && fromJSON(needs.fleet.outputs.matrix || '{}').include[0] != null }}";
// The same in JavaScript: `||` gives '{}' for an empty output, a missing property is null.
const guard = (output: string) => (JSON.parse(output || '{}') as { include?: unknown[] }).include?.[0] != null;
const withInputs = (m: Record<string, string | undefined>) => ({ regions: m.region ?? '', clusters: orElse(m.clusters, m.cluster) });

describe('the matrix output, fanned out', () => {
  it('the documented fan-out job guards against an empty matrix and has a concurrency group per cluster or batch', () => {
    const page = readFileSync(new URL('../../docs/check.md', import.meta.url), 'utf8');
    expect(page).toContain(`if: ${DOCS_GUARD}`);
    expect(page).toContain('group: eks-ami-drift-${{ matrix.region }}-${{ matrix.clusters || matrix.cluster }}');
    expect(page).toContain('regions: ${{ matrix.region }}');
    expect(page).toContain('clusters: ${{ matrix.clusters || matrix.cluster }}');
  });

  it('600 clusters in 3 regions: at most 256 jobs, and every cluster is checked exactly once', async () => {
    const perRegion = { 'us-east-1': 300, 'eu-west-1': 200, 'ap-southeast-2': 100 };
    // The action's pacing waits go on the simulator's virtual clock (as in test/reliability/github-scale.test.ts).
    sim = await startSimulator(fleetIn(perRegion), { pageSize: 100, sharedClock: true, clockSpeed: 300 });
    const env = { ...sim.env(), AWS_REGION: 'us-east-1' };
    const clock = sim.world.clock;
    const check = await runAction({ inputs: { regions: Object.keys(perRegion).join(',') }, env, clock });
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    const matrix = JSON.parse(check.outputs.matrix!) as { include: Record<string, string>[] };
    expect(matrix.include.length).toBeLessThanOrEqual(256);
    expect(matrix.include[0]).toEqual({ batch: '1/256', region: 'ap-southeast-2', clusters: expect.any(String) });

    const before = sim.log.length;
    const result = await runMatrix(check.outputs.matrix!, { if: guard, with: withInputs, run: { env, clock } });
    if (result.outcome !== 'ran') throw new Error(`the fan-out did not run: ${JSON.stringify(result)}`);
    expect(result.jobs).toHaveLength(matrix.include.length);
    for (const { run, inputs } of result.jobs) {
      expect({ clusters: inputs.clusters, code: run.code, stderr: run.stderr }).toEqual({ clusters: inputs.clusters, code: 0, stderr: '' });
      // each job's report: exactly the clusters of its entry, in its region
      const report = JSON.parse(run.reportFile!) as CheckReport;
      expect(report.clusters.map((c) => c.cluster).sort()).toEqual(inputs.clusters!.split(',').sort());
      expect(new Set(report.clusters.map((c) => c.region))).toEqual(new Set([inputs.regions]));
    }

    // What AWS saw from the jobs: each cluster described once, in its own region; no region listed.
    const jobCalls = sim.log.slice(before);
    const described = jobCalls.filter((c) => c.operation === 'DescribeCluster').map((c) => `${c.region}/${String(c.params.name)}`);
    const fleet = Object.entries(perRegion).flatMap(([region, n]) =>
      Array.from({ length: n }, (_, i) => `${region}/${region}-cluster-${String(i).padStart(3, '0')}`),
    );
    expect(described).toHaveLength(600);
    expect(new Set(described)).toEqual(new Set(fleet));
    expect(jobCalls.filter((c) => c.operation === 'ListClusters')).toEqual([]);
  }, 480_000);

  it('no cluster read: the matrix is empty, the guarded job is skipped; without the guard GitHub fails the run', async () => {
    sim = await startSimulator(fleetIn({ 'us-east-1': 1 }), {});
    const env = { ...sim.env(), AWS_REGION: 'us-east-1' };
    // the only cluster named does not exist: its row is an error, the step fails, the outputs are written
    const check = await runAction({ inputs: { regions: 'us-east-1', clusters: 'ghost' }, env });
    expect(check.code).toBe(1);
    expect(check.outputs.matrix).toBe('{"include":[]}');
    expect(await runMatrix(check.outputs.matrix!, { if: guard, with: withInputs, run: { env } })).toEqual({ outcome: 'skipped' });
    expect(await runMatrix(check.outputs.matrix!, { with: withInputs, run: { env } })).toEqual({
      outcome: 'failed',
      error: 'Matrix must define at least one vector',
    });
    // a check job that stopped before its outputs (a bad input): the output is empty, the job skipped too
    const bad = await runAction({ inputs: { regions: 'us-east-1', 'min-release-age': 'a week' }, env });
    expect(bad.outputs.matrix).toBeUndefined();
    expect(await runMatrix('', { if: guard, with: withInputs, run: { env } })).toEqual({ outcome: 'skipped' });
  });

  it('a small fleet: one job per cluster, the entry’s cluster as the action’s `clusters`', async () => {
    sim = await startSimulator(fleetIn({ 'us-east-1': 2, 'eu-west-1': 1 }), {});
    const env = { ...sim.env(), AWS_REGION: 'us-east-1' };
    const check = await runAction({ inputs: { regions: 'us-east-1, eu-west-1' }, env });
    const { include } = JSON.parse(check.outputs.matrix!) as { include: { cluster: string }[] };
    expect(include.sort((a, b) => a.cluster.localeCompare(b.cluster))).toEqual([
      { cluster: 'eu-west-1-cluster-000', region: 'eu-west-1' },
      { cluster: 'us-east-1-cluster-000', region: 'us-east-1' },
      { cluster: 'us-east-1-cluster-001', region: 'us-east-1' },
    ]);
    const result = await runMatrix(check.outputs.matrix!, { if: guard, with: withInputs, run: { env } });
    if (result.outcome !== 'ran') throw new Error(`the fan-out did not run: ${JSON.stringify(result)}`);
    expect(result.jobs.map((j) => j.inputs).sort((a, b) => a.clusters.localeCompare(b.clusters))).toEqual([
      { regions: 'eu-west-1', clusters: 'eu-west-1-cluster-000' },
      { regions: 'us-east-1', clusters: 'us-east-1-cluster-000' },
      { regions: 'us-east-1', clusters: 'us-east-1-cluster-001' },
    ]);
    expect(result.jobs.every((j) => j.run.code === 0)).toBe(true);
  });
});
