import { afterEach, describe, expect, it } from '@jest/globals';
import { renderManifest } from '../../src/repo/manifest.js';
import type { UpgradeReport } from '../../src/model/upgrade-report.js';
import type { SimCluster, SimOptions } from '../sim/fleet.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { runAction, type RunOptions } from '../sim/run-action.js';
import { startSimulator, type Simulator } from '../sim/server.js';

const [from, , to] = releasesOf('AL2023_x86_64_STANDARD', '1.33')
  .slice(-3)
  .map((r) => r.releaseVersion) as [string, string, string];
const PATH = '.github/eks-ami-drift/us-east-1/prod.yaml';
const ROLE = 'arn:aws:iam::123456789012:role/eks-ami-drift-upgrade';
const MINUTE = 60_000;

const manifest = (names: string[], release: string) =>
  renderManifest({
    cluster: 'prod',
    region: 'us-east-1',
    nodegroups: Object.fromEntries(names.map((n) => [n, { kubernetesVersion: '1.33', releaseVersion: release }])),
  });

function prod(nodegroups: { name: string; nodes: number }[], extra: Partial<SimCluster> = {}): SimCluster {
  return {
    name: 'prod',
    region: 'us-east-1',
    version: '1.33',
    nodegroups: nodegroups.map((n) => ({
      name: n.name,
      amiType: 'AL2023_x86_64_STANDARD',
      version: '1.33',
      releaseVersion: from,
      desiredSize: n.nodes,
      maxSize: n.nodes + 2,
    })),
    autoscaler: { namespace: 'kube-system', name: 'cluster-autoscaler', labels: { app: 'cluster-autoscaler' }, replicas: 2 },
    ...extra,
  };
}

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(cluster: SimCluster, options: SimOptions = {}) {
  sim = await startSimulator(
    { clusters: [cluster], parameters: amazonLinuxParameters() },
    {
      github: {
        files: {
          [PATH]: manifest(
            cluster.nodegroups.map((n) => n.name),
            from,
          ),
        },
      },
      ...options,
    },
  );
  return sim;
}

const autoscaler = (s: Simulator) => [...s.world.kubeOf(s.world.fleet.clusters[0]!).deployments.values()][0]!;
const report = (outputs: Record<string, string>) => JSON.parse(outputs.upgrades ?? '{}') as UpgradeReport;

/** Runs the action as the runner would, on the simulator's virtual clock. */
function run(s: Simulator, sha: string, inputs: Record<string, string>, extra: Partial<RunOptions> = {}) {
  return runAction({
    inputs: { regions: 'us-east-1', ...inputs },
    env: { ...s.env(), AWS_REGION: 'us-east-1', GITHUB_SHA: sha },
    eventName: 'push',
    clock: s.world.clock,
    ...extra,
  });
}

/** Lets virtual time pass (the simulator's updates move on at each request). */
async function until(s: Simulator, virtualMs: number) {
  while (s.world.clock.now() < virtualMs) await new Promise((r) => setTimeout(r, 20));
  s.world.advance();
}

describe('an upgrade that outlasts its credentials', () => {
  it('runs three hours on one-hour sessions and five-minute OIDC tokens with role-to-assume, and restores cluster-autoscaler', async () => {
    const names = ['general', 'batch', 'system'];
    const s = await start(prod(names.map((name) => ({ name, nodes: 38 }))), {
      clockSpeed: 900,
      sharedClock: true,
      identity: { role: { arn: ROLE, maxSessionSeconds: 3600 }, oidcTokenSeconds: 300 },
    });
    const sha = s.github.push('main', { [PATH]: manifest(names, to) });
    // No credentials in the environment at all: everything the action does is signed with sessions it
    // assumed itself.
    const env = { ...s.env(), AWS_REGION: 'us-east-1', GITHUB_SHA: sha, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' };
    const started = s.world.clock.now();
    const main = await runAction({
      inputs: { command: 'upgrade', regions: 'us-east-1', 'role-to-assume': ROLE, 'poll-interval': '1m' },
      env,
      eventName: 'push',
      clock: s.world.clock,
      recordLateTimers: true,
    });
    expect(main.stderr).toBe('');
    expect(main.code).toBe(0);
    expect(report(main.outputs).nodegroups.map((n) => [n.nodegroup, n.result])).toEqual(names.map((n) => [n, 'upgraded']));

    // it really took hours of (virtual) time, several sessions, many OIDC tokens
    const updates = s.world.updates;
    const hours = (Math.max(...updates.map((u) => u.endedAt!)) - started) / (60 * MINUTE);
    expect(hours).toBeGreaterThan(3);
    expect(s.identity.assumed.length).toBeGreaterThanOrEqual(4);
    expect(s.identity.assumed.every((a) => a.sessionName === 'eks-ami-drift' && a.durationSeconds === 3600)).toBe(true);
    expect(s.identity.oidcIssued.every((o) => o.audience === 'sts.amazonaws.com')).toBe(true);
    // and no request ever met an expired session or token
    expect(s.log.filter((l) => l.status >= 400)).toEqual([]);
    expect(s.kubeLog.filter((k) => k.status === 401)).toEqual([]);
    // every AWS request and Kubernetes token was signed with an assumed session, never static keys
    expect(s.log.filter((l) => l.service !== 'sts').length).toBeGreaterThan(100);

    // cluster-autoscaler: zero throughout every update, restored to its count after
    for (const u of updates) expect(u.autoscalerReplicas.every((n) => n === 0)).toBe(true);
    expect(autoscaler(s).spec?.replicas).toBe(2);
    expect(autoscaler(s).metadata.annotations).toEqual({});
    // the pause's lease was renewed at least every minute while the job held it (the README: every 30
    // seconds), measured in the clock the renewal uses: the time the action wrote into each renewal,
    // which is what a later run compares with. The virtual clock turns each real millisecond the
    // action's process cannot run into 900 (33 ms of a busy machine make a timer 30 s late, in
    // production 33 ms): from each gap, the lateness the clock added to the renewal timer that ended it
    // is taken (fast-clock.mjs records it), and nothing else.
    const renewals = s.world
      .kubeOf(s.world.fleet.clusters[0]!)
      .writes.flatMap((w) => (Array.isArray(w.body) ? (w.body as { path?: string; value?: string }[]) : []))
      .filter((op) => op.path === '/metadata/annotations/eks-ami-drift~1lease-renewed-at')
      .map((op) => Date.parse(op.value!))
      .sort((a, b) => a - b);
    expect(renewals.length).toBeGreaterThan(3 * 60);
    const RENEWAL_MS = 30_000; // the README's "every 30 seconds"
    /** How late the clock fired the renewal timer whose callback stamped `t` (0 when on time; the least, if several fired then). */
    const lateness = (t: number) => {
      const late = main.lateTimers!.filter(([ms, , fired]) => ms === RENEWAL_MS && Math.abs(fired - t) <= 2 * 900).map(([, due, fired]) => fired - due);
      return late.length > 0 ? Math.min(...late) : 0;
    };
    const gaps = renewals.slice(1).map((t, i) => t - lateness(t) - renewals[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(MINUTE);
    // the credentials never showed in the log
    expect(main.stdout).not.toMatch(/ASIA[0-9A-F]{16}/);

    // the post step, hours after the job began, has nothing left to do
    const post = await runAction({
      inputs: { command: 'upgrade', regions: 'us-east-1', 'role-to-assume': ROLE },
      env,
      eventName: 'push',
      postOf: main,
      clock: s.world.clock,
    });
    expect(post.code).toBe(0);
    expect(post.stdout).not.toContain('::warning::');
  }, 120_000);

  it('warns before the pause when static one-hour session credentials may not last the plan', async () => {
    const s = await start(
      prod([
        { name: 'general', nodes: 2 },
        { name: 'batch', nodes: 2 },
      ]),
      { clockSpeed: 600, identity: { staticSessionSeconds: 3600 } },
    );
    const sha = s.github.push('main', { [PATH]: manifest(['general', 'batch'], to) });
    const main = await run(s, sha, { command: 'upgrade', 'poll-interval': '100ms' }, { clock: undefined });
    expect(main.code).toBe(0);
    // two node groups, each its 40-minute wait timeout plus the 10-minute health gate
    const warning = main.stdout.indexOf('::warning::The plan may take up to 1h 40m');
    const paused = main.stdout.indexOf('paused cluster-autoscaler');
    expect(warning).toBeGreaterThan(-1);
    expect(warning).toBeLessThan(paused);
    expect(main.stdout).toContain('Set role-to-assume');
    expect(main.summary).toContain('> [!WARNING]');
    expect(report(main.outputs).warnings).toEqual([expect.stringContaining('session credentials in the environment')]);
  }, 60_000);
});

describe('a pause whose job is gone', () => {
  it('is left by a runner that vanished, reported by check, restored by a later upgrade only once stale and idle', async () => {
    const s = await start(prod([{ name: 'general', nodes: 2 }]), { clockSpeed: 30, sharedClock: true });
    const sha = s.github.push('main', { [PATH]: manifest(['general'], to) });
    const killed = await run(s, sha, { command: 'upgrade', 'poll-interval': '30s' }, { killWhen: /update \S+ started/, killSignal: 'SIGKILL' });
    expect(killed.signal).toBe('SIGKILL');
    const killedAt = s.world.clock.now();
    // no post step ran: cluster-autoscaler stays at zero with its record
    expect(autoscaler(s).spec?.replicas).toBe(0);
    expect(autoscaler(s).metadata.annotations?.['eks-ami-drift/paused-replicas']).toBe('2');

    // the check reports it (the update still runs: not stale) and changes nothing
    const writes = () => s.world.kubeOf(s.world.fleet.clusters[0]!).writes.length;
    const before = writes();
    const checked = await run(s, sha, { command: 'check' });
    expect(checked.code).toBe(0);
    const pauses = (JSON.parse(checked.outputs.report!) as { pauses: unknown }).pauses;
    expect(pauses).toEqual([
      expect.objectContaining({
        cluster: 'prod',
        deployment: 'kube-system/cluster-autoscaler',
        replicas: 2,
        stale: false,
        updateInProgress: true,
        outcome: 'reported',
      }),
    ]);
    expect(checked.summary).toContain('### cluster-autoscaler pauses');
    expect(writes()).toBe(before);

    // restore refuses while the update runs (EKS's scale down must not meet cluster-autoscaler): a
    // warning, not a failure, since the docs' restore workflow runs on a schedule and meets every upgrade
    const early = await run(s, sha, { command: 'restore', clusters: 'prod' });
    expect(early.code).toBe(0);
    expect(early.stdout).toContain('::warning::us-east-1/prod: cluster-autoscaler kube-system/cluster-autoscaler paused since');
    expect(early.stdout).toContain('a node group update is in progress');
    expect(autoscaler(s).spec?.replicas).toBe(0);

    // the update finishes on its own; the lease is younger than ten minutes: an upgrade leaves it
    await until(s, killedAt + 7 * MINUTE);
    expect(s.world.updates[0]!.status).toBe('Successful');
    const fresh = await run(s, sha, { command: 'upgrade' });
    expect(fresh.code).toBe(0);
    expect(report(fresh.outputs).pauses).toEqual([expect.objectContaining({ stale: false, outcome: 'left' })]);
    expect(autoscaler(s).spec?.replicas).toBe(0);

    // past ten minutes the lease is stale and no update runs: the next upgrade restores it first
    await until(s, killedAt + 11 * MINUTE);
    const later = await run(s, sha, { command: 'upgrade' });
    expect(later.code).toBe(0);
    expect(report(later.outputs).pauses).toEqual([expect.objectContaining({ stale: true, outcome: 'restored', replicas: 2 })]);
    expect(later.stdout).toMatch(/::warning::prod: cluster-autoscaler kube-system\/cluster-autoscaler paused since .* restored to 2 replicas/);
    expect(later.summary).toContain('**stale**');
    expect(autoscaler(s).spec?.replicas).toBe(2);
    expect(autoscaler(s).metadata.annotations).toEqual({});
  }, 60_000);

  it('is restored by command: restore once no update runs, or at once with force', async () => {
    const s = await start(prod([{ name: 'general', nodes: 2 }]), { clockSpeed: 60, sharedClock: true });
    const sha = s.github.push('main', { [PATH]: manifest(['general'], to) });
    await run(s, sha, { command: 'upgrade', 'poll-interval': '30s' }, { killWhen: /update \S+ started/, killSignal: 'SIGKILL' });
    expect(autoscaler(s).spec?.replicas).toBe(0);
    const forced = await run(s, sha, { command: 'restore', clusters: 'prod', force: 'true' });
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.outputs.pauses!)).toEqual([expect.objectContaining({ updateInProgress: true, outcome: 'restored', replicas: 2 })]);
    expect(forced.summary).toContain('1 of 1 paused cluster-autoscaler(s) restored.');
    expect(autoscaler(s).spec?.replicas).toBe(2);
    // a second press finds nothing to do
    const again = await run(s, sha, { command: 'restore', clusters: 'prod' });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('no cluster-autoscaler is paused');
  }, 60_000);
});

describe('a long update history, listed in no particular order', () => {
  /** 150 ended updates, oldest first, to releases older than the target (ListUpdates shuffles them). */
  const history = Array.from({ length: 150 }, (_, i) => ({
    releaseVersion: from,
    status: i % 7 === 0 ? ('Failed' as const) : ('Successful' as const),
    minutesAgo: (150 - i) * 24 * 60,
  }));

  it('resumes the running update on a re-run, among 150 past ones', async () => {
    const cluster = prod([{ name: 'general', nodes: 2 }]);
    cluster.nodegroups[0]!.history = history;
    const s = await start(cluster, { clockSpeed: 60, pageSize: 7 });
    const sha = s.github.push('main', { [PATH]: manifest(['general'], to) });
    const killed = await run(
      s,
      sha,
      { command: 'upgrade', 'poll-interval': '100ms' },
      { clock: undefined, killWhen: /update \S+ started/, killSignal: 'SIGKILL' },
    );
    expect(killed.signal).toBe('SIGKILL');
    const running = s.world.updates.find((u) => u.status === 'InProgress')!;
    const rerun = await run(s, sha, { command: 'upgrade', 'poll-interval': '100ms' }, { clock: undefined });
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain(`resuming the wait on update ${running.id}`);
    expect(report(rerun.outputs).nodegroups[0]).toMatchObject({ result: 'upgraded', resumed: true, updateId: running.id });
    expect(s.world.updates).toHaveLength(151);
    // every page of the history was read
    const listed = s.log.filter((l) => l.operation === 'ListUpdates' && l.status === 200);
    expect(listed.length).toBeGreaterThanOrEqual(Math.ceil(151 / 7));
    expect(autoscaler(s).spec?.replicas).toBe(2);
  }, 60_000);

  it('starts a new update on a re-run after a failure (a new idempotency token), among 150 past ones', async () => {
    const cluster = prod([{ name: 'general', nodes: 2 }]);
    cluster.nodegroups[0]!.history = history;
    const s = await start(cluster, {
      clockSpeed: 300,
      faults: { updateFailures: { 'prod/general': { errorCode: 'NodeCreationFailure', errorMessage: 'Instances failed to join the kubernetes cluster' } } },
    });
    const sha = s.github.push('main', { [PATH]: manifest(['general'], to) });
    const first = await run(s, sha, { command: 'upgrade', 'poll-interval': '100ms' }, { clock: undefined });
    expect(first.code).toBe(1);
    expect(report(first.outputs).nodegroups[0]!.errors).toEqual([expect.objectContaining({ errorCode: 'NodeCreationFailure' })]);
    const failed = s.world.updates.at(-1)!;
    s.setFaults({});
    const rerun = await run(s, sha, { command: 'upgrade', 'poll-interval': '100ms' }, { clock: undefined });
    expect(rerun.code).toBe(0);
    const retried = s.world.updates.at(-1)!;
    expect(retried.id).not.toBe(failed.id);
    expect(retried.token).not.toBe(failed.token);
    expect(report(rerun.outputs).nodegroups[0]).toMatchObject({ result: 'upgraded', resumed: false, updateId: retried.id });
    expect(s.world.updates).toHaveLength(152);
  }, 60_000);
});
