import { describe, expect, it } from '@jest/globals';
import { inAccount, mergeAccountReports } from '../../src/decision/account-merge.js';
import type { CheckReport, ClusterReport, NodegroupReport } from '../../src/model/check-report.js';

/** A cluster row and its node group rows, as one account's check gives them. */
function report(rows: { cluster: string; region: string; error?: string; status?: NodegroupReport['status'] }[]): CheckReport {
  const clusters: ClusterReport[] = rows.map((r) => ({
    cluster: r.cluster,
    region: r.region,
    controlPlaneVersion: r.error ? null : '1.33',
    nodegroups: r.error ? 0 : 1,
    selfManagedGroups: 0,
    error: r.error ?? null,
  }));
  const nodegroups = rows.map(
    (r) =>
      ({
        cluster: r.cluster,
        region: r.region,
        nodegroup: r.error ? null : 'general',
        status: r.error ? 'error' : (r.status ?? 'drift'),
        reason: r.error ?? 'a newer release',
      }) as NodegroupReport,
  );
  const counts = { 'up-to-date': 0, drift: 0, error: 0 } as CheckReport['counts'];
  for (const n of nodegroups) counts[n.status] = (counts[n.status] ?? 0) + 1;
  return {
    command: 'check',
    generatedAt: '2026-12-06T00:00:00.000Z',
    regions: ['us-east-1'],
    minReleaseAge: '0',
    drift: true,
    counts,
    clusters,
    nodegroups,
    pauses: [],
    pausesUnchecked: ['x (us-east-1): Forbidden'],
    proposals: [],
  };
}

const NOT_FOUND = 'ResourceNotFoundException: No cluster found for name: prod.';

describe('one report from the accounts’ checks', () => {
  it('a cluster named in `clusters` that exists in one account only: the other accounts’ not-found rows are dropped', () => {
    const a = inAccount(report([{ cluster: 'prod', region: 'us-east-1' }]), '222222222222');
    const b = inAccount(report([{ cluster: 'prod', region: 'us-east-1', error: NOT_FOUND }]), '333333333333');
    const merged = mergeAccountReports(
      [
        { account: '222222222222', role: 'arn:aws:iam::222222222222:role/r', report: a, error: null },
        { account: '333333333333', role: 'arn:aws:iam::333333333333:role/r', report: b, error: null },
      ],
      '2026-12-06T00:00:00.000Z',
      ['us-east-1'],
      '0',
    );
    expect(merged.clusters.map((c) => [c.account, c.cluster, c.error])).toEqual([['222222222222', 'prod', null]]);
    expect(merged.nodegroups.map((n) => [n.account, n.status])).toEqual([['222222222222', 'drift']]);
    expect(merged.counts).toEqual({ 'up-to-date': 0, drift: 1, error: 0 });
    expect(merged.accounts?.map((x) => [x.account, x.clusters])).toEqual([
      ['222222222222', 1],
      ['333333333333', 0],
    ]);
    // What was not looked at says in which account.
    expect(merged.pausesUnchecked).toEqual(['account 222222222222: x (us-east-1): Forbidden', 'account 333333333333: x (us-east-1): Forbidden']);
  });

  it('a name found in no account keeps its errors; an account that could not be read is its own row', () => {
    const a = inAccount(report([{ cluster: 'gone', region: 'us-east-1', error: NOT_FOUND }]), '222222222222');
    const merged = mergeAccountReports(
      [
        { account: '222222222222', role: 'arn:aws:iam::222222222222:role/r', report: a, error: null },
        { account: '444444444444', role: 'arn:aws:iam::444444444444:role/r', report: null, error: 'role … could not be assumed: AccessDenied' },
      ],
      '2026-12-06T00:00:00.000Z',
      ['us-east-1'],
      '0',
    );
    expect(merged.nodegroups.map((n) => [n.account, n.cluster, n.status])).toEqual([['222222222222', 'gone', 'error']]);
    expect(merged.counts.error).toBe(1);
    expect(merged.accounts).toEqual([
      { account: '222222222222', role: 'arn:aws:iam::222222222222:role/r', clusters: 0, error: null },
      { account: '444444444444', role: 'arn:aws:iam::444444444444:role/r', clusters: 0, error: 'role … could not be assumed: AccessDenied' },
    ]);
  });

  it('rows sorted by account, region, cluster; a name in two accounts is two clusters', () => {
    const a = inAccount(
      report([
        { cluster: 'prod', region: 'us-east-1' },
        { cluster: 'api', region: 'eu-west-1', status: 'up-to-date' },
      ]),
      '333333333333',
    );
    const b = inAccount(report([{ cluster: 'prod', region: 'us-east-1' }]), '222222222222');
    const merged = mergeAccountReports(
      [
        { account: '333333333333', role: 'r', report: a, error: null },
        { account: '222222222222', role: 'r', report: b, error: null },
      ],
      '2026-12-06T00:00:00.000Z',
      ['us-east-1', 'eu-west-1'],
      '0',
    );
    expect(merged.clusters.map((c) => `${c.account}/${c.region}/${c.cluster}`)).toEqual([
      '222222222222/us-east-1/prod',
      '333333333333/eu-west-1/api',
      '333333333333/us-east-1/prod',
    ]);
    expect(merged.counts).toEqual({ 'up-to-date': 1, drift: 2, error: 0 });
    expect(merged.drift).toBe(true);
  });
});
