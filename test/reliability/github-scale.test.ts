import { describe, expect, it } from '@jest/globals';
import type { CheckReport } from '../../src/model/check-report.js';
import { generatedFleet } from '../sim/example-fleet.js';
import { runAction } from '../sim/run-action.js';
import { startSimulator } from '../sim/server.js';

describe('GitHub at fleet scale', () => {
  it('opens 100 pull requests in one run under a content-creation limit, waiting out every secondary-limit 403', async () => {
    // GitHub allows about 80 content-creating requests a minute; scaled down here to 30, on the
    // simulator's virtual clock, which the action runs on too (its pacing and waits go at that speed).
    const sim = await startSimulator(generatedFleet(100), { pageSize: 100, sharedClock: true, clockSpeed: 30, github: { contentLimit: { perMinute: 30 } } });
    try {
      const run = await runAction({
        inputs: { regions: 'us-east-1', 'on-drift': 'pull-request', assignees: 'bob', reviewers: 'alice' },
        env: { ...sim.env(), AWS_REGION: 'us-east-1' },
        clock: sim.world.clock,
      });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const proposals = (JSON.parse(run.outputs.report!) as CheckReport).proposals;
      expect(proposals).toHaveLength(100);
      expect(proposals.filter((p) => p.result !== 'created')).toEqual([]);
      // the limit was reached, and waited out
      expect(sim.github.secondaryLimited).toBeGreaterThan(0);
      expect(run.stdout).toMatch(/GitHub's secondary rate limit reached on POST .*: retrying in \d+ s/);
      // every pull request exactly once, each complete
      const created = sim.github.log.filter((l) => l.method === 'POST' && /\/pulls$/.test(l.path));
      expect(created.filter((l) => l.status === 201)).toHaveLength(100);
      const pulls = sim.github.pulls();
      expect(new Set(pulls.map((p) => p.pull!.head)).size).toBe(100);
      expect(pulls.every((p) => p.labels.includes('eks-ami-drift') && p.assignees.includes('bob') && p.pull!.reviewers.includes('alice'))).toBe(true);
      expect(run.outputs['pull-request-number']!.split(',')).toHaveLength(100);
    } finally {
      await sim.close();
    }
  }, 240_000);
});
