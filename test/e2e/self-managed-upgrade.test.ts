import { afterEach, describe, expect, it } from '@jest/globals';
import { renderManifest } from '../../src/repo/manifest.js';
import { decodeRecord } from '../../src/effects/self-managed-record.js';
import type { UpgradeReport } from '../../src/model/upgrade-report.js';
import type { Faults, FleetSpec, SimSelfManaged } from '../sim/fleet.js';
import { awsImageName } from '../sim/images.js';
import { placePods } from '../sim/pods.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { runAction } from '../sim/run-action.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import { mergeChange } from './prod-fixture.js';
import { readmePolicyActions, readmeRbacRules } from './readme.js';

/*
 * Issue 24's "Done when", end to end through dist/index.js as a runner runs it, on the simulator's
 * virtual clock: a merged pull request pins a new image for a four-instance self-managed group; the
 * upgrade pauses cluster-autoscaler, surges, drains each old node through the eviction API under a
 * budget allowing one disruption, terminates it, puts the group back, gates it on health, restores
 * cluster-autoscaler and comments on the pull request.
 */

const releases = releasesOf('AL2023_x86_64_STANDARD', '1.33');
const [oldRelease, newRelease] = [releases.at(-2)!.releaseVersion, releases.at(-1)!.releaseVersion];
const MANIFEST = '.github/eks-ami-drift/us-east-1/prod.yaml';
const SUSPENDED = ['AZRebalance', 'ReplaceUnhealthy', 'HealthCheck', 'AlarmNotification', 'ScheduledActions'];

/** Where the group's instances come from: a launch template version number (by default), `$Default`, or a launch configuration. */
type Source = 'number' | 'default' | 'launch-configuration';
const OLD_IMAGE = { aws: awsImageName('AL2023_x86_64_STANDARD', '1.33', oldRelease) };
const sources: Record<Source, Pick<SimSelfManaged, 'launchTemplate' | 'launchConfiguration'>> = {
  number: { launchTemplate: { id: 'lt-0workers000000001', name: 'workers', version: '3', image: OLD_IMAGE } },
  default: { launchTemplate: { id: 'lt-0workers000000001', name: 'workers', version: '$Default', image: OLD_IMAGE } },
  'launch-configuration': { launchConfiguration: { name: 'workers-lc', image: OLD_IMAGE } },
};

function fleet(source: Source = 'number'): FleetSpec {
  return {
    clusters: [
      {
        name: 'prod',
        region: 'us-east-1',
        version: '1.33',
        nodegroups: [],
        selfManaged: [{ name: 'workers', desiredSize: 4, ...sources[source], live: { min: 2, max: 4, eksctl: true } }],
        pdbs: [{ name: 'web', namespace: 'shop', matchLabels: { app: 'web' }, maxUnavailable: 1 }],
      },
    ],
    parameters: amazonLinuxParameters(),
  };
}

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const manifest = (imageId: string) => renderManifest({ cluster: 'prod', region: 'us-east-1', nodegroups: { workers: { kubernetesVersion: '1.33', imageId } } });

async function start(faults: Faults = {}, source: Source = 'number') {
  const s = await startSimulator(fleet(source), { clockSpeed: 300, faults, github: { files: {} } });
  sim = s;
  const cluster = s.world.fleet.clusters[0]!;
  const state = s.world.kubeOf(cluster);
  // Eight web pods of one ReplicaSet, two on each of the group's four nodes.
  placePods(state, s.world.clock, { namespace: 'shop', name: 'web' }, 8, [...state.nodes.keys()].sort());
  const image = (release: string) => s.world.images.resolve('us-east-1', { aws: awsImageName('AL2023_x86_64_STANDARD', '1.33', release) }).id;
  const [oldImage, newImage] = [image(oldRelease), image(newRelease)];
  s.github.push('main', { [MANIFEST]: manifest(oldImage) }, 'octocat', 'pin prod');
  return { s, cluster, state, oldImage, newImage, group: () => s.world.groupOf('us-east-1', 'workers')! };
}

const inputs = (extra: Record<string, string> = {}) => ({ command: 'upgrade', regions: 'us-east-1', 'poll-interval': '30s', ...extra });
const env = (s: Simulator, sha: string) => ({ ...s.env(), AWS_REGION: 'us-east-1', GITHUB_SHA: sha });
const report = (outputs: Record<string, string>) => JSON.parse(outputs.upgrades ?? '{}') as UpgradeReport;
/** The merged upgrade, its runner gone (SIGKILL: no post step) right after it asked for the surge. */
const killAfterSurge = (s: Simulator, sha: string) =>
  runAction({
    inputs: inputs(),
    env: env(s, sha),
    eventName: 'push',
    clock: s.world.clock,
    killWhen: /prod\/workers: surge: desired 4 → 8/,
    killSignal: 'SIGKILL',
  });

describe('a self-managed group upgraded on merge, through dist/', () => {
  it('ends with four instances on the new image, every old node drained through the eviction API first, the group put back', async () => {
    const { s, cluster, state, oldImage, newImage, group } = await start();
    const oldIds = group().instances.map((i) => i.id);
    const oldNodes = group().instances.map((i) => i.node);
    const sha = mergeChange(s, 'eks-ami-drift/us-east-1/prod', { [MANIFEST]: manifest(newImage) }, 'eks-ami-drift: upgrade prod');
    const before = s.world.autoscalerReplicas(cluster);
    const run = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push', clock: s.world.clock });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    const r = report(run.outputs);
    expect(r.nodegroups.map((n) => [n.nodegroup, n.result, n.from?.releaseVersion, n.to?.releaseVersion])).toEqual([
      ['workers', 'upgraded', oldImage, newImage],
    ]);
    expect(r.nodegroups[0]!.reason).toContain('4 instance(s) replaced');
    expect(r.nodegroups[0]!.reason).toContain('health gate passed');

    // Four instances on the new image, none of the old ones; capacity, minimum and maximum as they were;
    // nothing suspended; no record left.
    const g = group();
    const staying = g.instances.filter((i) => i.lifecycle !== 'Terminating');
    expect(staying.map((i) => i.imageId)).toEqual([newImage, newImage, newImage, newImage]);
    expect(staying.some((i) => oldIds.includes(i.id))).toBe(false);
    expect([g.desired, g.min, g.max]).toEqual([4, 2, 4]);
    expect([...g.suspended.keys()]).toEqual([]);
    expect([...g.tags.keys()].filter((k) => k.startsWith('eks-ami-drift/'))).toEqual([]);

    // Every old node cordoned and drained before its instance was terminated; no pod deleted outside the eviction API.
    const lifecycle = s.world.podLifecycle(cluster);
    oldIds.forEach((id, i) => {
      const terminated = g.activities.find((a) => a.description === `Terminating EC2 instance: ${id}`)!;
      const cordoned = state.writes.find((w) => w.what.startsWith('PATCH node') && w.what.includes(oldNodes[i]!));
      expect(cordoned!.at).toBeLessThanOrEqual(terminated.start);
      const evicted = lifecycle.removals.filter((x) => x.node === oldNodes[i]);
      expect(evicted.map((x) => x.via)).toEqual(['eviction', 'eviction']);
      for (const x of evicted) expect(x.at).toBeLessThanOrEqual(terminated.start);
    });
    expect(s.kubeLog.filter((c) => c.method === 'DELETE')).toEqual([]);
    // The budget allowing one disruption was never exceeded: each accepted eviction left 7 of 8 healthy.
    const accepted = lifecycle.evictions.filter((e) => e.status === 201);
    expect(accepted).toHaveLength(8);
    for (const e of accepted) expect(e.budget).toMatchObject({ name: 'web', desiredHealthy: 7, currentHealthy: 7, disruptionsAllowed: 0 });

    // cluster-autoscaler at zero from before the first write to the group until after the last, then back.
    const writes = s.log.filter((l) => l.service === 'autoscaling' && !l.operation.startsWith('Describe'));
    expect(writes.map((w) => w.operation)).toEqual(
      expect.arrayContaining(['CreateOrUpdateTags', 'UpdateAutoScalingGroup', 'SuspendProcesses', 'TerminateInstanceInAutoScalingGroup', 'ResumeProcesses']),
    );
    const patches = state.writes.filter((w) => w.what.includes('deployments') && w.what.includes('cluster-autoscaler'));
    expect(patches.length).toBeGreaterThanOrEqual(2);
    const [paused, restored] = [patches[0]!.at, patches.at(-1)!.at];
    // (the AWS log's times are wall-clock ms, the Kubernetes writes' virtual ones: ./sim/world.ts Clock.at converts)
    for (const w of writes) expect([w.operation, s.world.clock.at(w.at) > paused && s.world.clock.at(w.at) < restored]).toEqual([w.operation, true]);
    expect(s.world.autoscalerReplicas(cluster)).toBe(before);
    expect(r.autoscalers).toEqual([expect.objectContaining({ deployment: 'kube-system/cluster-autoscaler', outcome: 'restored' })]);

    // What it did, at a glance, and on the merged pull request.
    expect(run.stdout).toContain(`prod/workers: suspended ${SUSPENDED.join(', ')}`);
    expect(run.stdout).toContain('prod/workers: surge: desired 4 → 8, maximum 4 → 8 for the roll');
    expect(run.stdout).toMatch(/prod\/workers: surge · new nodes \d\/4 Ready/);
    expect(run.summary).toContain('✅ Every planned node group update succeeded.');
    const pr = s.github.pulls()[0]!;
    expect(pr.comments).toHaveLength(1);
    expect(pr.comments[0]!.body).toContain('workers');
    expect(pr.comments[0]!.body).toContain('4 instance(s) replaced');
  });
});

describe('a self-managed upgrade in a dry run, through dist/', () => {
  it('shows per group the instances, the surge, the template change and the expected duration, and changes nothing', async () => {
    const { s, cluster, state, newImage, group } = await start();
    const sha = mergeChange(s, 'eks-ami-drift/us-east-1/prod', { [MANIFEST]: manifest(newImage) }, 'eks-ami-drift: upgrade prod');
    const run = await runAction({ inputs: inputs({ 'dry-run': 'true' }), env: env(s, sha), eventName: 'push', clock: s.world.clock });
    expect(run.code).toBe(0);
    const [n] = report(run.outputs).nodegroups;
    expect(n!.result).toBe('planned');
    expect(n!.reason).toContain(
      '4 instance(s) to replace (8 pod(s) to evict); surge: desired 4 → 8, maximum 4 → 8 for the roll, then back; ' +
        `launch template lt-0workers000000001 version (new) from version 3 with ImageId ${newImage}; the group's Version 3 → (new); ` +
        // 30 s polls: 3 min to Ready, 4 × 30 s, 8 × 1 min, 1 min (docs/self-managed.md)
        'expected about 14m (assuming 3m from launch to Ready and 1m a pod',
    );
    expect(run.summary).toContain('4 instance(s) to replace');
    expect(s.log.filter((l) => l.service === 'autoscaling' && !l.operation.startsWith('Describe'))).toEqual([]);
    expect(s.log.filter((l) => l.operation === 'CreateLaunchTemplateVersion' && l.params.DryRun !== 'true')).toEqual([]);
    expect(state.writes).toEqual([]);
    expect(group().desired).toBe(4);
    expect(s.world.autoscalerReplicas(cluster)).toBe(1);
  });
});

describe('a self-managed upgrade killed and run again, through dist/', () => {
  it('killed (SIGKILL, no post step) after the surge, the next run finishes from the record: one surge, capacity back, nothing suspended', async () => {
    const { s, newImage, group } = await start();
    const sha = mergeChange(s, 'eks-ami-drift/us-east-1/prod', { [MANIFEST]: manifest(newImage) }, 'eks-ami-drift: upgrade prod');
    const killed = await killAfterSurge(s, sha);
    expect(killed.code).not.toBe(0);
    // What the killed run left: the record, the processes suspended, the surge asked for.
    const record = decodeRecord([...group().tags].map(([Key, Value]) => ({ Key, Value })));
    expect(record).toMatchObject({ step: 'surge', image: newImage, desired: 4, min: 2, max: 4 });
    expect([...group().suspended.keys()].sort()).toEqual([...SUSPENDED].sort());
    expect(group().desired).toBe(8);

    const rerun = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push', clock: s.world.clock });
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('prod/workers: resuming the replacement to');
    expect(report(rerun.outputs).nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([['workers', 'upgraded']]);
    const g = group();
    expect(g.instances.filter((i) => i.lifecycle !== 'Terminating').map((i) => i.imageId)).toEqual([newImage, newImage, newImage, newImage]);
    expect([g.desired, g.min, g.max]).toEqual([4, 2, 4]);
    expect([...g.suspended.keys()]).toEqual([]);
    expect([...g.tags.keys()].filter((k) => k.startsWith('eks-ami-drift/'))).toEqual([]);
    // One surge in all: the re-run asked for no second one.
    const surges = s.log.filter((l) => l.operation === 'UpdateAutoScalingGroup' && l.params.DesiredCapacity === '8');
    expect(surges).toHaveLength(1);
  });
});

describe('a self-managed group that cannot finish, through dist/', () => {
  it('a new node never Ready: the group fails naming it, cluster-autoscaler stays paused, and the post step undoes the group, then restores it', async () => {
    const { s, cluster, oldImage, newImage, group } = await start({ neverReadyGroups: ['workers'] });
    const oldIds = group().instances.map((i) => i.id);
    const sha = mergeChange(s, 'eks-ami-drift/us-east-1/prod', { [MANIFEST]: manifest(newImage) }, 'eks-ami-drift: upgrade prod');
    const main = await runAction({ inputs: inputs({ 'wait-timeout': '10m' }), env: env(s, sha), eventName: 'push', clock: s.world.clock });
    expect(main.code).toBe(1);
    const [n] = report(main.outputs).nodegroups;
    expect(n!.result).toBe('failed');
    expect(n!.reason).toMatch(/new nodes not Ready within 10m.*0\/4 Ready; not Ready: ip-/);
    // Held: the group is mid-replacement (surge), so cluster-autoscaler is not given it back yet.
    expect(report(main.outputs).autoscalers).toEqual([expect.objectContaining({ outcome: 'held' })]);
    expect(main.stdout).toContain('stays paused: self-managed group workers is mid-replacement (tag eks-ami-drift/replacing, step surge)');
    expect(s.world.autoscalerReplicas(cluster)).toBe(0);
    expect(group().desired).toBe(8);

    // The post step, as the runner runs it after the failed main step: the group undone first, then cluster-autoscaler.
    const post = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push', postOf: main, clock: s.world.clock });
    expect(post.code).toBe(0);
    expect(post.stdout).toContain('self-managed group workers undone');
    const g = group();
    // The old instances serve on; the never-Ready surplus is gone; capacity, processes and tags as they were.
    const staying = g.instances.filter((i) => i.lifecycle !== 'Terminating');
    expect(staying.map((i) => i.id).sort()).toEqual([...oldIds].sort());
    expect(staying.every((i) => i.imageId === oldImage)).toBe(true);
    expect([g.desired, g.min, g.max]).toEqual([4, 2, 4]);
    expect([...g.suspended.keys()]).toEqual([]);
    expect([...g.tags.keys()].filter((k) => k.startsWith('eks-ami-drift/'))).toEqual([]);
    expect(s.world.autoscalerReplicas(cluster)).toBe(1);
  });
});

describe('a self-managed group proposed and then upgraded, through dist/', () => {
  it('the check pins its new image in the cluster’s pull request, with the release in a comment; merging it upgrades the group', async () => {
    const { s, oldImage, newImage, group } = await start();
    const checked = await runAction({
      inputs: { regions: 'us-east-1', clusters: 'prod', 'on-drift': 'pull-request' },
      env: { ...s.env(), AWS_REGION: 'us-east-1' },
      clock: s.world.clock,
    });
    expect(checked.stderr).toBe('');
    expect(checked.code).toBe(0);
    const row = (JSON.parse(checked.outputs.report ?? '{}') as { nodegroups: { nodegroup: string; status: string; reason: string; pinKey: string }[] })
      .nodegroups;
    expect(row.map((n) => [n.nodegroup, n.status, n.pinKey])).toEqual([['workers', 'drift', 'imageId']]);
    expect(row[0]!.reason).not.toContain('reported only');

    const pr = s.github.pulls()[0]!;
    expect(pr.pull?.head).toBe('eks-ami-drift/us-east-1/prod');
    const file = s.github.filesAt('eks-ami-drift/us-east-1/prod').get(MANIFEST)!;
    expect(file).toContain(`imageId: ${newImage} # ${newRelease.split('-')[0]}`);
    expect(file).not.toContain(oldImage);
    expect(pr.body).toContain('workers');

    const sha = s.github.merge(pr.number);
    const upgraded = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push', clock: s.world.clock });
    expect(upgraded.code).toBe(0);
    expect(report(upgraded.outputs).nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([['workers', 'upgraded']]);
    expect(
      group()
        .instances.filter((i) => i.lifecycle !== 'Terminating')
        .map((i) => i.imageId),
    ).toEqual([newImage, newImage, newImage, newImage]);
  });
});

describe('the documented policy and RBAC for self-managed groups are exactly what their upgrade needs', () => {
  const allow = [...readmePolicyActions('upgrade'), ...readmePolicyActions('self-managed')];
  const kubeAllow = [...readmeRbacRules(), ...readmeRbacRules('rbac:self-managed')];
  /** Runs the merged upgrade under `faults`: its result, and whether the group was changed at all. */
  async function upgradeWith(faults: Faults, source: Source = 'number') {
    const { s, newImage, oldImage, group } = await start(faults, source);
    const sha = mergeChange(s, 'eks-ami-drift/us-east-1/prod', { [MANIFEST]: manifest(newImage) }, 'eks-ami-drift: upgrade prod');
    const run = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push', clock: s.world.clock });
    const g = group();
    const untouched =
      g.instances.every((i) => i.imageId === oldImage) &&
      [g.desired, g.min, g.max].join() === '4,2,4' &&
      g.suspended.size === 0 &&
      (source === 'launch-configuration' ? g.launchConfiguration === 'workers-lc' : g.template?.version === sources[source].launchTemplate?.version) &&
      !g.tags.has('eks-ami-drift/replacing');
    return { s, run, untouched, recorded: g.tags.has('eks-ami-drift/replacing'), autoscaler: s.world.autoscalerReplicas(s.world.fleet.clusters[0]!) };
  }

  it('let the upgrade pass with the upgrade policy, the self-managed statements and both RBAC blocks only', async () => {
    const { run, untouched } = await upgradeWith({ allow, kubeAllow });
    expect(run.code).toBe(0);
    expect(untouched).toBe(false);
    expect(report(run.outputs).nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([['workers', 'upgraded']]);
    expect(readmeRbacRules('rbac:self-managed').sort()).toEqual(['create pods/eviction', 'delete pods', 'get nodes', 'patch nodes']);
  });

  /**
   * Each action's absence, and when it is found: before anything changes (the pre-flight reads or tries
   * it by dry run, or it is the first write: the record), or at the step that needs it, the group then
   * left as its record says for a re-run or restore (Auto Scaling has no dry run).
   */
  const needs: [action: string, before: boolean][] = [
    ['autoscaling:DescribeInstanceRefreshes', true],
    ['autoscaling:CreateOrUpdateTags', true],
    ['iam:PassRole', true],
    ['ec2:RunInstances', true],
    ['ec2:CreateLaunchTemplateVersion', true],
    ['autoscaling:UpdateAutoScalingGroup', false],
    ['autoscaling:SuspendProcesses', false],
    ['autoscaling:DescribeScalingActivities', false],
    ['autoscaling:TerminateInstanceInAutoScalingGroup', false],
    ['autoscaling:ResumeProcesses', false],
    ['autoscaling:DeleteTags', false],
  ];

  /** Actions only some groups need: [action, the group's source]; each found before any change. */
  const bySource: [action: string, source: Source][] = [
    ['ec2:ModifyLaunchTemplate', 'default'],
    ['autoscaling:CreateLaunchConfiguration', 'launch-configuration'],
  ];
  /** Actions only the undo needs (restore, the post step): what the roll made, deleted. */
  const undoOnly: [action: string, source: Source][] = [
    ['ec2:DeleteLaunchTemplateVersions', 'number'],
    ['autoscaling:DeleteLaunchConfiguration', 'launch-configuration'],
  ];

  it('the self-managed statements are exactly the actions tested here', () => {
    const tested = [...needs, ...bySource, ...undoOnly].map(([a]) => a).filter((a) => !readmePolicyActions('upgrade').includes(a));
    expect(readmePolicyActions('self-managed').sort()).toEqual(tested.sort());
  });

  it.each(bySource)('fail naming %s when it is removed, for a group on %s, before any change', async (action, source) => {
    const passing = await upgradeWith({ allow, kubeAllow }, source);
    expect([source, passing.run.code, passing.untouched]).toEqual([source, 0, false]);
    await sim?.close();
    const { run, untouched, autoscaler } = await upgradeWith({ allow: allow.filter((a) => a !== action), kubeAllow }, source);
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n').find((l) => l.startsWith('::error::'))).toContain(action);
    expect([action, untouched, autoscaler]).toEqual([action, true, 1]);
  });

  it.each(undoOnly)('a restore without %s puts the group on %s back and says what it left, naming the action', async (action, source) => {
    const { s, newImage, group } = await start({ allow: allow.filter((a) => a !== action), kubeAllow }, source);
    const sha = mergeChange(s, 'eks-ami-drift/us-east-1/prod', { [MANIFEST]: manifest(newImage) }, 'eks-ami-drift: upgrade prod');
    const killed = await killAfterSurge(s, sha);
    expect(killed.code).not.toBe(0);
    const restore = await runAction({ inputs: { command: 'restore', regions: 'us-east-1', force: 'true' }, env: env(s, sha), clock: s.world.clock });
    // Deleting what it made is the undo's last, best-effort step: the group is back, and the leftover named.
    expect(restore.code).toBe(0);
    const undone = restore.stdout.split('\n').find((l) => l.includes('self-managed group workers undone'));
    expect(undone).toMatch(
      source === 'number' ? /launch template lt-0workers000000001 version \d+ left \(/ : /the copy workers-lc-eks-ami-drift-ami-\w+ left \(/,
    );
    expect(undone).toContain(action);
    expect(group().tags.has('eks-ami-drift/replacing')).toBe(false);
    expect([group().desired, group().max]).toEqual([4, 4]);
  });

  it.each(needs)('fail naming %s when it is removed (found before any change: %s)', async (action, before) => {
    const { run, untouched, recorded, autoscaler } = await upgradeWith({ allow: allow.filter((a) => a !== action), kubeAllow });
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n').find((l) => l.startsWith('::error::'))).toContain(action);
    expect([action, untouched, recorded]).toEqual([action, before, !before]);
    // cluster-autoscaler never paused when found before any change (1, AWS's manifest), and held at 0 while a
    // recorded group waits for the post step, a re-run or restore
    expect([action, autoscaler]).toEqual([action, before ? 1 : 0]);
    if (!before) expect(run.stdout).toContain('stays paused: self-managed group workers is mid-replacement');
  });

  it.each(['get nodes', 'patch nodes', 'create pods/eviction'])('block before any change, naming the rule "%s" when it is removed', async (rule) => {
    const { run, untouched, autoscaler } = await upgradeWith({ allow, kubeAllow: kubeAllow.filter((r) => r !== rule) });
    expect(run.code).toBe(1);
    const [verb, resource] = rule.split(' ');
    expect(report(run.outputs).nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([['workers', 'blocked']]);
    expect(report(run.outputs).nodegroups[0]!.reason).toContain(`its RBAC does not let it ${verb} resource "${resource}"`);
    expect([untouched, autoscaler]).toEqual([true, 1]);
  });

  it('asks for delete pods only under force, which may delete what a drain could not evict', async () => {
    const { run, untouched } = await upgradeWith({ allow, kubeAllow: kubeAllow.filter((r) => r !== 'delete pods') });
    expect([run.code, untouched]).toEqual([0, false]);
    await sim?.close();
    const { s, newImage } = await start({ allow, kubeAllow: kubeAllow.filter((r) => r !== 'delete pods') });
    const sha = mergeChange(s, 'eks-ami-drift/us-east-1/prod', { [MANIFEST]: manifest(newImage) }, 'eks-ami-drift: upgrade prod');
    const forced = await runAction({ inputs: inputs({ force: 'true' }), env: env(s, sha), eventName: 'push', clock: s.world.clock });
    expect(forced.code).toBe(1);
    expect(report(forced.outputs).nodegroups[0]!.reason).toContain('its RBAC does not let it delete resource "pods"');
  });
});
