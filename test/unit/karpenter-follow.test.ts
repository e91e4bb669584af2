import { describe, expect, it } from '@jest/globals';
import { parseCron, windowAt } from '../../src/decision/cron.js';
import { allowance, blockingBudgets, driftAllowance, driftedClaims, planNodeClassFollow } from '../../src/decision/karpenter-follow.js';
import type { NodeClassRead, NodePoolRead } from '../../src/model/karpenter-objects.js';
import { upgradeEntry } from '../../src/model/upgrade-report.js';
import { renderUpgradeSummary } from '../../src/report/upgrade-summary.js';

/*
 * The upgrade's decisions for a pinned Karpenter node class: its plan line, which NodeClaims are
 * drifted, and what the NodePools' disruption budgets allow for drift (kubernetes-sigs/karpenter
 * pkg/apis/v1/nodepool.go: the most restrictive active budget, a percentage rounded up, a schedule
 * active for its duration, no budget 10%).
 */

const at = (iso: string) => Date.parse(iso);
const pool = (budgets: NodePoolRead['budgets'], name = 'general'): NodePoolRead => ({
  name,
  nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'general' },
  requirements: [],
  expireAfter: null,
  budgets,
});
const claim = (name: string, imageId: string | null, nodePool = 'general') => ({ name, nodePool, nodeClass: 'general', imageId, nodeName: `${name}.node` });
const nodeClass = (over: Partial<NodeClassRead> = {}): NodeClassRead => ({
  name: 'general',
  amiFamily: null,
  terms: [{ alias: 'al2023@v20260625' }],
  amis: [
    { id: 'ami-new-x86', name: null, deprecated: false, requirements: [] },
    { id: 'ami-new-arm', name: null, deprecated: false, requirements: [] },
  ],
  ready: { status: 'True', message: null },
  nodePools: [pool([])],
  nodeClaims: [claim('a', 'ami-new-x86'), claim('b', 'ami-old'), claim('c', 'ami-new-arm'), claim('d', null)],
  ...over,
});
const cluster = { name: 'kp', region: 'us-east-1', version: '1.35' };
const pin = { alias: 'al2023@v20260625', file: 'deploy/karpenter/general.yaml' };

describe('cron schedules of disruption budgets (UTC, five fields or a macro)', () => {
  it('fires on the minutes the expression names', () => {
    const weekdays9 = parseCron('0 9 * * mon-fri')!;
    expect(weekdays9(at('2026-12-07T09:00:00Z'))).toBe(true); // a Monday
    expect(weekdays9(at('2026-12-06T09:00:00Z'))).toBe(false); // a Sunday
    expect(weekdays9(at('2026-12-07T09:01:00Z'))).toBe(false);
    expect(parseCron('@daily')!(at('2026-12-06T00:00:00Z'))).toBe(true);
    expect(parseCron('*/15 * * * *')!(at('2026-12-06T10:45:00Z'))).toBe(true);
    expect(parseCron('not a schedule')).toBeUndefined();
    expect(parseCron('61 * * * *')).toBeUndefined();
  });

  it('is open for its duration after it fires, and says when it closes', () => {
    expect(windowAt('0 9 * * *', 8 * 3_600_000, at('2026-12-06T12:30:00Z'))).toEqual({ open: true, closesAt: at('2026-12-06T17:00:00Z') });
    expect(windowAt('0 9 * * *', 8 * 3_600_000, at('2026-12-06T17:00:00Z'))).toEqual({ open: false });
    expect(windowAt('0 9 * * *', 8 * 3_600_000, at('2026-12-06T08:59:00Z'))).toEqual({ open: false });
  });
});

describe('what a NodePool’s budgets allow for drift', () => {
  it('rounds a percentage up and takes a number as is', () => {
    expect(allowance('10%', 4)).toBe(1);
    expect(allowance('50%', 5)).toBe(3);
    expect(allowance('0', 4)).toBe(0);
    expect(allowance('3', 4)).toBe(3);
  });

  it('is 10% of the nodes with no budget, the most restrictive active one otherwise', () => {
    const now = at('2026-12-06T12:00:00Z');
    expect(driftAllowance(pool([]), 20, now).allowed).toBe(2);
    expect(
      driftAllowance(
        pool([
          { nodes: '5', schedule: null, duration: null, reasons: null },
          { nodes: '20%', schedule: null, duration: null, reasons: null },
        ]),
        20,
        now,
      ),
    ).toEqual({ allowed: 4, why: 'budget nodes: "20%" allows 4 of 20 node(s) at a time' });
  });

  it('ignores a budget for other reasons, and a scheduled one outside its window', () => {
    const now = at('2026-12-06T12:00:00Z');
    const underutilized = { nodes: '0', schedule: null, duration: null, reasons: ['Underutilized'] };
    const nightly = { nodes: '0', schedule: '0 22 * * *', duration: '4h', reasons: null };
    expect(driftAllowance(pool([underutilized, nightly]), 4, now).allowed).toBe(Number.POSITIVE_INFINITY);
    expect(driftAllowance(pool([nightly]), 4, at('2026-12-06T23:30:00Z'))).toEqual({
      allowed: 0,
      why: 'budget nodes: "0" (its window "0 22 * * *" for 4h is open until 2026-12-07T02:00Z) allows 0 of 4 node(s) at a time',
    });
  });

  it('fails closed on a schedule that does not parse, as Karpenter does', () => {
    const bad = { nodes: '10', schedule: 'every day', duration: '1h', reasons: null };
    expect(driftAllowance(pool([bad]), 4, at('2026-12-06T12:00:00Z')).allowed).toBe(0);
  });

  it('names the pools whose budgets block drift now, only those with nodes of the class', () => {
    const nc = nodeClass({
      nodePools: [
        pool([{ nodes: '0', schedule: null, duration: null, reasons: ['Drifted'] }]),
        pool([{ nodes: '0', schedule: null, duration: null, reasons: null }], 'empty'),
      ],
    });
    expect(blockingBudgets(nc, at('2026-12-06T12:00:00Z'))).toEqual(['NodePool general: budget nodes: "0" allows 0 of 4 node(s) at a time']);
  });
});

describe('the plan line of a pinned node class', () => {
  it('counts as drifted a NodeClaim whose image is not among status.amis, or unknown', () => {
    expect(driftedClaims(nodeClass()).map((c) => c.name)).toEqual(['b', 'd']);
  });

  it('follows a class not yet on the pin, naming the file GitOps applies', () => {
    const item = planNodeClassFollow({ name: 'general', kind: 'karpenter', nodeClass: nodeClass({ terms: [{ alias: 'al2023@v20260505' }] }) }, cluster, pin);
    expect(item).toMatchObject({
      action: 'update',
      nodeKind: 'karpenter',
      current: { version: '1.35', releaseVersion: 'al2023@v20260505' },
      target: { version: '1.35', releaseVersion: 'al2023@v20260625' },
      source: 'manifest',
      nodes: 4,
    });
    expect(item.reason).toBe(
      'the EC2NodeClass names al2023@v20260505: would wait for GitOps to apply the EC2NodeClass in deploy/karpenter/general.yaml (al2023@v20260625) ' +
        'and Karpenter to resolve it, then follow Karpenter’s drift to nodes on its images (4 NodeClaim(s) now)',
    );
  });

  it('follows a class on the pin while NodeClaims are drifted; up to date once none is', () => {
    expect(planNodeClassFollow({ name: 'general', kind: 'karpenter', nodeClass: nodeClass() }, cluster, pin)).toMatchObject({
      action: 'update',
      reason: 'on al2023@v20260625; 2 of 4 NodeClaim(s) still on an older image: would follow Karpenter’s drift',
    });
    const done = nodeClass({ nodeClaims: [claim('a', 'ami-new-x86'), claim('c', 'ami-new-arm')] });
    expect(planNodeClassFollow({ name: 'general', kind: 'karpenter', nodeClass: done }, cluster, pin)).toMatchObject({
      action: 'up-to-date',
      reason: 'already on al2023@v20260625, all 2 NodeClaim(s) on the images it resolves',
    });
  });

  it('waits for a class that is not in the cluster yet, and for one Karpenter resolves no image for', () => {
    expect(planNodeClassFollow({ name: 'general', kind: 'karpenter' }, cluster, pin).reason).toBe(
      'no EC2NodeClass general in the cluster yet: would wait for GitOps to apply the EC2NodeClass in deploy/karpenter/general.yaml with al2023@v20260625, ' +
        'then follow Karpenter’s drift to nodes on its images',
    );
    expect(planNodeClassFollow({ name: 'general', kind: 'karpenter', nodeClass: nodeClass({ amis: [] }) }, cluster, pin)).toMatchObject({
      action: 'update',
      reason:
        'names al2023@v20260625, but Karpenter resolves no image for it yet: would wait for status.amis, then follow Karpenter’s drift to nodes on its images',
    });
  });
});

describe('the summary of a node class that came back unhealthy', () => {
  it('says how to go back for a node class, and names no node group hold to lift', () => {
    const item = planNodeClassFollow({ name: 'general', kind: 'karpenter', nodeClass: nodeClass({ terms: [{ alias: 'al2023@v20260505' }] }) }, cluster, pin);
    const health = {
      passed: false,
      durationMs: 600_000,
      watched: 1,
      nodes: [],
      workloads: [],
      pods: [],
      arn: null,
      parameter: null,
      recorded: null,
      recordError: null,
    };
    const wayBack = 'pin `al2023@v20260505` again for general in the cluster’s manifest and in deploy/karpenter/general.yaml';
    const summary = renderUpgradeSummary({
      command: 'upgrade',
      dryRun: false,
      generatedAt: '2026-12-06T10:00:00Z',
      ok: false,
      plan: [item],
      nodegroups: [upgradeEntry(item, 'unhealthy', 'did not come back', { health, wayBack })],
      autoscalers: [],
      pauses: [],
      warnings: [],
      manifestDir: '.github/eks-ami-drift',
    });
    expect(summary).toContain(`3. To go back: ${wayBack}`);
    // Karpenter's drift is no EKS update: the headline says the roll.
    expect(summary).toContain('🩺 The roll of kp/general succeeded, but the workloads on it did not come back healthy');
    expect(summary).not.toContain("EKS's update of");
    expect(summary).not.toContain('create-nodegroup');
    expect(summary).not.toContain('remove the mark');
  });
});
