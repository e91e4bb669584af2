/**
 * The bench's self-managed section (`npm run bench -- --only self-managed`): a self-managed Auto Scaling
 * group of N instances rolled to a new image on the simulator, on a virtual clock that moves only when a
 * driver waits (clockSpeed 0), so every duration is the simulator's model, not this machine's; then the
 * same group replaced by the sequential manual procedure (one node at a time), against the same model.
 *
 * - Ours: src/effects/self-managed-roll.ts `selfManagedExecutor` (pre-flight, roll, health gate), driven
 *   as test/e2e/self-managed-roll.test.ts drives it.
 * - Manual: the procedure issue 24 quotes from the seeds, one node at a time: launch one replacement
 *   (desired capacity + 1), wait until its node is Ready (polled at the same poll interval), `kubectl
 *   drain` the old node, terminate its instance with ShouldDecrementDesiredCapacity. The drain is
 *   kubectl's (kubernetes/kubectl pkg/drain/drain.go `evictPods`): every pod evicted at once, each
 *   refused one (429) asked again after `EvictErrorRetryDelay` (5 s, kubectl's default; its message
 *   "will retry after 5s") with a GET of the pod between, each evicted one waited on with a GET every
 *   second (`waitForDelete`, interval 1 * time.Second) until it is gone. It is modelled on one-second
 *   ticks of the virtual clock, kubectl's finest interval. Like ours it moves the group to a new launch
 *   template version first and suspends the same processes (so neither fights AZRebalance); it has no
 *   health gate.
 */
import {
  AutoScalingClient,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { ExecutorContext, PreflightCheck } from '../../src/effects/executor.js';
import { describeGroup } from '../../src/effects/self-managed-record.js';
import { SUSPENDED_PROCESSES, selfManagedExecutor } from '../../src/effects/self-managed-roll.js';
import { eksKubeApi, eksToken } from '../../src/fleet/kube-client.js';
import type { ClusterState } from '../../src/model/fleet.js';
import type { PlanItem } from '../../src/model/plan.js';
import type { UpgradeSettings } from '../../src/model/settings.js';
import { DEFAULT_NODE_TIMINGS, type NodeTimings } from '../sim/asg.js';
import { REPLACEMENT_READY_MS, TERMINATION_GRACE_MS } from '../sim/eviction.js';
import type { FleetSpec } from '../sim/fleet.js';
import { awsImageName } from '../sim/images.js';
import { KubeState } from '../sim/kube.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { startSimulator } from '../sim/server.js';
import type { Row } from './render.js';

const credentials = { accessKeyId: 'AKIASIMULATOR0000000', secretAccessKey: 'simulator-secret-key-not-real-0000000000' };
const releases = releasesOf('AL2023_x86_64_STANDARD', '1.33');
const [OLD, NEW] = [releases.at(-2)!.releaseVersion, releases.at(-1)!.releaseVersion];
/** The action's default poll-interval (action.yml), used by both procedures to look at the group and its nodes. */
export const POLL_MS = 10_000;
/** Pods of one ReplicaSet on each node, all under one PodDisruptionBudget allowing one disruption. */
export const PODS_PER_NODE = 2;
/** kubectl drain's EvictErrorRetryDelay, and its waitForDelete interval (kubernetes/kubectl pkg/drain). */
const KUBECTL_RETRY_MS = 5_000;
const KUBECTL_TICK_MS = 1_000;

const settings: UpgradeSettings = {
  dryRun: false,
  force: false,
  releaseVersion: null,
  followControlPlane: false,
  pauseClusterAutoscaler: true,
  clusterAutoscaler: 'auto',
  maxParallel: 1,
  waitTimeoutMs: 20 * 60_000,
  pollIntervalMs: POLL_MS,
  healthTimeoutMs: 10 * 60_000,
};

function fleet(size: number, timings: Partial<NodeTimings>): FleetSpec {
  return {
    clusters: [
      {
        name: 'prod',
        region: 'us-east-1',
        version: '1.33',
        nodegroups: [],
        autoscaler: null,
        selfManaged: [
          {
            name: 'workers',
            desiredSize: size,
            launchTemplate: { id: 'lt-0workers000000001', name: 'workers', version: '3', image: { aws: awsImageName('AL2023_x86_64_STANDARD', '1.33', OLD) } },
            live: { min: 0, max: size, eksctl: true, timings },
          },
        ],
        pdbs: [{ name: 'web', namespace: 'shop', matchLabels: { app: 'web' }, maxUnavailable: 1 }],
      },
    ],
    parameters: amazonLinuxParameters(),
  };
}

/** One procedure's run: the simulator, its clients, and the group's pods placed. */
async function setUp(size: number, timings: Partial<NodeTimings>) {
  const sim = await startSimulator(fleet(size, timings), { clockSpeed: 0 });
  const cluster = sim.world.fleet.clusters[0]!;
  const state = sim.world.kubeOf(cluster);
  const clock = sim.world.clock;
  const image = sim.world.images.resolve('us-east-1', { aws: awsImageName('AL2023_x86_64_STANDARD', '1.33', NEW) }).id;
  const nodes = [...state.nodes.keys()].sort();
  for (let i = 0; i < size * PODS_PER_NODE; i++) {
    const key = KubeState.key('shop', `web-${i}`);
    state.pods.set(key, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `web-${i}`,
        namespace: 'shop',
        labels: { app: 'web' },
        ownerReferences: [{ kind: 'ReplicaSet', name: 'web-1', uid: 'u', controller: true }],
      },
      spec: { nodeName: nodes[i % size] },
      status: { phase: 'Running' },
    });
    state.lives.set(key, { startedAt: clock.now() - 3_600_000, readyAt: clock.now() - 3_000_000, crashLoop: false, degraded: false });
  }
  const autoscaling = new AutoScalingClient({ region: 'us-east-1', endpoint: sim.url, credentials, maxAttempts: 1 });
  const ec2 = new EC2Client({ region: 'us-east-1', endpoint: sim.url, credentials, maxAttempts: 1 });
  const kube = eksKubeApi('prod', { server: `${sim.url}/k8s/us-east-1/prod` }, () => eksToken('prod', 'us-east-1', async () => credentials));
  // Waits pass on the virtual clock at once; the simulator settles the group and the pods at each request.
  const sleep = async (ms: number) => {
    clock.advance(ms);
    await new Promise((r) => setImmediate(r));
  };
  return { sim, state, clock, image, autoscaling, ec2, kube, sleep, lifecycle: sim.world.podLifecycle(cluster) };
}

type SetUp = Awaited<ReturnType<typeof setUp>>;

export interface Measured {
  /** Simulated duration, ms. */
  simulatedMs: number;
  /** Phases of ours, simulated ms: the surge's wait, the drains and terminations, the health gate. */
  phases?: { surgeMs: number; drainMs: number; gateMs: number };
  wallMs: number;
  aws: Record<string, number>;
  kube: number;
  evictions: { accepted: number; refused: number };
  result: string;
}

function counted(s: SetUp, started: { aws: number; kube: number; evictions: number }, simulatedMs: number, wallMs: number, result: string): Measured {
  const aws: Record<string, number> = {};
  for (const l of s.sim.log.slice(started.aws)) aws[l.operation] = (aws[l.operation] ?? 0) + 1;
  const evictions = s.lifecycle.evictions.slice(started.evictions);
  return {
    simulatedMs,
    wallMs,
    aws,
    kube: s.sim.kubeLog.length - started.kube,
    evictions: { accepted: evictions.filter((e) => e.status === 201).length, refused: evictions.filter((e) => e.status !== 201).length },
    result,
  };
}

const mark = (s: SetUp) => ({ aws: s.sim.log.length, kube: s.sim.kubeLog.length, evictions: s.lifecycle.evictions.length });

/** Ours: the executor's pre-flight and roll, with its progress lines timed on the virtual clock to split the phases. */
export async function ours(size: number, timings: Partial<NodeTimings>): Promise<Measured> {
  const s = await setUp(size, timings);
  try {
    const lines: { at: number; line: string }[] = [];
    const ctx: ExecutorContext = {
      cluster: { name: 'prod', region: 'us-east-1' } as ClusterState,
      clients: { eks: {} as EKSClient, ssm: {} as SSMClient, autoscaling: s.autoscaling, ec2: s.ec2 },
      kube: s.kube,
      settings,
      deps: {
        clientsFor: () => {
          throw new Error('not used');
        },
        kubeFor: () => s.kube,
        sha: 'bench',
        now: () => s.clock.now(),
        sleep: s.sleep,
        log: (line) => lines.push({ at: s.clock.now(), line }),
        warn: (line) => lines.push({ at: s.clock.now(), line: `warning: ${line}` }),
        recordPause: () => undefined,
      },
      watchPause: async () => undefined,
    };
    const item: PlanItem = {
      cluster: 'prod',
      region: 'us-east-1',
      nodegroup: 'workers',
      nodeKind: 'self-managed',
      amiType: 'AL2023_x86_64_STANDARD',
      nodes: size,
      current: { version: '1.33', releaseVersion: OLD },
      target: { version: '1.33', releaseVersion: NEW, imageId: s.image },
      source: 'manifest',
      action: 'update',
      reason: 'bench',
    };
    const started = mark(s);
    const t0 = s.clock.now();
    const wall0 = Date.now();
    const check: PreflightCheck = { item, failedAttempts: 0, blockers: [], problems: [] };
    await selfManagedExecutor.preflight(check, ctx);
    if (check.problems.length > 0) throw new Error(`pre-flight: ${check.problems.join('; ')}`);
    const result = await selfManagedExecutor.roll(check, ctx);
    const m = counted(s, started, s.clock.now() - t0, Date.now() - wall0, result.result);
    const at = (re: RegExp) => lines.find((l) => re.test(l.line))?.at ?? NaN;
    const drainFrom = at(/: draining /);
    const putBack = at(/capacity back to desired/);
    m.phases = { surgeMs: drainFrom - t0, drainMs: putBack - drainFrom, gateMs: s.clock.now() - putBack };
    if (result.result !== 'upgraded') throw new Error(`the roll of ${size} ended ${result.result}: ${result.reason}`);
    return m;
  } finally {
    await s.sim.close();
  }
}

/** The manual procedure's requests to the Kubernetes API that the KubeApi lacks: kubectl's GET of a pod. */
async function getPod(s: SetUp, namespace: string, name: string): Promise<{ uid?: string } | null> {
  const token = await eksToken('prod', 'us-east-1', async () => credentials);
  const response = await fetch(`${s.sim.url}/k8s/us-east-1/prod/api/v1/namespaces/${namespace}/pods/${name}`, {
    headers: { authorization: `Bearer ${token.token}` },
  });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`GET pod ${namespace}/${name}: ${response.status}`);
  return ((await response.json()) as { metadata: { uid?: string } }).metadata;
}

/** `kubectl drain --ignore-daemonsets` of one node, on one-second ticks (see the header). */
async function kubectlDrain(s: SetUp, node: string): Promise<void> {
  // kubectl cordon: GET the node, PATCH spec.unschedulable.
  await s.kube.readNode(node);
  await s.kube.patchNode(node, [{ op: 'add', path: '/spec/unschedulable', value: true }]);
  const pods: { ns: string; name: string; uid?: string; state: 'evict' | 'wait' | 'done'; at: number }[] = (await s.kube.listPods(`spec.nodeName=${node}`)).map(
    (p) => ({
      ns: p.metadata!.namespace!,
      name: p.metadata!.name!,
      uid: p.metadata!.uid,
      state: 'evict',
      at: s.clock.now(),
    }),
  );
  while (pods.some((p) => p.state !== 'done')) {
    for (const p of pods) {
      if (p.state === 'done' || p.at > s.clock.now()) continue;
      if (p.state === 'evict') {
        try {
          await s.kube.evictPod(p.ns, p.name);
          p.state = 'wait';
        } catch (error) {
          const code = (error as { code?: number }).code;
          if (code === 404) {
            p.state = 'done';
            continue;
          }
          if (code !== 429) throw error;
          // Sleeps EvictErrorRetryDelay, then GETs the pod and asks again.
          p.at = s.clock.now() + KUBECTL_RETRY_MS;
          continue;
        }
      }
      // waitForDelete: polls at once, then every second, until the pod is gone (or another pod has its name).
      const got = await getPod(s, p.ns, p.name);
      if (!got || (got.uid && p.uid && got.uid !== p.uid)) p.state = 'done';
      else p.at = s.clock.now() + KUBECTL_TICK_MS;
    }
    if (pods.some((p) => p.state !== 'done')) await s.sleep(KUBECTL_TICK_MS);
  }
}

/** The sequential manual procedure: one replacement launched, Ready, the old node drained, its instance terminated; node after node. */
export async function manual(size: number, timings: Partial<NodeTimings>): Promise<Measured> {
  const s = await setUp(size, timings);
  try {
    const name = 'workers';
    const started = mark(s);
    const t0 = s.clock.now();
    const wall0 = Date.now();
    const { LaunchTemplateVersion } = await s.ec2.send(
      new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: 'lt-0workers000000001', SourceVersion: '3', LaunchTemplateData: { ImageId: s.image } }),
    );
    const version = String(LaunchTemplateVersion!.VersionNumber);
    await s.autoscaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        LaunchTemplate: { LaunchTemplateId: 'lt-0workers000000001', Version: version },
        MaxSize: size + 1,
      }),
    );
    await s.autoscaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: SUSPENDED_PROCESSES }));
    const old = ((await describeGroup(s.autoscaling, name))?.Instances ?? []).map((i) => i.InstanceId!);
    for (const id of old) {
      const before = new Set(((await describeGroup(s.autoscaling, name))?.Instances ?? []).map((i) => i.InstanceId!));
      await s.autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, DesiredCapacity: size + 1 }));
      // Wait until the new instance's node is Ready, looking at the poll interval.
      for (;;) {
        const g = await describeGroup(s.autoscaling, name);
        const fresh = (g?.Instances ?? []).find((i) => !before.has(i.InstanceId!));
        const nodes = await s.kube.listNodes('');
        const node = fresh && nodes.find((n) => n.spec?.providerID?.endsWith(`/${fresh.InstanceId}`));
        if (node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) break;
        await s.sleep(POLL_MS);
      }
      const oldNode = (await s.kube.listNodes('')).find((n) => n.spec?.providerID?.endsWith(`/${id}`))?.metadata?.name;
      if (oldNode) await kubectlDrain(s, oldNode);
      await s.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: id, ShouldDecrementDesiredCapacity: true }));
    }
    await s.autoscaling.send(new ResumeProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: SUSPENDED_PROCESSES }));
    await s.autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MaxSize: size }));
    const g = s.sim.world.groupOf('us-east-1', name)!;
    const staying = g.instances.filter((i) => i.lifecycle !== 'Terminating');
    const done = staying.length === size && staying.every((i) => i.imageId === s.image) ? 'replaced' : 'incomplete';
    return counted(s, started, s.clock.now() - t0, Date.now() - wall0, done);
  } finally {
    await s.sim.close();
  }
}

/*
 * The duration model (docs/self-managed.md, "Expected duration"), from the simulator's parameters: a node
 * Ready R after its launch, a pod gone G after its eviction (its grace period), its replacement Ready Rp
 * after that, k pods a node under one budget allowing one disruption, the poll interval p.
 *
 * A node's drain evicts its pods one after the other: each next eviction is accepted at the first attempt
 * once the previous pod is gone and its replacement Ready. Ours attempts at the poll interval, a refused
 * pod asked again 5 s later doubling to at most 60 s (src/decision/drain.ts evictionBackoffMs, as
 * docs/self-managed.md states it), the drain over at the first poll after the last pod is gone; kubectl
 * asks every 5 s and sees a pod gone within a second.
 */
const SECOND = 1000;

/** The times, from the start of a node's drain, at which one pod's eviction is asked. */
function attempts(who: 'ours' | 'kubectl', until: number): number[] {
  const times = [0];
  while (times.at(-1)! <= until) {
    const t = times.at(-1)!;
    if (who === 'kubectl') times.push(t + KUBECTL_RETRY_MS);
    else {
      const retryAt = t + Math.min(60 * SECOND, 5 * SECOND * 2 ** (times.length - 1));
      times.push(Math.ceil(retryAt / POLL_MS) * POLL_MS);
    }
  }
  return times;
}

/** One node's drain: when it ends, and when the budget allows the next disruption (both from its start). */
function drainModel(who: 'ours' | 'kubectl', freeAt: number): { end: number; freeAt: number } {
  const G = TERMINATION_GRACE_MS;
  const Rp = REPLACEMENT_READY_MS;
  let free = freeAt;
  let gone = 0;
  for (let j = 0; j < PODS_PER_NODE; j++) {
    const accepted = attempts(who, free).find((t) => t >= free)!;
    gone = accepted + G;
    free = gone + Rp;
  }
  const end = who === 'ours' ? Math.ceil(gone / POLL_MS) * POLL_MS : Math.ceil(gone / KUBECTL_TICK_MS) * KUBECTL_TICK_MS;
  return { end, freeAt: free - end };
}

export interface Model {
  ours: { surgeMs: number; drainPerNodeMs: number[]; gateMs: number; totalMs: number };
  manual: { drainPerNodeMs: number[]; totalMs: number };
}

/** The model's durations for a group of `size` instances whose nodes are Ready `readyMs` after launch. */
export function model(size: number, readyMs: number): Model {
  const surgeMs = Math.ceil(readyMs / POLL_MS) * POLL_MS;
  const oursDrains: number[] = [];
  let free = 0;
  for (let i = 0; i < size; i++) {
    const d = drainModel('ours', free);
    oursDrains.push(d.end);
    free = Math.max(0, d.freeAt);
  }
  const gateMs = Math.ceil(free / POLL_MS) * POLL_MS;
  const manualDrains: number[] = [];
  let mfree = 0;
  for (let i = 0; i < size; i++) {
    // The next replacement's launch and Ready wait runs while the last evicted pod's replacement starts.
    const d = drainModel('kubectl', Math.max(0, mfree - surgeMs));
    manualDrains.push(d.end);
    mfree = d.freeAt;
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    ours: { surgeMs, drainPerNodeMs: oursDrains, gateMs, totalMs: surgeMs + sum(oursDrains) + gateMs },
    manual: { drainPerNodeMs: manualDrains, totalMs: size * surgeMs + sum(manualDrains) },
  };
}

/** What the bench runs: the group sizes at the default timings, and one size with slow nodes. */
export const SIZES = [4, 16, 64];
/**
 * Slow nodes: Ready 4.5 minutes after launch, the average one team reports for its EKS nodes before
 * tuning them (https://dev.to/alitron/optimizing-eks-node-provisioning-addressing-kubelet-delays-with-adjusted-eviction-thresholds-and-4ogh).
 */
export const SLOW: Partial<NodeTimings> = { inServiceMs: 30 * SECOND, joinMs: 240 * SECOND, readyMs: 270 * SECOND };

const min = (ms: number) => Number((ms / 60_000).toFixed(1));
const sec = (ms: number) => Number((ms / 1000).toFixed(1));
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Our AWS operations, each with what it costs per group (N instances, surge and gate the phases' simulated time, p the poll interval). */
const AWS_BOUNDS: [string, string, (n: number, m: Measured) => number][] = [
  ['autoscaling:DescribeAutoScalingGroups', '7 + N + (surge + gate) / p', (n, m) => 7 + n + (m.phases!.surgeMs + m.phases!.gateMs) / POLL_MS],
  ['autoscaling:DescribeScalingActivities', 'surge / p (each surge poll but the last)', (_, m) => m.phases!.surgeMs / POLL_MS],
  ['autoscaling:TerminateInstanceInAutoScalingGroup', 'N', (n) => n],
  ['autoscaling:CreateOrUpdateTags', '6 (the record, before each step)', () => 6],
  ['autoscaling:UpdateAutoScalingGroup', '3 (template, surge, put back)', () => 3],
  ['autoscaling:DeleteTags', '2 (the record removed)', () => 2],
  ['autoscaling:SuspendProcesses', '1', () => 1],
  ['autoscaling:ResumeProcesses', '1', () => 1],
  ['autoscaling:DescribeInstanceRefreshes', '1 (pre-flight)', () => 1],
  ['ec2:DescribeLaunchTemplateVersions', "1 + pages of the template's versions", () => 2],
  ['ec2:CreateLaunchTemplateVersion', '2 (a dry run, then the version)', () => 2],
  ['ec2:RunInstances', '1 (a dry run: the launch permission Auto Scaling checks)', () => 1],
];

/**
 * Kubernetes requests per group: the pre-flight's 3 (and its 3 SelfSubjectAccessReviews) and the drain step's 2, a node list each surge poll,
 * a node list and a pod list each gate poll, per old node a node list, a GET and a PATCH of the node and a
 * pod list each drain poll, and the evictions: one accepted a pod, and a refused one at most once a poll a pod.
 */
const kubeBound = (n: number, m: Measured) => {
  const { surgeMs, gateMs, drainMs } = m.phases!;
  const polls = drainMs / POLL_MS + n;
  return 8 + (surgeMs / POLL_MS + 1) + 2 * (gateMs / POLL_MS + 1) + 3 * n + polls + PODS_PER_NODE * n + PODS_PER_NODE * polls;
};
const KUBE_FORMULA = '11 + (4 + 2k)·N + (surge + 2·gate + (k + 1)·drain) / p';

export interface SelfManagedTables {
  durations: Row[];
  phases: Row[];
  calls: Row[];
}

/** Runs both procedures for each size (and the slow-node case), and makes the section's three tables. */
export async function selfManagedBench(log: (line: string) => void = () => undefined): Promise<SelfManagedTables> {
  const runs: { n: number; timings: Partial<NodeTimings>; ours: Measured; manual: Measured; model: Model }[] = [];
  for (const [n, timings] of [...SIZES.map((x) => [x, {}] as const), [16, SLOW] as const]) {
    const readyMs = timingsOf(timings).readyMs;
    log(`self-managed: ${n} instances, nodes Ready ${sec(readyMs)} s after launch`);
    runs.push({ n, timings, ours: await ours(n, timings), manual: await manual(n, timings), model: model(n, readyMs) });
  }
  const durations: Row[] = runs.map((r) => ({
    instances: r.n,
    'node Ready after (s)': sec(timingsOf(r.timings).readyMs),
    'ours: simulated min': min(r.ours.simulatedMs),
    'ours: model min': min(r.model.ours.totalMs),
    'manual: simulated min': min(r.manual.simulatedMs),
    'manual: model min': min(r.model.manual.totalMs),
    'ours / manual (simulated)': Number((r.ours.simulatedMs / r.manual.simulatedMs).toFixed(2)),
    'ours: wall s': sec(r.ours.wallMs),
    'manual: wall s': sec(r.manual.wallMs),
    'ours / manual (wall)': Number((r.ours.wallMs / r.manual.wallMs).toFixed(2)),
    result: `${r.ours.result} / ${r.manual.result}`,
  }));
  const phases: Row[] = runs.map((r) => ({
    instances: r.n,
    'node Ready after (s)': sec(timingsOf(r.timings).readyMs),
    'ours: surge wait s': sec(r.ours.phases!.surgeMs),
    'surge, model s': sec(r.model.ours.surgeMs),
    'ours: drain and terminate, a node s': sec(r.ours.phases!.drainMs / r.n),
    'drain, model s': sec(avg(r.model.ours.drainPerNodeMs)),
    'ours: health gate s': sec(r.ours.phases!.gateMs),
    'gate, model s': sec(r.model.ours.gateMs),
    'manual: launch, Ready, drain, a node s': sec(r.manual.simulatedMs / r.n),
    'manual, model s': sec(r.model.manual.totalMs / r.n),
    'evictions accepted (ours / manual)': `${r.ours.evictions.accepted} / ${r.manual.evictions.accepted}`,
    'evictions refused, 429 (ours / manual)': `${r.ours.evictions.refused} / ${r.manual.evictions.refused}`,
  }));
  const byDefault = runs.filter((r) => Object.keys(r.timings).length === 0);
  const cell = (measured: number, bound: number) => `${measured} (≤ ${Math.round(bound)})`;
  const calls: Row[] = AWS_BOUNDS.map(([operation, formula, bound]) => ({
    request: operation,
    'per group, at most': formula,
    ...Object.fromEntries(byDefault.map((r) => [`ours, ${r.n} instances`, cell(r.ours.aws[operation.split(':')[1]!] ?? 0, bound(r.n, r.ours))])),
    ...Object.fromEntries(byDefault.map((r) => [`manual, ${r.n}`, r.manual.aws[operation.split(':')[1]!] ?? 0])),
  }));
  const total = (m: Measured) => Object.values(m.aws).reduce((a, b) => a + b, 0);
  calls.push({
    request: 'AWS, all',
    'per group, at most': '26 + 2N + (2·surge + gate) / p',
    ...Object.fromEntries(
      byDefault.map((r) => [`ours, ${r.n} instances`, cell(total(r.ours), 26 + 2 * r.n + (2 * r.ours.phases!.surgeMs + r.ours.phases!.gateMs) / POLL_MS)]),
    ),
    ...Object.fromEntries(byDefault.map((r) => [`manual, ${r.n}`, total(r.manual)])),
  });
  calls.push({
    request: 'Kubernetes, all',
    'per group, at most': KUBE_FORMULA,
    ...Object.fromEntries(byDefault.map((r) => [`ours, ${r.n} instances`, cell(r.ours.kube, kubeBound(r.n, r.ours))])),
    ...Object.fromEntries(byDefault.map((r) => [`manual, ${r.n}`, r.manual.kube])),
  });
  return { durations, phases, calls };
}

export const timingsOf = (t: Partial<NodeTimings>): NodeTimings => ({ ...DEFAULT_NODE_TIMINGS, ...t });
