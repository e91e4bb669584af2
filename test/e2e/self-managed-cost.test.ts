import { describe, expect, it } from '@jest/globals';
import { manual, ours, POLL_MS, PODS_PER_NODE } from '../bench/self-managed.js';

/*
 * The self-managed roll's requests per group, against the bounds docs/self-managed.md states ("Requests
 * per group"), with N instances, k pods a node, p the poll interval and the phases' simulated durations
 * (surge, drain, gate). Driven by the bench's driver (test/bench/self-managed.ts), on the simulator's
 * virtual clock. The durations themselves are measured by the bench, not asserted here.
 */
describe('the self-managed roll: requests per group', () => {
  for (const n of [4, 16]) {
    it(`rolls ${n} instances within the stated AWS and Kubernetes request bounds: none per drain poll`, async () => {
      const m = await ours(n, {});
      expect(m.result).toBe('upgraded');
      const { surgeMs, drainMs, gateMs } = m.phases!;
      const [surge, drain, gate] = [surgeMs / POLL_MS, drainMs / POLL_MS, gateMs / POLL_MS];
      expect(m.aws).toEqual({
        DescribeAutoScalingGroups: 7 + n + surge + gate,
        DescribeScalingActivities: surge,
        TerminateInstanceInAutoScalingGroup: n,
        CreateOrUpdateTags: 6,
        UpdateAutoScalingGroup: 3,
        DeleteTags: 2,
        SuspendProcesses: 1,
        ResumeProcesses: 1,
        DescribeInstanceRefreshes: 1,
        DescribeLaunchTemplateVersions: 2,
        CreateLaunchTemplateVersion: 2,
        RunInstances: 1,
      });
      expect(Object.values(m.aws).reduce((a, b) => a + b, 0)).toBe(26 + 2 * n + 2 * surge + gate);
      const k = PODS_PER_NODE;
      expect(m.kube).toBeLessThanOrEqual(11 + (4 + 2 * k) * n + surge + 2 * gate + (k + 1) * drain);
      // Every pod evicted once, through the eviction API: they land on the new nodes, never on an old one still to drain.
      expect(m.evictions.accepted).toBe(k * n);
    });
  }

  it('makes fewer requests than the manual procedure, which looks at the group at each poll of every launch', async () => {
    const [roll, byHand] = [await ours(16, {}), await manual(16, {})];
    expect(byHand.result).toBe('replaced');
    const total = (aws: Record<string, number>) => Object.values(aws).reduce((a, b) => a + b, 0);
    expect(total(roll.aws)).toBeLessThan(total(byHand.aws));
    expect(roll.kube).toBeLessThan(byHand.kube);
  });
});
