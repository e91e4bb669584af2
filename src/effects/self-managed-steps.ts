import {
  DescribeScalingActivitiesCommand,
  ResumeProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { DRAIN_TAINT, isBeingReplaced } from '../decision/drain.js';
import { formatDuration } from '../decision/duration.js';
import type { DrainKubeApi, KubeApi } from '../model/kube-api.js';
import { drainNode } from './drain.js';
import type { ExecutorContext } from './executor.js';
import { undoSource } from './self-managed-change.js';
import { fromNew } from './self-managed-source.js';
import { active, describeGroup, instanceOf, removeRecord, writeRecord, type ReplaceRecord } from './self-managed-record.js';

/*
 * The steps of a self-managed group's replacement that read and wait (./self-managed-roll.ts runs them in
 * order): the wait for the surge's nodes, each old node drained then terminated, the processes resumed
 * and the capacity back, the undo that `restore` runs.
 */

export type SelfManagedKube = KubeApi & DrainKubeApi;

const isReady = (n: V1Node | undefined) => n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** The cluster's nodes by the instance id in their provider ID. */
export async function nodesByInstance(kube: KubeApi): Promise<Map<string, V1Node>> {
  const nodes = await kube.listNodes('');
  return new Map(nodes.flatMap((n) => (instanceOf(n.spec?.providerID) ? [[instanceOf(n.spec?.providerID)!, n] as [string, V1Node]] : [])));
}

/** The group's instances launched from the record's new template version, still in the group. */
export const newInstances = (g: AutoScalingGroup | undefined, record: ReplaceRecord) => (g?.Instances ?? []).filter((i) => fromNew(i, record));

/**
 * Waits until `record.desired` instances of the new template version are Ready nodes: progress at the
 * poll interval, the cluster-autoscaler pause watched each poll. Stops at the first launch that failed
 * since the replacement started (a Failed scaling activity: Auto Scaling API reference,
 * DescribeScalingActivities, "If an attempt to launch instances failed, the StatusCode value is Failed ...
 * and the StatusMessage element ... indicates the cause"), and at the timeout naming the nodes not Ready.
 */
export async function waitForNewNodes(ctx: ExecutorContext, name: string, record: ReplaceRecord, timeoutMs: number): Promise<void> {
  const { deps, settings, kube } = ctx;
  const label = `${ctx.cluster.name}/${name}`;
  const startedAt = deps.now();
  let last = '';
  for (;;) {
    const g = await describeGroup(ctx.clients.autoscaling, name);
    const fresh = newInstances(g, record);
    const nodes = await nodesByInstance(kube);
    const ready = fresh.filter((i) => isReady(nodes.get(i.InstanceId ?? '')));
    const line =
      `${label}: surge · new nodes ${ready.length}/${record.desired} Ready on ${record.image} · ` +
      `${fresh.length} instance(s) launched · old ${record.old.length}`;
    if (line !== last) deps.log(`${line} · ${formatDuration(deps.now() - startedAt)}`);
    last = line;
    if (ready.length >= record.desired) return;
    const { Activities } = await ctx.clients.autoscaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: name, MaxRecords: 20 }));
    const failed = (Activities ?? []).find((a) => a.StatusCode === 'Failed' && (a.StartTime?.getTime() ?? 0) >= record.startedAt);
    if (failed)
      throw new Error(
        `the surge failed: Auto Scaling could not launch an instance (${failed.StatusMessage ?? failed.Description ?? 'no message'}). ` +
          `The group stays as the record ${'eks-ami-drift/replacing'} says; re-run to carry on, or restore to undo`,
      );
    await ctx.watchPause?.(name);
    if (deps.now() - startedAt >= timeoutMs) {
      const notReady = fresh
        .filter((i) => !ready.includes(i))
        .map((i) => `${nodes.get(i.InstanceId ?? '')?.metadata?.name ?? 'no node yet'} (${i.InstanceId})`);
      throw new Error(
        `new nodes not Ready within ${formatDuration(timeoutMs)} (wait-timeout): ${ready.length}/${record.desired} Ready` +
          `${notReady.length > 0 ? `; not Ready: ${notReady.join(', ')}` : ''}. No old node was drained; re-run to carry on, or restore to undo`,
      );
    }
    await deps.sleep(settings.pollIntervalMs);
  }
}

/**
 * Drains each old instance's node (../effects/drain.ts) and then terminates the instance with
 * ShouldDecrementDesiredCapacity=true, so the surge shrinks back one instance at a time (Auto Scaling
 * API reference, TerminateInstanceInAutoScalingGroup). An instance already terminating or gone is
 * skipped; a node never registered is not drained. At most `limit` instances (the undo's surplus).
 */
export async function drainAndTerminate(ctx: ExecutorContext, name: string, ids: readonly string[], limit = Infinity): Promise<string[]> {
  const { deps, settings } = ctx;
  const kube = ctx.kube as SelfManagedKube;
  const label = `${ctx.cluster.name}/${name}`;
  const done: string[] = [];
  for (const [n, id] of ids.entries()) {
    if (done.length >= limit) break;
    const g = await describeGroup(ctx.clients.autoscaling, name);
    if (!(g?.Instances ?? []).some((i) => i.InstanceId === id && active(i))) continue;
    const node = (await nodesByInstance(kube)).get(id)?.metadata?.name;
    if (node) {
      deps.log(`${label}: draining ${node} (${id}), old node ${n + 1}/${ids.length}`);
      let last = '';
      const result = await drainNode(kube, node, {
        now: deps.now,
        sleep: async (ms) => {
          await ctx.watchPause?.(name);
          await deps.sleep(ms);
        },
        pollIntervalMs: settings.pollIntervalMs,
        force: settings.force,
        onProgress: (p) => {
          const line =
            `${label}: drain ${node} · ${p.podsLeft.length} pod(s) left` +
            (p.waitingOnBudget.length > 0
              ? ` · ${p.waitingOnBudget.length} waiting on a PodDisruptionBudget (${p.waitingOnBudget.slice(0, 3).join(', ')})`
              : '');
          if (line !== last) deps.log(`${line} · ${formatDuration(p.elapsedMs)}`);
          last = line;
        },
      });
      deps.log(
        `${label}: ${node} drained: ${result.evicted.length} pod(s) evicted${result.deleted.length > 0 ? `, ${result.deleted.length} deleted (force)` : ''}`,
      );
    }
    await ctx.clients.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: id, ShouldDecrementDesiredCapacity: true }));
    deps.log(`${label}: ${id} terminated, desired capacity decremented`);
    done.push(id);
  }
  return done;
}

/** The processes this run suspended resumed, minimum, maximum and desired capacity back as recorded, the record removed. */
export async function putBack(ctx: ExecutorContext, name: string, record: ReplaceRecord): Promise<void> {
  const { autoscaling } = ctx.clients;
  if (record.suspended.length > 0) await autoscaling.send(new ResumeProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: record.suspended }));
  await autoscaling.send(
    new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: record.min, MaxSize: record.max, DesiredCapacity: record.desired }),
  );
  await removeRecord(autoscaling, name);
  ctx.deps.log(
    `${ctx.cluster.name}/${name}: ${record.suspended.length > 0 ? `resumed ${record.suspended.join(', ')}; ` : ''}` +
      `capacity back to desired ${record.desired}, min ${record.min}, max ${record.max}; record removed`,
  );
}

/**
 * Undoes a killed replacement instead of finishing it (what `restore` runs): the surplus over the
 * recorded desired capacity drained and terminated, the old instances first (the new ones are kept),
 * the nodes still tainted by the drain uncordoned and untainted, the recorded processes resumed, the
 * capacity back, the group's launch template version, mixed instances policy or launch configuration
 * (and a template's default version) back as recorded, what was made for the image deleted
 * (./self-managed-change.ts undoSource), the record removed. The new instances kept run the new image
 * until they are replaced.
 */
export async function undoSelfManaged(ctx: ExecutorContext, name: string, record: ReplaceRecord): Promise<string> {
  const kube = ctx.kube as SelfManagedKube;
  await writeRecord(ctx.clients.autoscaling, name, { ...record, step: 'resume' });
  const g = await describeGroup(ctx.clients.autoscaling, name);
  const staying = (g?.Instances ?? []).filter(active);
  const surplus = Math.max(0, staying.length - record.desired);
  // Which to take out first: new instances whose node never joined or is not Ready (they carry no pods,
  // and the old ones are the only place the workloads can run), then the old ones (drained onto the
  // new Ready nodes, as the roll would have), then new Ready ones.
  const before = await nodesByInstance(kube);
  const rank = (id: string) => (record.old.includes(id) ? 1 : isReady(before.get(id)) ? 2 : 0);
  const order = staying.map((i) => i.InstanceId ?? '').sort((a, b) => rank(a) - rank(b));
  const gone = await drainAndTerminate(ctx, name, order, surplus);
  const nodes = await nodesByInstance(kube);
  const untainted: string[] = [];
  for (const i of staying.filter((x) => !gone.includes(x.InstanceId ?? ''))) {
    const node = nodes.get(i.InstanceId ?? '');
    if (!node || !isBeingReplaced(node)) continue;
    const taints = (node.spec?.taints ?? []).filter((t) => !(t.key === DRAIN_TAINT.key && t.effect === DRAIN_TAINT.effect));
    await kube.patchNode(node.metadata?.name ?? '', [
      { op: 'add', path: '/spec/unschedulable', value: false },
      { op: 'add', path: '/spec/taints', value: taints },
    ]);
    untainted.push(node.metadata?.name ?? '');
  }
  const source = await undoSource(ctx, name, record);
  await putBack(ctx, name, record);
  const kept = untainted.length > 0 ? `, ${untainted.join(', ')} uncordoned` : '';
  return `undone: ${gone.length} surplus instance(s) drained and terminated${kept}${source ? `; ${source}` : ''}`;
}

/**
 * The gate after a self-managed group (EKS's node group health gate reads managed node groups' labels,
 * which these nodes lack): every instance of the group on the new template version and its node Ready,
 * as many as recorded, and every pod of the controllers whose pods were on the old nodes Ready again.
 */
export async function gateSelfManaged(
  ctx: ExecutorContext,
  name: string,
  record: ReplaceRecord,
  owners: ReadonlySet<string>,
): Promise<{ passed: boolean; detail: string; durationMs: number }> {
  const { deps, settings, kube } = ctx;
  const label = `${ctx.cluster.name}/${name}`;
  const startedAt = deps.now();
  let last = '';
  for (;;) {
    const g = await describeGroup(ctx.clients.autoscaling, name);
    const staying = (g?.Instances ?? []).filter(active);
    const nodes = await nodesByInstance(kube);
    const good = staying.filter((i) => fromNew(i, record) && isReady(nodes.get(i.InstanceId ?? '')));
    const pods: V1Pod[] = (await kube.listPods('status.phase!=Succeeded')).filter((p) => owners.has(ownerKey(p)));
    const notReady = pods.filter((p) => !p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    const detail =
      `nodes ${good.length}/${record.desired} Ready on the new image${staying.length !== good.length ? ` (${staying.length - good.length} other)` : ''} · ` +
      `pods ${pods.length - notReady.length}/${pods.length} Ready${
        notReady.length > 0
          ? ` (not: ${notReady
              .slice(0, 3)
              .map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)
              .join(', ')})`
          : ''
      }`;
    if (good.length === record.desired && staying.length === good.length && notReady.length === 0)
      return { passed: true, detail, durationMs: deps.now() - startedAt };
    if (`${label}: health · ${detail}` !== last) deps.log(`${label}: health · ${detail} · ${formatDuration(deps.now() - startedAt)}`);
    last = `${label}: health · ${detail}`;
    await ctx.watchPause?.(name);
    if (deps.now() - startedAt >= settings.healthTimeoutMs) return { passed: false, detail, durationMs: deps.now() - startedAt };
    await deps.sleep(settings.pollIntervalMs);
  }
}

/** A pod's controller, `namespace/Kind/name`; empty when it has none. */
export function ownerKey(pod: V1Pod): string {
  const o = (pod.metadata?.ownerReferences ?? []).find((r) => r.controller !== false);
  return o ? `${pod.metadata?.namespace}/${o.kind}/${o.name}` : '';
}
