import { afterEach, describe, expect, it } from '@jest/globals';
import type { CheckReport } from '../../src/model/check-report.js';
import type { UpgradeReport } from '../../src/model/upgrade-report.js';
import type { FleetSpec, SimCluster } from '../sim/fleet.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { runAction } from '../sim/run-action.js';
import { startSimulator, type Simulator } from '../sim/server.js';

/*
 * Issue 26's accounts, end to end through dist/index.js as a runner runs it: the job's credentials
 * (the hub, 111111111111) assume `account-role` in three member accounts, each with clusters in two
 * regions, and a fourth whose role trusts nobody. One report, one pull request per cluster under
 * per-account manifests, and the upgrade of one cluster in a member account.
 */
const HUB = '111111111111';
const [A, B, C, REFUSING] = ['222222222222', '333333333333', '444444444444', '555555555555'];
const releases = releasesOf('AL2023_x86_64_STANDARD', '1.33');
const [OLD, NEW] = [releases.at(-2)!.releaseVersion, releases.at(-1)!.releaseVersion];

const cluster = (name: string, region: string, release = OLD): SimCluster => ({
  name,
  region,
  version: '1.33',
  nodegroups: [{ name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: release, desiredSize: 2 }],
  autoscaler: { namespace: 'kube-system', name: 'cluster-autoscaler', labels: { app: 'cluster-autoscaler' }, replicas: 2 },
});
const fleet = (clusters: SimCluster[]): FleetSpec => ({ clusters, parameters: [] });

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(): Promise<Simulator> {
  sim = await startSimulator(
    // The hub has a cluster of its own: with `accounts`, only the member accounts are read.
    { accountId: HUB, clusters: [cluster('hub-tools', 'us-east-1')], parameters: amazonLinuxParameters() },
    {
      clockSpeed: 300,
      github: { files: {} },
      members: [
        // A and B each have a cluster named `shared` in us-east-1: two clusters, two pull requests.
        { accountId: A, fleet: fleet([cluster('shared', 'us-east-1'), cluster('payments', 'eu-west-1')]), role: { name: 'eks-ami-drift' } },
        { accountId: B, fleet: fleet([cluster('shared', 'us-east-1'), cluster('search', 'eu-west-1', NEW)]), role: { name: 'eks-ami-drift' } },
        { accountId: C, fleet: fleet([cluster('ledger', 'eu-west-1')]), role: { name: 'eks-ami-drift' } },
        { accountId: REFUSING, fleet: fleet([cluster('secret', 'us-east-1')]), role: { name: 'eks-ami-drift', trusts: 'nobody' } },
      ],
    },
  );
  return sim;
}

const accountInputs = { accounts: [A, B, C, REFUSING].join(','), 'account-role': 'eks-ami-drift', regions: 'us-east-1,eu-west-1' };
const env = (s: Simulator, extra: Record<string, string> = {}) => ({ ...s.env(), AWS_REGION: 'us-east-1', ...extra });

describe('accounts: one run over many AWS accounts, through dist/', () => {
  it('checks every member account into one report, a pull request a cluster under per-account manifests, and names the account it cannot assume', async () => {
    const s = await start();
    const run = await runAction({ inputs: { ...accountInputs, 'on-drift': 'pull-request' }, env: env(s), clock: s.world.clock });
    const report = JSON.parse(run.outputs.report ?? '{}') as CheckReport;

    // The refusing account fails the step, named with its role; every other account was checked.
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`account ${REFUSING}: role arn:aws:iam::${REFUSING}:role/eks-ami-drift could not be assumed: AccessDenied`);
    expect(report.accounts).toEqual([
      { account: A, role: `arn:aws:iam::${A}:role/eks-ami-drift`, clusters: 2, error: null },
      { account: B, role: `arn:aws:iam::${B}:role/eks-ami-drift`, clusters: 2, error: null },
      { account: C, role: `arn:aws:iam::${C}:role/eks-ami-drift`, clusters: 1, error: null },
      { account: REFUSING, role: `arn:aws:iam::${REFUSING}:role/eks-ami-drift`, clusters: 0, error: expect.stringContaining('AccessDenied') },
    ]);
    expect(report.nodegroups.map((n) => [n.account, n.region, n.cluster, n.status])).toEqual([
      [A, 'eu-west-1', 'payments', 'drift'],
      [A, 'us-east-1', 'shared', 'drift'],
      [B, 'eu-west-1', 'search', 'up-to-date'],
      [B, 'us-east-1', 'shared', 'drift'],
      [C, 'eu-west-1', 'ledger', 'drift'],
    ]);
    expect(report.counts).toMatchObject({ drift: 4, 'up-to-date': 1 });

    // One pull request per drifted cluster, its manifest under the account, its branch and title naming it.
    const prs = s.github.pulls().filter((p) => p.state === 'open');
    expect(prs.map((p) => p.pull!.head).sort()).toEqual([
      `eks-ami-drift/${A}/eu-west-1/payments`,
      `eks-ami-drift/${A}/us-east-1/shared`,
      `eks-ami-drift/${B}/us-east-1/shared`,
      `eks-ami-drift/${C}/eu-west-1/ledger`,
    ]);
    const sharedInA = prs.find((p) => p.pull!.head === `eks-ami-drift/${A}/us-east-1/shared`)!;
    expect(sharedInA.title).toBe(`Upgrade EKS node groups of shared (us-east-1, account ${A}): general`);
    expect(s.github.filesAt(`eks-ami-drift/${A}/us-east-1/shared`).get(`.github/eks-ami-drift/${A}/us-east-1/shared.yaml`)).toContain(`releaseVersion: ${NEW}`);
    expect(report.proposals.map((p) => [p.account, p.cluster, p.result])).toEqual([
      [A, 'payments', 'created'],
      [A, 'shared', 'created'],
      [B, 'search', 'none'],
      [B, 'shared', 'created'],
      [C, 'ledger', 'created'],
    ]);

    // Each pull request lists the release between (the notes read from upstream once for the whole run, not once an account).
    expect(sharedInA.body).toContain(NEW.split('-')[1]!);
    expect(sharedInA.body).toContain(`Newer EKS-optimized AMI releases are published for 1 node group(s) of **shared** (us-east-1, account ${A}).`);
    expect(s.github.upstreamRequests()).toEqual([{ method: 'GET', path: '/repos/awslabs/amazon-eks-ami/releases', status: 200 }]);

    // The summary: the accounts at a glance, and each cluster under its account.
    expect(run.summary).toContain('### Accounts');
    expect(run.summary).toContain(
      `| ${REFUSING} | arn:aws:iam::${REFUSING}:role/eks-ami-drift | — | ❌ role arn:aws:iam::${REFUSING}:role/eks-ami-drift could not be assumed`,
    );
    expect(run.summary).toContain(`<b>shared</b> (us-east-1 · account ${B})`);
    // The matrix: one entry per cluster, each with its account.
    expect(JSON.parse(run.outputs.matrix!)).toEqual({
      include: expect.arrayContaining([
        { cluster: 'shared', region: 'us-east-1', account: A },
        { cluster: 'shared', region: 'us-east-1', account: B },
      ]),
    });

    // The hub's own cluster was not read; each member role assumed once (the refusing one tried once).
    expect(report.clusters.some((c) => c.cluster === 'hub-tools')).toBe(false);
    const assumed = s.identity.assumedRoles.map((r) => r.account).sort();
    expect(assumed).toEqual([A, B, C]);
    expect(s.log.filter((l) => l.operation === 'AssumeRole').length).toBe(4);
  }, 120_000);

  it('upgrades a merged cluster of a member account through its role, and leaves the same-named cluster of another account alone', async () => {
    const s = await start();
    const checked = await runAction({ inputs: { ...accountInputs, 'on-drift': 'pull-request' }, env: env(s), clock: s.world.clock });
    expect(checked.code).toBe(1);
    const pr = s.github.pulls().find((p) => p.pull!.head === `eks-ami-drift/${A}/us-east-1/shared`)!;
    const sha = s.github.merge(pr.number);

    const run = await runAction({
      inputs: { command: 'upgrade', accounts: `${A},${B}`, 'account-role': 'eks-ami-drift', regions: 'us-east-1', 'poll-interval': '30s' },
      env: env(s, { GITHUB_SHA: sha }),
      eventName: 'push',
      clock: s.world.clock,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.outputs.upgrades ?? '{}') as UpgradeReport;
    expect(report.nodegroups.map((n) => [n.account, n.cluster, n.nodegroup, n.result, n.to?.releaseVersion ?? null])).toEqual([
      [A, 'shared', 'general', 'upgraded', NEW],
    ]);
    const release = (account: string) => s.members.get(account)!.world.fleet.clusters.find((c) => c.name === 'shared')!.nodegroups[0]!.releaseVersion;
    expect(release(A)).toBe(NEW);
    expect(release(B)).toBe(OLD);
    // Every EKS write went to account A.
    const writes = s.log.filter((l) => l.service === 'eks' && l.operation === 'UpdateNodegroupVersion');
    expect(writes.map((w) => w.account)).toEqual([A]);
    expect(run.summary).toContain(A);
  }, 180_000);

  it('a killed upgrade in a member account: the post step keeps the pause through that account’s role, and the next run restores it there', async () => {
    const s = await start();
    const checked = await runAction({ inputs: { ...accountInputs, 'on-drift': 'pull-request' }, env: env(s), clock: s.world.clock });
    expect(checked.code).toBe(1);
    const sha = s.github.merge(s.github.pulls().find((p) => p.pull!.head === `eks-ami-drift/${A}/us-east-1/shared`)!.number);
    const inputs = { command: 'upgrade', accounts: `${A},${B}`, 'account-role': 'eks-ami-drift', regions: 'us-east-1', 'poll-interval': '30s' };
    const world = s.members.get(A)!.world;
    const sharedOf = (account: string) => s.members.get(account)!.world.fleet.clusters.find((c) => c.name === 'shared')!;
    const autoscaler = (account: string) => [...s.members.get(account)!.world.kubeOf(sharedOf(account)).deployments.values()][0]!;

    const killed = await runAction({
      inputs,
      env: env(s, { GITHUB_SHA: sha }),
      eventName: 'push',
      clock: s.world.clock,
      killWhen: /shared\/general: (scale up|upgrade) ·/,
    });
    expect(killed.signal).toBe('SIGTERM');
    expect(autoscaler(A).spec?.replicas).toBe(0);
    expect(autoscaler(B).spec?.replicas).toBe(2);
    // The pause is recorded with its account, for the post step to reach the cluster through that account's role.
    expect(JSON.parse(killed.state.pauses!)).toEqual([expect.objectContaining({ account: A, cluster: 'shared', region: 'us-east-1' })]);

    const post = await runAction({ inputs, env: env(s, { GITHUB_SHA: sha }), eventName: 'push', clock: s.world.clock, postOf: killed });
    expect(post.code).toBe(0);
    expect(post.stdout).toContain(`${A}/shared: cluster-autoscaler kube-system/cluster-autoscaler: stays paused: EKS is still updating general`);
    expect(autoscaler(A).spec?.replicas).toBe(0);

    // Two hours later EKS has long finished the update the killed job started: the next run restores the pause it left, in A.
    s.world.clock.advance(2 * 3600_000);
    const rerun = await runAction({ inputs, env: env(s, { GITHUB_SHA: sha }), eventName: 'push', clock: s.world.clock });
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain(`::warning::${A}: shared: cluster-autoscaler kube-system/cluster-autoscaler paused since`);
    expect(rerun.stdout).toContain("restored to 2 replicas (an earlier run's job was lost before it could restore it)");
    expect(rerun.stdout).toContain(`${A}: plan: shared/general: up-to-date: already at ${NEW}`);
    expect(world.updates).toHaveLength(1);
    expect(sharedOf(A).nodegroups[0]!.releaseVersion).toBe(NEW);
    expect(autoscaler(A).spec?.replicas).toBe(2);
    expect(sharedOf(B).nodegroups[0]!.releaseVersion).toBe(OLD);
  }, 180_000);
});
