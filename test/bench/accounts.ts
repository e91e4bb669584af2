/**
 * The bench's accounts section (`npm run bench -- --only accounts`): one fleet (3 accounts × 2 regions ×
 * N clusters, five managed node groups a cluster) checked by the bundled action as a process against the
 * simulator, (a) as three member accounts through `accounts` and `account-role`, and (b) all in the hub's
 * own account without `accounts`. Same latency and throttling as the fleet section.
 *
 * What it reports: AWS calls by service:operation in each, their difference, the STS calls each account
 * served, and the wall time of (a) over (b) (median of a few runs, alternated): a ratio, not a time.
 * The spec's bound (docs/accounts.md, Sessions): one AssumeRole per member account per run for a check,
 * plus one an hour per account for a long run, the session being chained (one hour at most: STS API
 * reference, AssumeRole, DurationSeconds: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html)
 * and renewed five minutes before its end (src/fleet/credentials.ts memberRoleProvider).
 */
import type { CheckReport } from '../../src/model/check-report.js';
import { generatedFleet } from '../sim/example-fleet.js';
import type { FleetSpec, SimCluster } from '../sim/fleet.js';
import { renderManifest } from '../../src/repo/manifest.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { runAction, type ActionRun } from '../sim/run-action.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import type { ThrottleModel } from '../sim/throttle.js';
import type { Row } from './render.js';

export const HUB = '111111111111';
export const MEMBERS = ['222222222222', '333333333333', '444444444444'];
export const REGIONS = ['us-east-1', 'eu-west-1'];

/** One member's part of the fleet: N generated clusters in each region, named after the account so the one-account fleet keeps them apart. */
export function memberClusters(account: string, perRegion: number): SimCluster[] {
  return REGIONS.flatMap((region) => generatedFleet(perRegion, region).clusters.map((c) => ({ ...c, name: `${account.slice(0, 3)}-${c.name}` })));
}

/** The AWS public parameters the generated fleet reads (every account and region sees them). */
const parameters = () => generatedFleet(1).parameters;

/** (a) The hub without clusters of its own, and three members with theirs; (b) the same clusters in the hub. */
export function accountsFleet(
  perRegion: number,
  split: boolean,
): { fleet: FleetSpec; members?: { accountId: string; fleet: FleetSpec; role: { name: string } }[] } {
  if (!split) return { fleet: { accountId: HUB, clusters: MEMBERS.flatMap((a) => memberClusters(a, perRegion)), parameters: parameters() } };
  return {
    fleet: { accountId: HUB, clusters: [], parameters: parameters() },
    members: MEMBERS.map((accountId) => ({
      accountId,
      fleet: { clusters: memberClusters(accountId, perRegion), parameters: [] },
      role: { name: 'eks-ami-drift' },
    })),
  };
}

export const ACCOUNT_INPUTS = { accounts: MEMBERS.join(','), 'account-role': 'eks-ami-drift' };

interface Measured {
  wallMs: number;
  code: number | null;
  nodegroups: number;
  counts: Record<string, number>;
  byAccount: Record<string, Record<string, number>>;
  /** The member roles assumed (sim.identity.assumedRoles), by account. */
  assumed: string[];
  throttled: number;
}

async function once(perRegion: number, split: boolean, latencyMs: number, throttling: ThrottleModel, page: number): Promise<Measured> {
  const { fleet, members } = accountsFleet(perRegion, split);
  const sim = await startSimulator(fleet, { pageSize: page, faults: { latencyMs, throttling }, ...(members ? { members } : {}) });
  try {
    const t0 = Date.now();
    const run = await runAction({
      inputs: { regions: REGIONS.join(','), ...(split ? ACCOUNT_INPUTS : {}) },
      env: { ...sim.env(), AWS_REGION: 'us-east-1' },
    });
    const wallMs = Date.now() - t0;
    const report = JSON.parse(run.reportFile ?? run.outputs.report ?? '{}') as CheckReport;
    return {
      wallMs,
      code: run.code,
      nodegroups: report.nodegroups?.length ?? 0,
      counts: sim.counts(),
      byAccount: sim.countsByAccount(),
      assumed: sim.identity.assumedRoles.map((r) => r.account),
      throttled: sim.log.filter((l) => ['ThrottlingException', 'Throttling', 'RequestLimitExceeded'].includes(l.error ?? '')).length,
    };
  } finally {
    await sim.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (ms: number) => Number((ms / 1000).toFixed(2));

export interface AccountsTables {
  /** Per size: totals, STS per account, wall time ratio. */
  summary: Row[];
  /** Per operation and size: calls in (a), in (b), and (a) − (b). */
  calls: Row[];
}

/** Runs each size `runs` times, (a) and (b) alternated; counts come from the first run (they do not vary without faults). */
export async function accountsBench(opts: {
  sizes: number[];
  runs: number;
  latencyMs: number;
  throttling: ThrottleModel;
  page: number;
  log: (line: string) => void;
}): Promise<AccountsTables> {
  const summary: Row[] = [];
  const byOperation = new Map<string, Row>();
  for (const n of opts.sizes) {
    const split: Measured[] = [];
    const one: Measured[] = [];
    for (let i = 0; i < opts.runs; i++) {
      split.push(await once(n, true, opts.latencyMs, opts.throttling, opts.page));
      one.push(await once(n, false, opts.latencyMs, opts.throttling, opts.page));
      opts.log(`accounts: ${n} clusters a region and account, run ${i + 1}: ${split.at(-1)!.wallMs} ms / ${one.at(-1)!.wallMs} ms`);
    }
    const [a, b] = [split[0]!, one[0]!];
    const total = (m: Measured) => Object.values(m.counts).reduce((x, y) => x + y, 0);
    const sts = (m: Measured) =>
      Object.entries(m.counts)
        .filter(([k]) => k.startsWith('sts:'))
        .reduce((x, [, y]) => x + y, 0);
    // The hub's STS answers every AssumeRole; what counts against the bound is the roles assumed in each member.
    const stsOf = (account: string) =>
      Object.entries(a.byAccount[account] ?? {})
        .filter(([k]) => k.startsWith('sts:'))
        .reduce((x, [, y]) => x + y, 0);
    const assumedIn = (account: string) => a.assumed.filter((x) => x === account).length;
    const [wa, wb] = [median(split.map((m) => m.wallMs)), median(one.map((m) => m.wallMs))];
    summary.push({
      clusters: MEMBERS.length * REGIONS.length * n,
      'node groups': a.nodegroups,
      'exit code (a / b)': `${a.code} / ${b.code}`,
      'AWS calls (a)': total(a),
      'AWS calls (b)': total(b),
      'difference (a − b)': total(a) - total(b),
      'STS calls (a / b)': `${sts(a)} / ${sts(b)}`,
      'roles assumed in each member (bound: 1)': MEMBERS.map(assumedIn).join(', '),
      'STS calls served by the hub / each member': `${stsOf(HUB)} / ${MEMBERS.map(stsOf).join(', ')}`,
      'throttled (a / b)': `${a.throttled} / ${b.throttled}`,
      [`wall s (a), median of ${opts.runs}`]: seconds(wa),
      [`wall s (b), median of ${opts.runs}`]: seconds(wb),
      'wall (a) / (b)': Number((wa / wb).toFixed(2)),
    });
    for (const op of [...new Set([...Object.keys(a.counts), ...Object.keys(b.counts)])].sort()) {
      const row = byOperation.get(op) ?? { 'service:operation': op };
      const [ca, cb] = [a.counts[op] ?? 0, b.counts[op] ?? 0];
      row[`(a) ${n}`] = ca;
      row[`(b) ${n}`] = cb;
      row[`a − b, ${n}`] = ca - cb;
      byOperation.set(op, row);
    }
  }
  return { summary, calls: [...byOperation.values()] };
}

/**
 * An upgrade in member account MEMBERS[0] long enough to outlast its sessions: one cluster of
 * `nodegroups` node groups (3 nodes each) rolled one at a time, merged to the newest release, with
 * the action on the simulator's clock (600×) and sessions judged by it (`sharedClock`). `started`
 * gets the simulator as soon as it runs (the caller closes it).
 */
export async function longUpgrade(nodegroups: number, started: (sim: Simulator) => void): Promise<{ sim: Simulator; run: ActionRun }> {
  const account = MEMBERS[0]!;
  const [from, to] = releasesOf('AL2023_x86_64_STANDARD', '1.33')
    .slice(-2)
    .map((r) => r.releaseVersion) as [string, string];
  const big: SimCluster = {
    name: 'big',
    region: 'us-east-1',
    version: '1.33',
    nodegroups: Array.from({ length: nodegroups }, (_, i) => ({
      name: `ng-${i}`,
      amiType: 'AL2023_x86_64_STANDARD',
      version: '1.33',
      releaseVersion: from,
      desiredSize: 3,
    })),
  };
  const pin = (release: string) =>
    renderManifest({
      cluster: 'big',
      region: 'us-east-1',
      nodegroups: Object.fromEntries(big.nodegroups.map((n) => [n.name, { kubernetesVersion: '1.33', releaseVersion: release }])),
    });
  const path = `.github/eks-ami-drift/${account}/us-east-1/big.yaml`;
  const sim = await startSimulator(
    { accountId: HUB, clusters: [], parameters: amazonLinuxParameters() },
    {
      clockSpeed: 600,
      sharedClock: true,
      github: { files: { [path]: pin(from) } },
      members: [{ accountId: account, fleet: { clusters: [big], parameters: [] }, role: { name: 'eks-ami-drift' } }],
    },
  );
  started(sim);
  const sha = sim.github.push('main', { [path]: pin(to) });
  const run = await runAction({
    inputs: { command: 'upgrade', accounts: account, 'account-role': 'eks-ami-drift', regions: 'us-east-1', 'poll-interval': '30s', 'max-parallel': '1' },
    env: { ...sim.env(), AWS_REGION: 'us-east-1', GITHUB_SHA: sha },
    eventName: 'push',
    clock: sim.world.clock,
  });
  return { sim, run };
}

/** Long upgrades in one member account: the roles assumed against the bound, 1 + one per 55 minutes of the run. */
export async function sessionsBench(sizes: number[], log: (line: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  for (const nodegroups of sizes) {
    let sim: Simulator | undefined;
    try {
      const { sim: s, run } = await longUpgrade(nodegroups, (started) => (sim = started));
      const assumed = s.identity.assumedRoles.filter((r) => r.account === MEMBERS[0]).map((r) => r.at);
      const calls = s.log.filter((l) => l.account === MEMBERS[0]);
      const minutes = (s.world.clock.at(calls.at(-1)!.at) - assumed[0]!) / 60_000;
      log(`accounts: upgrade of ${nodegroups} node groups, ${minutes.toFixed(1)} virtual min, ${assumed.length} AssumeRole`);
      rows.push({
        'node groups rolled': nodegroups,
        'exit code': run.code,
        'run, virtual min': Number(minutes.toFixed(1)),
        AssumeRole: assumed.length,
        'bound: 1 + run / 55 min': 1 + Math.floor(minutes / 55),
        'assumed at, virtual min': assumed.map((t) => ((t - assumed[0]!) / 60_000).toFixed(1)).join(', '),
        'calls refused as expired': calls.filter((l) => l.error === 'ExpiredTokenException').length,
      });
    } finally {
      await sim?.close();
    }
  }
  return rows;
}
