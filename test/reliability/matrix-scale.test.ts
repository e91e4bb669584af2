import { describe, expect, it } from '@jest/globals';
import type { CheckReport } from '../../src/model/check-report.js';
import { regionalFleet } from '../sim/example-fleet.js';
import { docsGuard, docsInputs, runMatrix } from '../sim/matrix-consumer.js';
import { runAction } from '../sim/run-action.js';
import { startSimulator } from '../sim/server.js';

/*
 * The matrix output at fleet scale, end to end: a check of 600 clusters, its `matrix` output expanded by
 * GitHub's rules (test/sim/matrix-consumer.ts: at most 256 jobs), and dist/ run once per entry with the
 * entry's `region` and `clusters` as inputs, as docs/check.md's fan-out job runs it. 257 runs of the
 * action: about 2.5 minutes of CPU (0.6 s a run), 4 to 5 minutes on a loaded 2-core machine.
 */
describe('the matrix output at fleet scale', () => {
  it('600 clusters in 3 regions: at most 256 jobs, and every cluster is checked exactly once', async () => {
    const perRegion = { 'us-east-1': 300, 'eu-west-1': 200, 'ap-southeast-2': 100 };
    // The action's pacing waits go on the simulator's virtual clock (as in test/reliability/github-scale.test.ts).
    const sim = await startSimulator(regionalFleet(perRegion), { pageSize: 100, sharedClock: true, clockSpeed: 300 });
    const env = { ...sim.env(), AWS_REGION: 'us-east-1' };
    const clock = sim.world.clock;
    const check = await runAction({ inputs: { regions: Object.keys(perRegion).join(',') }, env, clock });
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    const matrix = JSON.parse(check.outputs.matrix!) as { include: Record<string, string>[] };
    expect(matrix.include.length).toBeLessThanOrEqual(256);
    expect(matrix.include[0]).toEqual({ batch: '1/256', region: 'ap-southeast-2', clusters: expect.any(String) });

    try {
      const before = sim.log.length;
      const result = await runMatrix(check.outputs.matrix!, { if: docsGuard, with: docsInputs, run: { env, clock } });
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
    } finally {
      await sim.close();
    }
  }, 480_000);
});
