import { describe, expect, it } from '@jest/globals';
import type { UpdateSettings } from '../../src/model/fleet.js';
import type { PlanItem } from '../../src/model/plan.js';
import { capacityBlockHold, expectedMinutes, nodesAtOnce, rolloutText, waves } from '../../src/decision/rollout.js';
import { defaultWaitTimeoutMs } from '../../src/decision/budget.js';
import { holdCapacityBlocks } from '../../src/decision/holds.js';

const settings = (s: Partial<UpdateSettings>): UpdateSettings => ({
  maxUnavailable: null,
  maxUnavailablePercentage: null,
  strategy: 'DEFAULT',
  capacityType: 'ON_DEMAND',
  nodeRepair: false,
  ...s,
});

describe('how EKS will roll a node group (EKS API reference, NodegroupUpdateConfig)', () => {
  it('replaces maxUnavailable nodes at once, at most 100; a percentage of the nodes, at least 1; else one', () => {
    expect(nodesAtOnce(settings({ maxUnavailable: 3 }), 10)).toBe(3);
    expect(nodesAtOnce(settings({ maxUnavailable: 250 }), 500)).toBe(100);
    expect(nodesAtOnce(settings({ maxUnavailablePercentage: 25 }), 10)).toBe(2);
    expect(nodesAtOnce(settings({ maxUnavailablePercentage: 10 }), 3)).toBe(1);
    expect(nodesAtOnce(settings({ maxUnavailablePercentage: 50 }), 400)).toBe(100);
    expect(nodesAtOnce(undefined, 10)).toBe(1);
  });

  it('counts rounds of replacement, and the expected minutes and wait timeout from them', () => {
    expect(waves(settings({ maxUnavailable: 2 }), 6)).toBe(3);
    expect(expectedMinutes(settings({ maxUnavailable: 2 }), 6)).toBe(22);
    expect(expectedMinutes(undefined, 6)).toBe(34);
    // 20 nodes one at a time: 15 + 8 × 20 minutes; 5 at a time: 4 rounds, at least 40 minutes.
    expect(defaultWaitTimeoutMs(20)).toBe(175 * 60_000);
    expect(defaultWaitTimeoutMs(20, settings({ maxUnavailable: 5 }))).toBe(47 * 60_000);
  });

  it('says MINIMAL terminates before it launches, and that node auto repair replaces nodes on its own', () => {
    expect(rolloutText(settings({ strategy: 'MINIMAL', maxUnavailable: 1, nodeRepair: true }), 4)).toBe(
      'MINIMAL: terminates 1 old node(s) before it launches their replacements (maxUnavailable 1), so the node group runs 1 short in each of 4 round(s); ' +
        'node auto repair on: EKS also replaces unhealthy nodes on its own',
    );
    expect(rolloutText(settings({ maxUnavailablePercentage: 50 }), 4)).toBe(
      'DEFAULT: launches new nodes first, then replaces 2 at a time (maxUnavailablePercentage 50), 2 round(s)',
    );
  });

  it('holds a Capacity Block node group while it has nodes (EKS user guide, Capacity Blocks: desired size 0), and not at 0', () => {
    const block = settings({ capacityType: 'CAPACITY_BLOCK' });
    expect(capacityBlockHold(block, 2)).toContain('updated only at desired size 0');
    expect(capacityBlockHold(block, 0)).toBeNull();
    expect(capacityBlockHold(settings({}), 2)).toBeNull();
    const item = (nodes: number): PlanItem => ({
      cluster: 'ml',
      region: 'us-east-1',
      nodegroup: 'reserved',
      nodeKind: 'managed-release',
      amiType: 'AL2023_x86_64_NVIDIA',
      nodes,
      updateSettings: block,
      current: { version: '1.33', releaseVersion: '1.33.1-20260101' },
      target: { version: '1.33', releaseVersion: '1.33.2-20260201' },
      source: 'manifest',
      action: 'update',
      reason: '1.33.1-20260101 → 1.33.2-20260201',
    });
    expect(holdCapacityBlocks([item(2)])[0]).toMatchObject({ action: 'skip', reason: expect.stringContaining('it has 2') });
    expect(holdCapacityBlocks([item(0)])[0]).toMatchObject({ action: 'update' });
  });
});
