import { TagResourceCommand, type EKSClient } from '@aws-sdk/client-eks';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import type { CoreV1Event, V1Node, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { NODEGROUP_LABEL } from '../fleet/placement.js';
import { describeKubeError } from '../fleet/kube-errors.js';
import type { KubeApi, Workloads } from '../model/kube-api.js';
import { formatDuration } from '../decision/duration.js';
import { UNHEALTHY_TAG, unhealthyParameter } from '../model/fleet.js';
import {
  upgradeEntry,
  type HealthReport,
  type HealthResult,
  type NodegroupUpgrade,
  type PodFinding,
  type WorkloadCount,
  type WorkloadFinding,
} from '../model/upgrade-report.js';
import { describeError } from '../fleet/aws-clients.js';
import { iso, type ExecutorContext, type PreflightCheck } from './executor.js';
import { retryTransient } from './retry.js';
import type { HealthBaseline } from '../model/upgrade-report.js';

/**
 * The label EKS sets on a managed node group's nodes with the AMI id the node was launched from (EKS
 * user guide, managed node update behavior; ../shared/reference/eks.md section 5); the node group's
 * name is NODEGROUP_LABEL. UNVERIFIED that every AMI type's nodes carry the image label: a node without
 * it is not judged by image.
 */
export const IMAGE_LABEL = 'eks.amazonaws.com/nodegroup-image';

const ref = (w: Pick<WorkloadCount, 'kind' | 'namespace' | 'name'>) => `${w.kind} ${w.namespace}/${w.name}`;
const controller = (refs: V1OwnerReference[] | undefined) => refs?.find((r) => r.controller) ?? refs?.[0];

/**
 * The workload a pod belongs to, through its controller's owner reference: a StatefulSet or
 * DaemonSet directly, a Deployment through its ReplicaSet (Kubernetes docs, "Owners and
 * Dependents"). Pods of Jobs, of bare ReplicaSets and without owner are not watched.
 */
export function workloadOf(pod: V1Pod, workloads: Workloads): Pick<WorkloadCount, 'kind' | 'namespace' | 'name'> | undefined {
  const owner = controller(pod.metadata?.ownerReferences);
  const namespace = pod.metadata?.namespace ?? '';
  if (owner?.kind === 'StatefulSet' || owner?.kind === 'DaemonSet') return { kind: owner.kind, namespace, name: owner.name };
  if (owner?.kind !== 'ReplicaSet') return undefined;
  const rs = workloads.replicaSets.find((r) => r.metadata?.namespace === namespace && r.metadata?.name === owner.name);
  const top = controller(rs?.metadata?.ownerReferences);
  return top?.kind === 'Deployment' ? { kind: 'Deployment', namespace, name: top.name } : undefined;
}

/** A workload's desired and ready counts now, as its controller reports them; `undefined` when it is gone. */
export function countOf(w: Pick<WorkloadCount, 'kind' | 'namespace' | 'name'>, workloads: Workloads): WorkloadCount | undefined {
  const same = (o: { metadata?: { namespace?: string; name?: string } }) => o.metadata?.namespace === w.namespace && o.metadata?.name === w.name;
  if (w.kind === 'Deployment') {
    const d = workloads.deployments.find(same);
    return d && { ...w, desired: d.spec?.replicas ?? 1, ready: d.status?.readyReplicas ?? 0 };
  }
  if (w.kind === 'StatefulSet') {
    const s = workloads.statefulSets.find(same);
    return s && { ...w, desired: s.spec?.replicas ?? 1, ready: s.status?.readyReplicas ?? 0 };
  }
  const d = workloads.daemonSets.find(same);
  return d && { ...w, desired: d.status?.desiredNumberScheduled ?? 0, ready: d.status?.numberReady ?? 0 };
}

/**
 * Before any update: for each node group, its nodes' images and the workloads with pods on its nodes,
 * with their ready counts, from the pods and nodes the pre-flight already read. Reads everything else
 * the gate will read (events too), so a missing RBAC rule fails here, before anything changes.
 */
export async function readBaselines(kube: KubeApi, placement: { pods: V1Pod[]; nodes: Record<string, V1Node[]> }): Promise<Record<string, HealthBaseline>> {
  const [workloads] = await Promise.all([kube.listWorkloads(), kube.listEvents('kube-system', undefined, 1)]);
  const result: Record<string, HealthBaseline> = {};
  for (const [ng, nodes] of Object.entries(placement.nodes)) {
    const names = new Set(nodes.map((n) => n.metadata?.name));
    const seen = new Map<string, WorkloadCount>();
    for (const pod of placement.pods.filter((p) => names.has(p.spec?.nodeName))) {
      const w = workloadOf(pod, workloads);
      const count = w && countOf(w, workloads);
      if (count) seen.set(ref(count), count);
    }
    const nodeImages = nodes.flatMap((n) => {
      const image = n.metadata?.labels?.[IMAGE_LABEL];
      return image ? [{ image, createdAt: new Date(n.metadata?.creationTimestamp ?? 0).getTime() }] : [];
    });
    result[ng] = { nodegroup: ng, nodeImages, nodes: nodes.length, workloads: [...seen.values()] };
  }
  return result;
}

const isReady = (conditions: { type: string; status: string }[] | undefined) => conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const restartsOf = (pod: V1Pod) => (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);

/** Why a pod is not well: the waiting reason of a container, else its last termination, else the phase. */
export function podReason(pod: V1Pod): string | null {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const waiting = statuses.map((c) => c.state?.waiting?.reason).find((r) => r && r !== 'ContainerCreating' && r !== 'PodInitializing');
  if (waiting) return waiting;
  const terminated = statuses.map((c) => c.lastState?.terminated?.reason ?? c.state?.terminated?.reason).find(Boolean);
  if (terminated) return terminated;
  if (pod.status?.phase && pod.status.phase !== 'Running') return pod.status.phase;
  return isReady(pod.status?.conditions) ? null : 'not ready';
}

export interface GateOptions {
  /** The AMI id the nodes must run, when it is known (a CUSTOM node group's image); else any image the group did not run before. */
  imageId?: string;
  /** When the update was created: only nodes made before it ran the old image (a resumed update made some already). */
  updateCreatedAt: number;
  timeoutMs: number;
  pollIntervalMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  log: (line: string) => void;
  label: string;
  /**
   * The nodes to watch, as a label selector; default: the node group's (eks.amazonaws.com/nodegroup=<name>).
   * A Karpenter node class's: karpenter.k8s.aws/ec2nodeclass=<name>.
   */
  nodeSelector?: string;
  /** Run at every poll (the cluster-autoscaler pause's watch); never throws. */
  onPoll?: () => Promise<void>;
}

interface Observation {
  nodes: string[];
  nodeSummary: string;
  findings: WorkloadFinding[];
  pods: V1Pod[];
  workloads: Workloads;
}

/**
 * One look at the node group: its nodes (Ready, on the new image) and the baseline's workloads (back to
 * their desired ready count, or to where they were when already degraded before the update).
 */
async function observe(kube: KubeApi, baseline: HealthBaseline, options: GateOptions): Promise<Observation> {
  const [nodes, workloads, pods] = await Promise.all([
    kube.listNodes(options.nodeSelector ?? `${NODEGROUP_LABEL}=${baseline.nodegroup}`),
    kube.listWorkloads(),
    kube.listPods('status.phase!=Succeeded'),
  ]);
  const problems: string[] = [];
  const image = (n: V1Node) => n.metadata?.labels?.[IMAGE_LABEL];
  const before = new Set(baseline.nodeImages.filter((n) => n.createdAt < options.updateCreatedAt).map((n) => n.image));
  const old = (n: V1Node) => {
    const i = image(n);
    if (!i) return false; // UNVERIFIED label: not judged
    return options.imageId ? i !== options.imageId : before.has(i);
  };
  const notReady = nodes.filter((n) => !isReady(n.status?.conditions));
  for (const n of notReady) problems.push(`node ${n.metadata?.name} is not Ready`);
  for (const n of nodes.filter(old))
    problems.push(`node ${n.metadata?.name} still runs ${image(n)}${options.imageId ? `, not ${options.imageId}` : ' (its image before the update)'}`);
  if (nodes.length === 0 && baseline.nodes > 0) problems.push(`the node group has no nodes (it had ${baseline.nodes})`);
  const good = nodes.filter((n) => !notReady.includes(n) && !old(n)).length;
  const findings: WorkloadFinding[] = [];
  for (const before of baseline.workloads) {
    const now = countOf(before, workloads);
    if (!now) continue; // deleted since: nothing to wait for
    const need = before.ready < before.desired ? Math.min(before.ready, now.desired) : now.desired;
    if (now.ready < need) findings.push({ ...now, before: { desired: before.desired, ready: before.ready }, need });
  }
  const watched = new Set(baseline.workloads.map(ref));
  const theirs = pods.filter((p) => {
    const w = workloadOf(p, workloads);
    return w !== undefined && watched.has(ref(w));
  });
  return { nodes: problems, nodeSummary: `nodes ${good}/${nodes.length} Ready on the new image`, findings, pods: theirs, workloads };
}

/**
 * The health gate after a node group's update: waits until every node of the group is Ready on the
 * new image, every workload that had pods on it is back, and no pod of those workloads restarted
 * since the previous look (two looks in a row without a restart: a crash-looping pod may be briefly
 * ready between crashes). Gives up after `timeoutMs` with what did not come back.
 */
export async function healthGate(kube: KubeApi, baseline: HealthBaseline, options: GateOptions): Promise<HealthResult> {
  const start = options.now();
  const first = new Map<string, number>();
  let previous: Map<string, number> | undefined;
  let last = '';
  let seen: Observation | undefined;
  let restarting: V1Pod[] = [];
  for (;;) {
    let error: string | undefined;
    try {
      seen = await observe(kube, baseline, options);
      const counts = new Map(seen.pods.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, restartsOf(p)]));
      for (const [k, n] of counts) if (!first.has(k)) first.set(k, n);
      restarting = previous
        ? seen.pods.filter(
            (p) =>
              (counts.get(`${p.metadata?.namespace}/${p.metadata?.name}`) ?? 0) > (previous!.get(`${p.metadata?.namespace}/${p.metadata?.name}`) ?? Infinity),
          )
        : [];
      const crashLooping = seen.pods.filter((p) => podReason(p) === 'CrashLoopBackOff');
      const healthy = seen.nodes.length === 0 && seen.findings.length === 0 && restarting.length === 0 && crashLooping.length === 0;
      if (healthy && previous) {
        return { passed: true, durationMs: options.now() - start, watched: baseline.workloads.length, nodes: [], workloads: [], pods: [] };
      }
      previous = counts;
      const back = baseline.workloads.length - seen.findings.length;
      const waiting = seen.findings[0] ? ` · waiting for ${ref(seen.findings[0])} (${seen.findings[0].ready}/${seen.findings[0].desired} ready)` : '';
      const restartsText = restarting.length + crashLooping.length > 0 ? ` · ${new Set([...restarting, ...crashLooping]).size} pod(s) restarting` : '';
      const line = `${options.label}: health · ${seen.nodeSummary} · workloads ${back}/${baseline.workloads.length} back${waiting}${restartsText}`;
      if (line !== last) options.log(`${line} · ${formatDuration(options.now() - start)}`);
      last = line;
    } catch (e) {
      error = describeKubeError(e);
      options.log(`${options.label}: health · could not read the cluster (${error}); still watching`);
    }
    await options.onPoll?.();
    if (options.now() - start >= options.timeoutMs) break;
    await options.sleep(Math.min(options.pollIntervalMs, Math.max(1, options.timeoutMs - (options.now() - start))));
  }
  const durationMs = options.now() - start;
  if (!seen)
    return { passed: false, durationMs, watched: baseline.workloads.length, nodes: ['the cluster could not be read during the gate'], workloads: [], pods: [] };
  // The pods to name: of the workloads that did not come back, and any that restarted during the gate.
  const behind = new Set(seen.findings.map(ref));
  const named = seen.pods.filter((p) => {
    const w = workloadOf(p, seen.workloads);
    const key = `${p.metadata?.namespace}/${p.metadata?.name}`;
    return (w && behind.has(ref(w)) && podReason(p) !== null) || restartsOf(p) > (first.get(key) ?? Infinity) || podReason(p) === 'CrashLoopBackOff';
  });
  const pods = await Promise.all(
    named.slice(0, 10).map(async (p): Promise<PodFinding> => {
      const key = `${p.metadata?.namespace}/${p.metadata?.name}`;
      const w = workloadOf(p, seen.workloads);
      return {
        namespace: p.metadata?.namespace ?? '',
        name: p.metadata?.name ?? '',
        workload: w ? ref(w) : '',
        ready: isReady(p.status?.conditions),
        reason: podReason(p),
        restarts: restartsOf(p),
        restartsDuringGate: Math.max(0, restartsOf(p) - (first.get(key) ?? restartsOf(p))),
        events: await podEvents(kube, p),
      };
    }),
  );
  return { passed: false, durationMs, watched: baseline.workloads.length, nodes: seen.nodes, workloads: seen.findings, pods };
}

/** The pod's latest events, `Reason: message`, or why they could not be read. */
async function podEvents(kube: KubeApi, pod: V1Pod): Promise<string[]> {
  try {
    const events: CoreV1Event[] = await kube.listEvents(pod.metadata?.namespace ?? 'default', `involvedObject.name=${pod.metadata?.name}`);
    return events
      .sort((a, b) => String(b.lastTimestamp ?? b.eventTime ?? '').localeCompare(String(a.lastTimestamp ?? a.eventTime ?? '')))
      .slice(0, 3)
      .map((e) => `${e.reason ?? e.type ?? 'Event'}: ${(e.message ?? '').trim()}${e.count && e.count > 1 ? ` (×${e.count})` : ''}`);
  } catch (error) {
    return [`events not readable: ${describeKubeError(error)}`];
  }
}

/** One line per problem, for the result's reason and the log. */
export function describeHealth(h: HealthResult): string {
  const parts = [
    ...h.workloads.map(
      (w) => `${ref(w)} ${w.ready}/${w.desired} ready${w.before.ready < w.before.desired ? ` (${w.before.ready}/${w.before.desired} before the update)` : ''}`,
    ),
    ...h.pods
      .filter((p) => p.reason || p.restartsDuringGate > 0)
      .map(
        (p) =>
          `pod ${p.namespace}/${p.name}: ${p.reason ?? 'restarting'}${p.restartsDuringGate > 0 ? `, ${p.restartsDuringGate} restart(s) during the gate` : ''}`,
      ),
    ...h.nodes,
  ];
  return parts.join('; ') || 'no detail could be read';
}

/**
 * The health gate after EKS's Successful and ACTIVE: `upgraded` when the node group's nodes and the
 * workloads that ran on them came back, else `unhealthy`, recorded so a re-run (and the check) sees it:
 * in an SSM parameter (../model/fleet.ts UNHEALTHY_PARAMETER_PATH, durable: no infrastructure-as-code
 * apply removes it), and in a tag on the node group (its visible mirror).
 */
export async function gateNodegroup(
  eks: EKSClient,
  check: PreflightCheck,
  ctx: ExecutorContext,
  reached: string,
  base: Partial<NodegroupUpgrade>,
  startedAt: number,
  updateCreatedAt: number,
): Promise<NodegroupUpgrade> {
  const { cluster, kube, settings, deps } = ctx;
  const { item } = check;
  const label = `${cluster.name}/${item.nodegroup}`;
  const baseline = check.baseline!;
  deps.log(
    `${label}: health gate: ${baseline.workloads.length} workload(s) had pods on it; ` +
      `waiting up to ${formatDuration(settings.healthTimeoutMs)} for them and its nodes`,
  );
  const result = await healthGate(kube, baseline, {
    ...check.healthTarget,
    updateCreatedAt,
    timeoutMs: settings.healthTimeoutMs,
    pollIntervalMs: settings.pollIntervalMs,
    now: deps.now,
    sleep: deps.sleep,
    log: deps.log,
    label,
    ...(ctx.watchPause ? { onPoll: () => ctx.watchPause!(item.nodegroup) } : {}),
  });
  const health: HealthReport = { ...result, arn: check.arn ?? null, parameter: null, recorded: null, recordError: null };
  const timing = { endedAt: iso(deps.now()), durationMs: deps.now() - startedAt };
  if (result.passed) {
    deps.log(`${label}: health gate passed in ${formatDuration(result.durationMs)}: nodes Ready on the new image, ${result.watched} workload(s) back`);
    return upgradeEntry(item, 'upgraded', `${reached}; health gate passed (${result.watched} workload(s) back in ${formatDuration(result.durationMs)})`, {
      ...base,
      ...timing,
      health,
    });
  }
  const what = describeHealth(result);
  const at = new Date(deps.now()).toISOString();
  const target = item.target?.imageId ?? item.target?.releaseVersion ?? '';
  const value = `${target} ${at}`;
  const errors: string[] = [];
  // The durable record first: PutParameter with Overwrite replaces an older mark of the node group.
  const parameter = unhealthyParameter(cluster.name, item.nodegroup);
  try {
    const record = JSON.stringify({ target, at, cluster: cluster.name, nodegroup: item.nodegroup, update: base.updateId ?? null });
    const description =
      `eks-ami-drift health gate: ${item.nodegroup} was unhealthy on ${target}. ` +
      `Delete this parameter and untag the node group's ${UNHEALTHY_TAG} to lift the hold.`;
    await retryTransient(
      () => ctx.clients.ssm.send(new PutParameterCommand({ Name: parameter, Value: record, Type: 'String', Overwrite: true, Description: description })),
      deps.sleep,
    );
    health.parameter = parameter;
  } catch (error) {
    errors.push(`SSM parameter ${parameter}: ${describeError(error)}`);
    deps.warn(
      `${label}: could not write the SSM parameter ${parameter} (${describeError(error)}): ` +
        'the hold lives only in the tag, which infrastructure as code may remove',
    );
  }
  if (check.arn) {
    try {
      await retryTransient(() => eks.send(new TagResourceCommand({ resourceArn: check.arn, tags: { [UNHEALTHY_TAG]: value } })), deps.sleep);
      health.recorded = `${UNHEALTHY_TAG}=${value}`;
    } catch (error) {
      errors.push(`tag ${UNHEALTHY_TAG}: ${describeError(error)}`);
      deps.warn(
        `${label}: could not tag the node group ${UNHEALTHY_TAG} (${describeError(error)})` +
          `${health.parameter ? `: the hold is in the SSM parameter ${parameter}` : ': a re-run will not know it was unhealthy'}`,
      );
    }
  } else errors.push(`tag ${UNHEALTHY_TAG}: DescribeNodegroup gave no ARN`);
  if (errors.length > 0) health.recordError = errors.join('; ');
  deps.warn(`${label}: unhealthy after the update: ${what}`);
  return upgradeEntry(
    item,
    'unhealthy',
    `EKS's update succeeded (${reached}), but the workloads did not come back within ${formatDuration(settings.healthTimeoutMs)} (health-timeout): ${what}`,
    { ...base, ...timing, health },
  );
}
