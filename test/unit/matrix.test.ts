import { describe, expect, it } from '@jest/globals';
import { fanOut, type BatchEntry, type MatrixCluster } from '../../src/decision/matrix.js';

// GitHub: "A job matrix can generate a maximum of 256 jobs per workflow run" (github/docs
// data/reusables/github-actions/usage-matrix-limits.md).
const GITHUB_LIMIT = 256;

function fleet(perRegion: Record<string, number>): MatrixCluster[] {
  return Object.entries(perRegion).flatMap(([region, n]) =>
    Array.from({ length: n }, (_, i) => ({ cluster: `${region}-c${String(i).padStart(4, '0')}`, region })),
  );
}

const batches = (clusters: MatrixCluster[]) => fanOut(clusters).include as BatchEntry[];
const members = (b: BatchEntry) => b.clusters.split(',');

describe('the matrix output within GitHub’s 256 jobs', () => {
  it('600 clusters in 3 regions: 256 batches, every cluster exactly once, each batch in its cluster’s region', () => {
    const clusters = fleet({ 'us-east-1': 300, 'eu-west-1': 200, 'ap-southeast-2': 100 });
    const include = batches(clusters);
    expect(include).toHaveLength(GITHUB_LIMIT);
    const seen = include.flatMap((b) => members(b).map((c) => `${b.region}/${c}`));
    expect(seen).toHaveLength(600);
    expect(new Set(seen)).toEqual(new Set(clusters.map((c) => `${c.region}/${c.cluster}`)));
    // each name carries its region in this fleet: a batch never mixes regions
    for (const b of include) expect(members(b).every((c) => c.startsWith(`${b.region}-`))).toBe(true);
  });

  it('600 clusters: balanced, batches of 2 or 3 (600 / 256 = 2.3), shared by the regions in proportion to their clusters', () => {
    const include = batches(fleet({ 'us-east-1': 300, 'eu-west-1': 200, 'ap-southeast-2': 100 }));
    const sizes = include.map((b) => members(b).length);
    expect(new Set(sizes)).toEqual(new Set([2, 3]));
    const per = (region: string) => include.filter((b) => b.region === region).length;
    // 256 × 300/600 = 128, × 200/600 = 85.3, × 100/600 = 42.7
    expect(per('us-east-1')).toBe(128);
    expect([85, 86]).toContain(per('eu-west-1'));
    expect([42, 43]).toContain(per('ap-southeast-2'));
    expect(per('us-east-1') + per('eu-west-1') + per('ap-southeast-2')).toBe(256);
  });

  it('batch fields are the action’s inputs: region for `regions`, clusters comma separated for `clusters`, batch "i/total"', () => {
    const include = batches(fleet({ 'us-east-1': 257 }));
    expect(include).toHaveLength(256);
    expect(include.map((b) => b.batch)).toEqual(Array.from({ length: 256 }, (_, i) => `${i + 1}/256`));
    expect(include[0]).toEqual({ batch: '1/256', region: 'us-east-1', clusters: 'us-east-1-c0000,us-east-1-c0001' });
    expect(include[1]).toEqual({ batch: '2/256', region: 'us-east-1', clusters: 'us-east-1-c0002' });
    expect(Object.keys(include[255]!).sort()).toEqual(['batch', 'clusters', 'region']);
  });

  it('a small region keeps a batch of its own beside a huge one, and the total stays at 256', () => {
    const include = batches(fleet({ 'us-east-1': 5000, 'eu-west-1': 1, 'eu-north-1': 1 }));
    expect(include).toHaveLength(256);
    expect(include.filter((b) => b.region === 'eu-west-1').map((b) => b.clusters)).toEqual(['eu-west-1-c0000']);
    expect(include.filter((b) => b.region === 'eu-north-1').map((b) => b.clusters)).toEqual(['eu-north-1-c0000']);
    const big = include.filter((b) => b.region === 'us-east-1').map((b) => members(b).length);
    expect(big).toHaveLength(254);
    expect(Math.max(...big) - Math.min(...big)).toBeLessThanOrEqual(1);
    expect(big.reduce((a, b) => a + b, 0)).toBe(5000);
  });

  it('200 clusters: one entry per cluster, the shape of before ({cluster, region}), in the report’s order', () => {
    const clusters = fleet({ 'us-east-1': 120, 'eu-west-1': 80 });
    const { include } = fanOut(clusters);
    expect(include).toHaveLength(200);
    expect(include[0]).toEqual({ cluster: 'us-east-1-c0000', region: 'us-east-1' });
    expect(include[199]).toEqual({ cluster: 'eu-west-1-c0079', region: 'eu-west-1' });
  });

  it('exactly 256 clusters: still one entry per cluster; 257: batches', () => {
    expect(fanOut(fleet({ 'us-east-1': 256 })).include.every((e) => 'cluster' in e)).toBe(true);
    expect(fanOut(fleet({ 'us-east-1': 257 })).include.every((e) => 'batch' in e)).toBe(true);
  });

  it('no cluster: an empty include (the workflow skips its fan-out job on it)', () => {
    expect(JSON.stringify(fanOut([]))).toBe('{"include":[]}');
  });

  it('a cluster listed twice counts once', () => {
    const { include } = fanOut([
      { cluster: 'prod', region: 'us-east-1' },
      { cluster: 'prod', region: 'us-east-1' },
      { cluster: 'prod', region: 'eu-west-1' },
    ]);
    expect(include).toEqual([
      { cluster: 'prod', region: 'us-east-1' },
      { cluster: 'prod', region: 'eu-west-1' },
    ]);
  });

  it('with accounts: 600 clusters in 3 accounts × 2 regions, the same names in every account: 256 batches of one account and region, each cluster once', () => {
    const accounts = ['222222222222', '333333333333', '444444444444'];
    const clusters = accounts.flatMap((account) => fleet({ 'us-east-1': 50, 'eu-west-1': 150 }).map((c) => ({ ...c, account })));
    const include = batches(clusters);
    expect(include).toHaveLength(GITHUB_LIMIT);
    const seen = include.flatMap((b) => members(b).map((c) => `${b.accounts}/${b.region}/${c}`));
    expect(seen).toHaveLength(600);
    expect(new Set(seen)).toEqual(new Set(clusters.map((c) => `${c.account}/${c.region}/${c.cluster}`)));
    // `accounts` is one id, the action's `accounts` input for the batch's job.
    for (const b of include) expect(accounts).toContain(b.accounts);
    // Balanced across accounts as across regions: 600 / 256 = 2.3, every batch 2 or 3 clusters.
    expect(new Set(include.map((b) => members(b).length))).toEqual(new Set([2, 3]));
  });

  it('with accounts, up to 256 clusters: one entry per cluster with its account; a name in two accounts is two entries', () => {
    const { include } = fanOut([
      { cluster: 'prod', region: 'us-east-1', account: '222222222222' },
      { cluster: 'prod', region: 'us-east-1', account: '333333333333' },
      { cluster: 'prod', region: 'us-east-1', account: '333333333333' },
    ]);
    expect(include).toEqual([
      { cluster: 'prod', region: 'us-east-1', account: '222222222222' },
      { cluster: 'prod', region: 'us-east-1', account: '333333333333' },
    ]);
  });
});
