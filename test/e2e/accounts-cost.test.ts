import { afterEach, describe, expect, it } from '@jest/globals';
import type { CheckReport } from '../../src/model/check-report.js';
import type { UpgradeReport } from '../../src/model/upgrade-report.js';
import { runAction } from '../sim/run-action.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import { ACCOUNT_INPUTS, accountsFleet, HUB, longUpgrade, MEMBERS, REGIONS } from '../bench/accounts.js';

/*
 * What `accounts` costs in AWS calls, through dist/index.js: one fleet (3 accounts × 2 regions × 1
 * cluster of 5 managed node groups, the accounts bench's fleet, test/bench/accounts.ts) checked as three
 * member accounts and in one account. The bound (docs/accounts.md, Sessions and Cost): one STS
 * AssumeRole per member account for a check shorter than a session (a chained session lasts at most one
 * hour: STS API reference, AssumeRole, DurationSeconds,
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html; the action renews it five
 * minutes before its end, test/e2e/member-credentials.test.ts); every per-cluster and per-node-group
 * read the same; what a check reads
 * once for a region (docs/check.md) is read once for each account's region, since each account has its
 * own clusters list, Auto Scaling groups and marks, and its own calls to AWS.
 */
let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function check(split: boolean) {
  const { fleet, members } = accountsFleet(1, split);
  sim = await startSimulator(fleet, { pageSize: 100, ...(members ? { members } : {}) });
  const run = await runAction({ inputs: { regions: REGIONS.join(','), ...(split ? ACCOUNT_INPUTS : {}) }, env: { ...sim.env(), AWS_REGION: 'us-east-1' } });
  const report = JSON.parse(run.reportFile ?? run.outputs.report ?? '{}') as CheckReport;
  const result = { code: run.code, stderr: run.stderr, report, counts: sim.counts(), byAccount: sim.countsByAccount(), assumed: sim.identity.assumedRoles };
  await sim.close();
  sim = undefined;
  return result;
}

/** Reads of a cluster or a node group: 6 clusters, 30 node groups, whichever account holds them. */
const PER_CLUSTER = { 'eks:DescribeCluster': 6, 'eks:ListNodegroups': 6, 'eks:DescribeNodegroup': 30 };

/**
 * Reads of an account's region: one ListClusters page, one DescribeAutoScalingGroups page (its clusters'
 * tag filter), the health gate's marks (GetParametersByPath), the support calendar
 * (DescribeClusterVersions), and two GetParameters (the five targets; the drifted releases' own images).
 */
const perRegion = (regions: number) => ({
  'eks:ListClusters': regions,
  'autoscaling:DescribeAutoScalingGroups': regions,
  'ssm:GetParametersByPath': regions,
  'eks:DescribeClusterVersions': regions,
  'ssm:GetParameters': 2 * regions,
});

describe('accounts: what member accounts cost in STS and other AWS calls, through dist/', () => {
  it('adds one AssumeRole per member account and the region-wide reads of each account; every cluster and node group read is the same', async () => {
    const one = await check(false);
    const three = await check(true);

    for (const run of [one, three]) {
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.report.nodegroups).toHaveLength(30);
    }
    // The same fleet: the same node groups, with the same statuses, in either shape.
    const seen = (r: CheckReport) => r.nodegroups.map((n) => `${n.region} ${n.cluster} ${n.nodegroup} ${n.status}`).sort();
    expect(seen(three.report)).toEqual(seen(one.report));

    // One account: no STS call at all, two regions' reads.
    expect(one.counts).toEqual({ ...PER_CLUSTER, ...perRegion(2) });
    expect(Object.keys(one.byAccount)).toEqual([HUB]);

    // Three accounts: exactly three AssumeRole calls, one per member, all answered by the hub's STS...
    expect(three.counts['sts:AssumeRole']).toBe(3);
    expect(three.assumed.map((a) => a.account).sort()).toEqual(MEMBERS);
    expect(three.byAccount[HUB]).toEqual({ 'sts:AssumeRole': 3 });
    // ...and nothing else of STS; the per-cluster reads unchanged, each account's two regions read once each.
    const { 'sts:AssumeRole': _sts, ...nonSts } = three.counts;
    expect(nonSts).toEqual({ ...PER_CLUSTER, ...perRegion(6) });
    for (const member of MEMBERS) {
      expect(three.byAccount[member]).toEqual({ 'eks:DescribeCluster': 2, 'eks:ListNodegroups': 2, 'eks:DescribeNodegroup': 10, ...perRegion(2) });
    }
  }, 120_000);

  it('an upgrade in a member account that outlasts a session assumes its role again before each session ends, and no more often', async () => {
    // One cluster of member A, 15 node groups rolled one at a time: over two hours of EKS's (virtual) time.
    const A = MEMBERS[0]!;
    const { sim: s, run } = await longUpgrade(15, (started) => (sim = started));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.outputs.upgrades ?? '{}') as UpgradeReport;
    expect(report.nodegroups.filter((n) => n.result === 'upgraded')).toHaveLength(15);

    // The run, in virtual time: from the first role assumed to the last AWS call of the member.
    const assumed = s.identity.assumedRoles.filter((r) => r.account === A).map((r) => r.at);
    const calls = s.log.filter((l) => l.account === A);
    const end = s.world.clock.at(calls.at(-1)!.at);
    const runMinutes = (end - assumed[0]!) / 60_000;
    expect(runMinutes).toBeGreaterThan(115);
    // The bound: one AssumeRole, and one more each time a one-hour session reaches its last five minutes.
    expect(assumed.length).toBeGreaterThanOrEqual(3);
    expect(assumed.length).toBeLessThanOrEqual(1 + Math.floor(runMinutes / 55));
    // Each session was replaced before it ended: no call of the member was refused as expired.
    for (let i = 1; i < assumed.length; i++) expect(assumed[i]! - assumed[i - 1]!).toBeLessThan(60 * 60_000);
    expect(calls.filter((l) => l.error === 'ExpiredTokenException')).toEqual([]);
  }, 180_000);
});
