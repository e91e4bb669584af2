import { afterEach, describe, expect, it } from '@jest/globals';
import { AutoScalingClient, CreateOrUpdateTagsCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { upgradeCluster } from '../../src/effects/cluster-upgrade.js';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { ExecutorContext, PreflightCheck } from '../../src/effects/executor.js';
import { decodeRecord } from '../../src/effects/self-managed-record.js';
import { selfManagedExecutor, undoSelfManaged } from '../../src/effects/self-managed-roll.js';
import { eksKubeApi, eksToken } from '../../src/fleet/kube-client.js';
import type { ClusterState } from '../../src/model/fleet.js';
import type { KubeApi } from '../../src/model/kube-api.js';
import type { PlanItem } from '../../src/model/plan.js';
import type { UpgradeSettings } from '../../src/model/settings.js';
import type { Faults, FleetSpec } from '../sim/fleet.js';
import { awsImageName } from '../sim/images.js';
import { placePods } from '../sim/pods.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import { settingsWith } from '../unit/settings.js';

/*
 * The self-managed executor (src/effects/self-managed-roll.ts) driven directly against the simulator's
 * live Auto Scaling group (test/sim/asg.ts) and eviction API (test/sim/eviction.ts): issue 24's "Done
 * when" for the roll, the kills at each step and the re-run, the undo, and the failures that stop it.
 */

const credentials = { accessKeyId: 'AKIASIMULATOR0000000', secretAccessKey: 'simulator-secret-key-not-real-0000000000' };
const releases = releasesOf('AL2023_x86_64_STANDARD', '1.33');
const [oldRelease, newRelease] = [releases.at(-2)!.releaseVersion, releases.at(-1)!.releaseVersion];
const MINUTE = 60_000;
const SUSPENDED = ['AZRebalance', 'ReplaceUnhealthy', 'HealthCheck', 'AlarmNotification', 'ScheduledActions'];

function fleet(maxUnavailable: number | null): FleetSpec {
  return {
    clusters: [
      {
        name: 'prod',
        region: 'us-east-1',
        version: '1.33',
        nodegroups: [],
        selfManaged: [
          {
            name: 'workers',
            desiredSize: 4,
            launchTemplate: {
              id: 'lt-0workers000000001',
              name: 'workers',
              version: '3',
              image: { aws: awsImageName('AL2023_x86_64_STANDARD', '1.33', oldRelease) },
            },
            live: { min: 2, max: 4, eksctl: true },
          },
        ],
        pdbs: maxUnavailable === null ? [] : [{ name: 'web', namespace: 'shop', matchLabels: { app: 'web' }, maxUnavailable }],
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

const settings: UpgradeSettings = {
  dryRun: false,
  force: false,
  releaseVersion: null,
  followControlPlane: false,
  pauseClusterAutoscaler: true,
  clusterAutoscaler: 'auto',
  maxParallel: 1,
  waitTimeoutMs: 20 * MINUTE,
  pollIntervalMs: 10_000,
  healthTimeoutMs: 10 * MINUTE,
};

async function start(options: { faults?: Faults; maxUnavailable?: number | null } = {}) {
  sim = await startSimulator(fleet(options.maxUnavailable === undefined ? 1 : options.maxUnavailable), { faults: options.faults ?? {} });
  const s = sim;
  const cluster = s.world.fleet.clusters[0]!;
  const state = s.world.kubeOf(cluster);
  const clock = s.world.clock;
  const image = s.world.images.resolve('us-east-1', { aws: awsImageName('AL2023_x86_64_STANDARD', '1.33', newRelease) }).id;
  const autoscaling = new AutoScalingClient({ region: 'us-east-1', endpoint: s.url, credentials, maxAttempts: 1 });
  const ec2 = new EC2Client({ region: 'us-east-1', endpoint: s.url, credentials, maxAttempts: 1 });
  const kube = eksKubeApi('prod', { server: `${s.url}/k8s/us-east-1/prod` }, () => eksToken('prod', 'us-east-1', async () => credentials));
  // Two web pods (a ReplicaSet's) on each of the four nodes, Running and Ready for an hour.
  placePods(state, clock, { namespace: 'shop', name: 'web' }, 8, [...state.nodes.keys()].sort());
  const log: string[] = [];
  const pauseWatches: string[] = [];
  const ctx = (over: { autoscaling?: AutoScalingClient; kube?: KubeApi; settings?: Partial<UpgradeSettings> } = {}): ExecutorContext => ({
    cluster: { name: 'prod', region: 'us-east-1' } as ClusterState,
    clients: { eks: {} as EKSClient, ssm: {} as SSMClient, autoscaling: over.autoscaling ?? autoscaling, ec2 },
    kube: over.kube ?? kube,
    settings: { ...settings, ...over.settings },
    deps: {
      clientsFor: () => {
        throw new Error('not used');
      },
      kubeFor: () => kube,
      sha: 'abc',
      now: () => clock.now(),
      // Waits pass on the simulator's clock at once: no test depends on how long a request takes.
      sleep: async (ms: number) => {
        clock.advance(ms);
        await new Promise((r) => setImmediate(r));
      },
      log: (line) => log.push(line),
      warn: (line) => log.push(`warning: ${line}`),
      recordPause: () => undefined,
    },
    watchPause: async (name) => void pauseWatches.push(name),
  });
  const item: PlanItem = {
    cluster: 'prod',
    region: 'us-east-1',
    nodegroup: 'workers',
    nodeKind: 'self-managed',
    amiType: 'AL2023_x86_64_STANDARD',
    nodes: 4,
    current: { version: '1.33', releaseVersion: oldRelease },
    target: { version: '1.33', releaseVersion: newRelease, imageId: image },
    source: 'manifest',
    action: 'update',
    reason: 'test',
  };
  const check = (): PreflightCheck => ({ item, failedAttempts: 0, blockers: [], problems: [] });
  const group = () => s.world.groupOf('us-east-1', 'workers')!;
  const describeGroup = async () =>
    (await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['workers'] }))).AutoScalingGroups![0]!;
  /** Pre-flight then roll, as the cluster's upgrade runs an executor. */
  const run = async (c = ctx()) => {
    const k = check();
    await selfManagedExecutor.preflight(k, c);
    expect(k.problems).toEqual([]);
    return selfManagedExecutor.roll(k, c);
  };
  return {
    item,
    sim: s,
    state,
    clock,
    image,
    autoscaling,
    kube,
    ctx,
    check,
    group,
    describeGroup,
    run,
    log,
    pauseWatches,
    lifecycle: s.world.podLifecycle(cluster),
  };
}

/** An Auto Scaling client whose `n`th call of a command throws, as a killed runner would stop there. */
function killedAt(client: AutoScalingClient, command: string, n = 1): AutoScalingClient {
  let seen = 0;
  return {
    send: async (cmd: { constructor: { name: string } }) => {
      if (cmd.constructor.name === command && ++seen === n) throw new Error(`killed before ${command}`);
      return client.send(cmd as never);
    },
  } as unknown as AutoScalingClient;
}

/** What every finished run leaves: four instances on the new image, capacity back, nothing suspended, no record. */
function expectPutBack(g: ReturnType<Awaited<ReturnType<typeof start>>['group']>, image: string) {
  const staying = g.instances.filter((i) => i.lifecycle !== 'Terminating');
  expect(staying.map((i) => i.imageId)).toEqual([image, image, image, image]);
  expect([g.desired, g.min, g.max]).toEqual([4, 2, 4]);
  expect([...g.suspended.keys()]).toEqual([]);
  expect([...g.tags.keys()].filter((k) => k.startsWith('eks-ami-drift/'))).toEqual([]);
}

describe('the self-managed executor against the simulator', () => {
  it('replaces a four-instance group: surge, each old node drained through the eviction API then terminated, everything put back', async () => {
    const { sim, group, image, run, state, lifecycle, log, pauseWatches } = await start();
    const g = group();
    const oldIds = g.instances.map((i) => i.id);
    const oldNodes = new Map(g.instances.map((i) => [i.id, i.node]));
    const result = await run();

    expect(result).toMatchObject({ result: 'upgraded', nodegroup: 'workers' });
    expect(result.reason).toContain('4 instance(s) replaced');
    expect(result.reason).toContain('health gate passed');
    expectPutBack(g, image);
    expect(g.template).toMatchObject({ id: 'lt-0workers000000001', version: '4' });
    expect(g.instances.some((i) => oldIds.includes(i.id) && i.lifecycle !== 'Terminating')).toBe(false);
    // The new version is version 3 with only the image changed.
    const lt = sim.world.images.templates.get('lt-0workers000000001')!;
    const [v3, v4] = [lt.versions.find((v) => v.number === 3)!, lt.versions.find((v) => v.number === 4)!];
    expect({ ...v4, imageId: v3.imageId, number: 3, description: v3.description }).toEqual(v3);
    expect(v4.imageId).toBe(image);
    // Each old node was cordoned, tainted and drained (all its web pods evicted) before its instance was terminated.
    for (const id of oldIds) {
      const terminated = g.activities.find((a) => a.description === `Terminating EC2 instance: ${id}`)!;
      const node = oldNodes.get(id)!;
      const cordoned = state.writes.find((w) => w.what.startsWith('PATCH node') && w.what.includes(node));
      expect(cordoned!.at).toBeLessThanOrEqual(terminated.start);
      const evictedFromIt = lifecycle.removals.filter((r) => r.node === node);
      expect(evictedFromIt.map((r) => r.via)).toEqual(['eviction', 'eviction']);
      for (const r of evictedFromIt) expect(r.at).toBeLessThanOrEqual(terminated.start);
    }
    // No pod deleted outside the eviction API.
    expect(sim.kubeLog.filter((c) => c.method === 'DELETE')).toEqual([]);
    expect(new Set(lifecycle.removals.map((r) => r.via))).toEqual(new Set(['eviction']));
    // A budget allowing one disruption was never exceeded: every accepted eviction left 7 of 8 healthy.
    const accepted = lifecycle.evictions.filter((e) => e.status === 201);
    expect(accepted).toHaveLength(8);
    for (const e of accepted) expect(e.budget).toMatchObject({ name: 'web', desiredHealthy: 7, currentHealthy: 7, disruptionsAllowed: 0 });
    // The processes were suspended during the roll, and only once each.
    expect(log.some((l) => l.includes(`suspended ${SUSPENDED.join(', ')}`))).toBe(true);
    expect(log.some((l) => l.includes('at most 4 instances: the surge raises the maximum to 8 for the roll, then puts it back'))).toBe(true);
    expect(log.some((l) => l.includes('surge: desired 4 → 8, maximum 4 → 8 for the roll'))).toBe(true);
    expect(log.some((l) => /surge · new nodes \d\/4 Ready/.test(l))).toBe(true);
    expect(log.some((l) => l.includes('waiting on a PodDisruptionBudget'))).toBe(true);
    expect(pauseWatches.length).toBeGreaterThan(0);
    // Eight web pods run again, on the new nodes.
    const newNodes = new Set(g.instances.filter((i) => i.lifecycle !== 'Terminating').map((i) => i.node));
    const web = [...state.pods.values()].filter((p) => p.metadata.labels?.app === 'web');
    expect(web).toHaveLength(8);
    for (const p of web) expect(newNodes.has(p.spec?.nodeName as string)).toBe(true);
  });

  it("runs inside the cluster's upgrade: cluster-autoscaler paused throughout the roll and restored after", async () => {
    const { sim, ctx, item, group, image, autoscaling } = await start();
    const cluster = sim.world.fleet.clusters[0]!;
    const c = ctx();
    const replicas: number[] = [];
    const watching = {
      ...c.clients.autoscaling,
      send: async (cmd: never) => {
        replicas.push(sim.world.autoscalerReplicas(cluster));
        return autoscaling.send(cmd);
      },
    } as unknown as AutoScalingClient;
    const clients = { ...c.clients, autoscaling: watching, eks: new EKSClient({ region: 'us-east-1', endpoint: sim.url, credentials, maxAttempts: 1 }) };
    const before = sim.world.autoscalerReplicas(cluster);
    expect(before).toBeGreaterThan(0);
    const result = await upgradeCluster(
      { name: 'prod', region: 'us-east-1', nodegroups: [] },
      [{ item, executor: selfManagedExecutor, healthTarget: {} }],
      c.settings,
      { ...c.deps, clientsFor: () => clients },
    );
    expect(result.nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([['workers', 'upgraded']]);
    expect(result.autoscaler).not.toBeNull();
    // Every Auto Scaling call after the pre-flight's reads ran with cluster-autoscaler scaled to zero.
    const firstWrite = replicas.findIndex((r) => r === 0);
    expect(firstWrite).toBeGreaterThan(0);
    expect(replicas.slice(firstWrite).every((r) => r === 0)).toBe(true);
    expect(sim.world.autoscalerReplicas(cluster)).toBe(before);
    expectPutBack(group(), image);
  });

  it("stops with nothing changed when its record cannot fit in the group's 50 tags, naming the count", async () => {
    const { group, run, describeGroup } = await start();
    // 49 tags in all with the team's (cost centres, owners, IaC): the record's main tag and its instance list need 2.
    const have = (await describeGroup()).Tags!.length;
    for (let i = 0; i < 49 - have; i++) group().putTag(`team/tag-${i}`, 'x');
    const result = await run();
    expect(result.result).toBe('failed');
    expect(result.reason).toMatch(
      /^its resumable record needs \d+ tags \(4 instances to replace\) and the group has 49 of the 50 Auto Scaling allows: nothing was changed/,
    );
    const g = group();
    expect([g.desired, g.max, g.suspended.size, g.template?.version]).toEqual([4, 4, 0, '3']);
    expect([...g.tags.keys()].filter((k) => k.startsWith('eks-ami-drift/'))).toEqual([]);
  });

  it('keeps processes someone else suspended: resumes only those it suspended', async () => {
    const { group, run, image, clock } = await start();
    group().suspend(['AZRebalance'], clock.now());
    const result = await run();
    expect(result.result).toBe('upgraded');
    const g = group();
    expect([...g.suspended.keys()]).toEqual(['AZRebalance']);
    g.resume(['AZRebalance'], clock.now());
    expectPutBack(g, image);
  });

  for (const [step, command, n] of [
    ['after the surge', 'DescribeScalingActivitiesCommand', 1],
    ['mid-drain (before the second termination)', 'TerminateInstanceInAutoScalingGroupCommand', 2],
    ['after the last termination', 'ResumeProcessesCommand', 1],
  ] as const) {
    it(`killed ${step}, a second run finishes from the record: no second surge, capacity back, nothing suspended`, async () => {
      const { autoscaling, ctx, group, image, run, describeGroup, log } = await start();
      const first = await run(ctx({ autoscaling: killedAt(autoscaling, command, n) }));
      expect(first.result).toBe('failed');
      expect(first.reason).toContain(`killed before ${command}`);
      expect(first.reason).toContain('re-run to finish, or restore to undo');
      const record = decodeRecord((await describeGroup()).Tags);
      expect(record).toMatchObject({
        image,
        desired: 4,
        min: 2,
        max: 4,
        suspended: SUSPENDED,
        template: { id: 'lt-0workers000000001', from: '3', version: '4' },
      });
      expect(record!.old).toHaveLength(4);
      expect([...group().suspended.keys()].sort()).toEqual([...SUSPENDED].sort());

      const second = await run();
      expect(second.result).toBe('upgraded');
      expectPutBack(group(), image);
      // One surge in all: desired raised once, four instances launched, one template version made.
      expect(log.filter((l) => l.includes('surge: desired'))).toHaveLength(1);
      expect(group().activities.filter((a) => a.description.startsWith('Launching a new EC2 instance: '))).toHaveLength(4);
      expect(log.filter((l) => l.includes('launch template lt-0workers000000001 version 4'))).toHaveLength(1);
    });
  }

  it("killed while evicting a node's pods, a second run drains that node again and finishes", async () => {
    const { kube, ctx, group, image, run, describeGroup, lifecycle, sim, state } = await start();
    let evictions = 0;
    // The runner dies asking the third accepted eviction: the first node drained and terminated, the second cordoned.
    const dying: KubeApi = {
      ...kube,
      evictPod: async (ns: string, name: string) => {
        if (evictions === 3) throw new Error('killed mid-drain');
        await kube.evictPod(ns, name);
        evictions++;
      },
    } as KubeApi;
    const first = await run(ctx({ kube: dying }));
    expect(first.result).toBe('failed');
    expect(first.reason).toContain('killed mid-drain');
    expect(decodeRecord((await describeGroup()).Tags)?.step).toBe('drain');
    expect(group().activities.filter((a) => a.description.startsWith('Terminating EC2 instance'))).toHaveLength(1);
    const left = group().instances.filter((i) => i.lifecycle !== 'Terminating' && state.nodes.get(i.node)?.spec?.unschedulable === true);
    expect(left).toHaveLength(1);
    const second = await run();
    expect(second.result).toBe('upgraded');
    expectPutBack(group(), image);
    expect(new Set(lifecycle.removals.map((r) => r.via))).toEqual(new Set(['eviction']));
    expect(sim.kubeLog.filter((c) => c.method === 'DELETE')).toEqual([]);
  });

  it('undoes a replacement killed mid-drain: new instances kept, nodes uncordoned, capacity back, nothing suspended, the template back', async () => {
    const { autoscaling, ctx, group, image, run, describeGroup, state, sim } = await start();
    const first = await run(ctx({ autoscaling: killedAt(autoscaling, 'TerminateInstanceInAutoScalingGroupCommand', 2) }));
    expect(first.result).toBe('failed');
    const record = decodeRecord((await describeGroup()).Tags)!;
    const message = await undoSelfManaged(ctx(), 'workers', record);
    expect(message).toMatch(/^undone: 3 surplus instance\(s\) drained and terminated/);
    const g = group();
    expectPutBack(g, image);
    // The group launches from version 3 again, and the version made for the image is gone.
    expect(message).toContain('launch template Version back to 3, launch template lt-0workers000000001 version 4 deleted');
    expect(g.template).toMatchObject({ id: 'lt-0workers000000001', version: '3' });
    expect(sim.world.images.templates.get('lt-0workers000000001')!.versions.map((v) => v.number)).toEqual([3]);
    for (const i of g.instances.filter((x) => x.lifecycle !== 'Terminating')) {
      const node = state.nodes.get(i.node)!;
      expect(node.spec?.unschedulable).not.toBe(true);
      expect(((node.spec?.taints as { key: string }[] | undefined) ?? []).map((t) => t.key)).not.toContain('eks-ami-drift/replacing');
    }
  });

  it('a group that cannot surge stops with InsufficientInstanceCapacity named, the group as the record says', async () => {
    const { run, group, describeGroup } = await start({ faults: { asgCapacity: { workers: 6 } } });
    const result = await run();
    expect(result.result).toBe('failed');
    expect(result.reason).toContain('the surge failed: Auto Scaling could not launch an instance (We currently do not have sufficient m5.large capacity');
    const g = group();
    // No old node was touched; the record says where it stopped.
    expect(g.instances.filter((i) => i.lifecycle === 'Terminating')).toEqual([]);
    expect(decodeRecord((await describeGroup()).Tags)).toMatchObject({ step: 'surge', desired: 4, max: 4 });
  });

  it('a new node that never becomes Ready stops at the wait-timeout naming it; no old node drained', async () => {
    const { run, group, lifecycle, describeGroup } = await start({ faults: { neverReadyGroups: ['workers'] } });
    const result = await run();
    expect(result.result).toBe('failed');
    expect(result.reason).toMatch(/new nodes not Ready within 20m.*0\/4 Ready; not Ready: ip-/);
    expect(lifecycle.evictions).toEqual([]);
    expect(group().desired).toBe(8);
    expect(decodeRecord((await describeGroup()).Tags)?.step).toBe('surge');
  });

  it('a budget that never allows a disruption stops the drain naming the pods, the node left cordoned for a re-run', async () => {
    const { group, describeGroup, check, ctx, state } = await start({ maxUnavailable: 0 });
    // The pre-flight names the budget (force would go ahead).
    const k = check();
    await selfManagedExecutor.preflight(k, ctx());
    expect(k.blockers).toEqual([expect.stringContaining('PodDisruptionBudget shop/web allows no disruption now (maxUnavailable 0)')]);
    const result = await selfManagedExecutor.roll(k, ctx());
    expect(result.result).toBe('failed');
    expect(result.reason).toMatch(
      /was not drained within 15 minute\(s\): 2 pod\(s\) still there: shop\/web-\d \(.*The disruption budget web needs 8 healthy pods/,
    );
    expect(group().instances.filter((i) => i.lifecycle === 'Terminating')).toEqual([]);
    expect(decodeRecord((await describeGroup()).Tags)?.step).toBe('drain');
    const cordoned = [...state.nodes.values()].filter((n) => n.spec?.unschedulable === true);
    expect(cordoned).toHaveLength(1);
  });

  it('pre-flight names instances protected from scale-in, a replacement to another image, an instance refresh running, Launch suspended', async () => {
    const { group, check, ctx, autoscaling, sim } = await start();
    group().instances[0]!.protectedFromScaleIn = true;
    let k = check();
    await selfManagedExecutor.preflight(k, ctx());
    expect(k.problems).toEqual([`instance ${group().instances[0]!.id} is protected from scale-in: remove the protection (SetInstanceProtection) first`]);
    group().instances[0]!.protectedFromScaleIn = false;
    const { writeRecord } = await import('../../src/effects/self-managed-record.js');
    await writeRecord(autoscaling, 'workers', {
      step: 'surge',
      image: 'ami-0aaaaaaaaaaaaaaaa',
      desired: 4,
      min: 2,
      max: 4,
      suspended: [],
      template: { id: 'lt-0workers000000001', from: '3', version: '9' },
      old: [],
      startedAt: 0,
    });
    k = check();
    await selfManagedExecutor.preflight(k, ctx());
    expect(k.problems).toEqual([expect.stringContaining('it is mid-replacement to ami-0aaaaaaaaaaaaaaaa (tag eks-ami-drift/replacing, step surge)')]);
    // An instance refresh someone started and that has not ended.
    await (await import('../../src/effects/self-managed-record.js')).removeRecord(autoscaling, 'workers');
    group().instanceRefresh = { id: 'f6c7e4b0-0000-4000-8000-000000000001', status: 'InProgress' };
    k = check();
    await selfManagedExecutor.preflight(k, ctx());
    expect(k.problems).toEqual(['an instance refresh (f6c7e4b0-0000-4000-8000-000000000001) is InProgress: wait for it to end, or cancel it, first']);
    // Launch suspended by someone: no surge could launch.
    group().instanceRefresh = null;
    group().suspend(['Launch'], sim.world.clock.now());
    k = check();
    await selfManagedExecutor.preflight(k, ctx());
    expect(k.problems).toEqual(['its Launch process is suspended, so the surge could launch no instance: resume it (ResumeProcesses) first']);
  });
});

describe('`restore` of a self-managed group a killed run left (src/commands/restore.ts)', () => {
  /** The restore command in this process, on the simulator's clock: its AWS clients and Kubernetes API are the simulator's. */
  /** What the restore command and the post step are given in this process: the simulator's clients, its clock. */
  function on(s: Simulator, kube: KubeApi) {
    const client = { region: 'us-east-1', endpoint: s.url, credentials, maxAttempts: 1 };
    const aws = {
      eks: new EKSClient(client),
      autoscaling: new AutoScalingClient(client),
      ec2: new EC2Client(client),
      ssm: new SSMClient(client),
    };
    const lines: string[] = [];
    const io = { log: (l: string) => lines.push(l), warn: (l: string) => lines.push(`warning: ${l}`), group: <T>(_: string, work: () => Promise<T>) => work() };
    const clients = { clientsFor: () => aws, github: async () => null, kube: async () => () => kube, member: () => Promise.reject(new Error('no accounts')) };
    const clock = s.world.clock;
    const timing = {
      now: () => clock.now(),
      sleep: async (ms: number) => {
        clock.advance(ms);
        await new Promise((r) => setImmediate(r));
      },
    };
    return { clients, io, lines, timing };
  }

  async function restoreOn(s: Simulator, kube: KubeApi, force = false) {
    const { restore } = await import('../../src/commands/restore.js');
    const { clients, io, lines, timing } = on(s, kube);
    const run = await restore(settingsWith({ command: 'restore', clusters: ['prod'] }, { force }), clients, io, timing);
    return { ...run, lines };
  }

  it('killed after the surge, restore undoes it: the surplus drained and terminated, original capacity, nothing suspended, no record', async () => {
    const { autoscaling, ctx, group, run, describeGroup, sim: s, kube } = await start();
    const oldIds = group().instances.map((i) => i.id);
    const oldImage = group().instances[0]!.imageId;
    const first = await run(ctx({ autoscaling: killedAt(autoscaling, 'DescribeScalingActivitiesCommand', 1) }));
    expect(first.result).toBe('failed');
    // What the kill left: the surge's capacity, processes suspended, the record.
    expect(group().desired).toBe(8);
    expect([...group().suspended.keys()].sort()).toEqual([...SUSPENDED].sort());
    expect(decodeRecord((await describeGroup()).Tags)).toMatchObject({ step: 'surge', desired: 4, min: 2, max: 4 });

    const restored = await restoreOn(s, kube);
    expect(restored.failure).toBeNull();
    expect(restored.lines).toContain(
      'us-east-1/prod: self-managed group workers undone: 4 surplus instance(s) drained and terminated; ' +
        'launch template Version back to 3, launch template lt-0workers000000001 version 4 deleted',
    );
    // The surge's instances were not Ready yet (no pods on them): they go, the four old ones serve on, on the
    // old image; capacity and maximum back; nothing suspended; no record.
    expectPutBack(group(), oldImage);
    expect(
      group()
        .instances.filter((i) => i.lifecycle !== 'Terminating')
        .map((i) => i.id),
    ).toEqual(oldIds);
    // A second restore finds nothing to undo.
    const again = await restoreOn(s, kube);
    expect(again.failure).toBeNull();
    expect(again.lines).toEqual(['no cluster-autoscaler is paused and no self-managed group is mid-replacement in the 1 cluster(s) read: nothing to restore']);
  });

  it('a scheduled restore leaves a replacement whose job may still run (a fresh pause lease); force undoes it', async () => {
    const { autoscaling, ctx, group, run, describeGroup, sim: s, kube, state, clock } = await start();
    await run(ctx({ autoscaling: killedAt(autoscaling, 'DescribeScalingActivitiesCommand', 1) }));
    // cluster-autoscaler paused by a job whose lease was renewed a minute ago.
    const ca = [...state.deployments.values()][0]!;
    ca.spec = { ...ca.spec, replicas: 0 };
    ca.metadata.annotations = {
      ...ca.metadata.annotations,
      'eks-ami-drift/paused-replicas': '2',
      'eks-ami-drift/paused-at': new Date(clock.now() - 120_000).toISOString(),
      'eks-ami-drift/lease-renewed-at': new Date(clock.now() - 60_000).toISOString(),
    };
    const left = await restoreOn(s, kube);
    expect(left.failure).toBeNull();
    expect(left.lines).toContain(
      'warning: us-east-1/prod: self-managed group(s) workers mid-replacement, left: ' +
        'the job that paused cluster-autoscaler may still run (force: true undoes them now)',
    );
    expect(group().desired).toBe(8);
    expect(decodeRecord((await describeGroup()).Tags)?.step).toBe('surge');
    const forced = await restoreOn(s, kube, true);
    expect(forced.failure).toBeNull();
    expect(forced.lines).toContain(
      'us-east-1/prod: self-managed group workers undone: 4 surplus instance(s) drained and terminated; ' +
        'launch template Version back to 3, launch template lt-0workers000000001 version 4 deleted',
    );
    expect([group().desired, group().min, group().max, [...group().suspended.keys()]]).toEqual([4, 2, 4, []]);
  });

  it('a record it cannot read fails the restore naming the group and the tag, the group left as it is', async () => {
    const { autoscaling, group, sim: s, kube } = await start();
    await autoscaling.send(
      new CreateOrUpdateTagsCommand({
        Tags: [{ ResourceId: 'workers', ResourceType: 'auto-scaling-group', Key: 'eks-ami-drift/replacing', Value: 'by hand', PropagateAtLaunch: false }],
      }),
    );
    const restored = await restoreOn(s, kube);
    expect(restored.failure).toContain(
      'prod (us-east-1): self-managed group workers: the tag eks-ami-drift/replacing is not a record this action wrote (by hand): ' +
        'remove it once the group is as it should be',
    );
    expect([group().desired, group().min, group().max]).toEqual([4, 2, 4]);
    expect(group().tags.get('eks-ami-drift/replacing')).toBeDefined();
  });

  it('the post step undoes the group its own job left after the surge before it restores cluster-autoscaler', async () => {
    const { autoscaling, ctx, group, run, describeGroup, sim: s, kube } = await start();
    const oldImage = group().instances[0]!.imageId;
    const first = await run(ctx({ autoscaling: killedAt(autoscaling, 'DescribeScalingActivitiesCommand', 1) }));
    expect(first.result).toBe('failed');
    expect(decodeRecord((await describeGroup()).Tags)?.step).toBe('surge');
    const { restoreRecorded, POST_RESTORE_DEADLINE_MS } = await import('../../src/commands/restore.js');
    const { clients, io, lines, timing } = on(s, kube);
    const pause = { cluster: 'prod', region: 'us-east-1', namespace: 'kube-system', name: 'cluster-autoscaler', replicas: 2 };
    await restoreRecorded(settingsWith({ command: 'upgrade' }), clients, [pause], io, POST_RESTORE_DEADLINE_MS, timing);
    // The undo's line (after its drain's progress), then cluster-autoscaler's.
    expect(lines.filter((l) => /^(us-east-1\/)?prod: /.test(l))).toEqual([
      'us-east-1/prod: self-managed group workers undone: 4 surplus instance(s) drained and terminated; ' +
        'launch template Version back to 3, launch template lt-0workers000000001 version 4 deleted',
      expect.stringMatching(/^prod: cluster-autoscaler kube-system\/cluster-autoscaler: /),
    ]);
    // The surge's not-yet-Ready instances went; the old ones serve on.
    expectPutBack(group(), oldImage);
  });
});
