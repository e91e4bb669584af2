import pLimit from 'p-limit';
import type { ClusterState } from '../model/fleet.js';
import type { KubeApi } from '../model/kube-api.js';
import type { AutoscalerPause } from '../model/pause.js';
import type { PlanItem } from '../model/plan.js';
import type { UpgradeSettings } from '../model/settings.js';
import { upgradeEntry, type NodegroupUpgrade } from '../model/upgrade-report.js';
import { describeError } from '../fleet/aws-clients.js';
import { holdAutoscaler, type AutoscalerHold } from './autoscaler-hold.js';
import { lookAtAutoscaler } from './autoscaler-watch.js';
import type { Executor, ExecutorContext, PreflightCheck, UpgradeDeps } from './executor.js';
import { finishCheck, lookAtCluster, startCheck } from './preflight.js';

/** No pause: every planned item is of a kind that cluster-autoscaler does not scale (Karpenter's node classes). */
const notPaused: AutoscalerHold = { pause: null, release: async () => undefined, watch: async () => undefined };

/** A planned node group with what rolls it and what its health gate waits for (from its node kind). */
export interface ClusterItem {
  item: PlanItem;
  executor: Executor;
  healthTarget: { imageId?: string };
}

/**
 * Upgrades the planned node groups of one cluster: pre-flight (nothing changes when any fails), pause
 * cluster-autoscaler, roll at most `maxParallel` at once, wait for each, restore cluster-autoscaler
 * whatever happens. Returns one entry per planned node group, the pause, and what the pre-flight warns of
 * (a cluster-autoscaler that Argo CD or Flux would scale back up).
 */
export async function upgradeCluster(
  cluster: ClusterState,
  items: readonly ClusterItem[],
  settings: UpgradeSettings,
  deps: UpgradeDeps,
): Promise<{ nodegroups: NodegroupUpgrade[]; autoscaler: AutoscalerPause | null; warnings: string[] }> {
  const name = cluster.name;
  const warnings: string[] = [];
  const notStarted = (why: string) => ({ nodegroups: items.map((i) => upgradeEntry(i.item, 'not-started', why)), autoscaler: null, warnings });
  let kube: KubeApi;
  try {
    kube = deps.kubeFor(cluster);
  } catch (error) {
    return notStarted(`cannot reach the Kubernetes API: ${describeError(error)}`);
  }
  const ctx: ExecutorContext = { cluster, clients: deps.clientsFor(cluster.region), kube, settings, deps };

  // 1. Pre-flight: read only.
  const [look, scaler] = await Promise.all([
    lookAtCluster(
      kube,
      items.map((i) => i.item),
      settings,
    ),
    lookAtAutoscaler(kube, settings),
  ]);
  // cluster-autoscaler is paused only for the kinds it would scale mid-roll (Executor.pausesAutoscaler):
  // not for a cluster whose plan follows only Karpenter's node classes.
  const pauses = items.some((i) => i.item.action === 'update' && i.executor.pausesAutoscaler);
  // Said before anything changes, in the plan and the summary: a self-heal that would undo the pause.
  if (scaler.finding && pauses) {
    const line = `${name}: ${scaler.finding}`;
    if (scaler.gitops?.leavesItAlone) deps.log(line);
    else {
      deps.warn(line);
      warnings.push(line);
    }
  }
  const checks = await Promise.all(
    items.map(async ({ item, executor, healthTarget }) => {
      const check: PreflightCheck = { ...startCheck(item, look), healthTarget };
      if (item.action === 'block') return { check, executor };
      await executor.preflight(check, ctx);
      finishCheck(check, cluster, look);
      return { check, executor };
    }),
  );
  const blocked = checks.filter(({ check: c }) => c.problems.length > 0 || (c.blockers.length > 0 && !settings.force)).map(({ check }) => check);
  for (const { check: c } of checks) {
    for (const b of c.blockers) deps.warn(`${name}/${c.item.nodegroup}: ${b}${settings.force ? ' (force: the update evicts anyway after 15 minutes)' : ''}`);
  }
  if (blocked.length > 0) {
    const why = `not started: pre-flight failed for ${blocked.map((b) => b.item.nodegroup).join(', ')}, so nothing was changed in ${name}`;
    return {
      nodegroups: checks.map(({ check: c }) =>
        blocked.includes(c)
          ? upgradeEntry(c.item, 'blocked', [...c.problems, ...c.blockers].join('; '), { blockers: c.blockers })
          : upgradeEntry(c.item, 'not-started', why, { blockers: c.blockers }),
      ),
      autoscaler: null,
      warnings,
    };
  }
  const done = checks
    .filter(({ check }) => check.reached)
    .map(({ check }) =>
      upgradeEntry(check.item, 'up-to-date', `already at ${check.item.target?.releaseVersion}: an earlier run's update ended after the plan was read`),
    );
  const todo = checks.filter(({ check }) => !check.reached);
  if (todo.length === 0) return { nodegroups: done, autoscaler: null, warnings };
  if (settings.dryRun) {
    const resumed = ' (an update to this target is already running: it would be resumed)';
    return {
      nodegroups: [
        ...done,
        ...todo.map(({ check: c }) =>
          upgradeEntry(c.item, 'planned', `${c.item.reason}${c.detail ? `: ${c.detail}` : ''}${c.resume ? resumed : ''}`, { blockers: c.blockers }),
        ),
      ],
      autoscaler: null,
      warnings,
    };
  }

  // 2. Pause cluster-autoscaler, for as short as the plan allows: right before the first update.
  const tagged = todo.filter(({ check }) => check.discoveryTagged).map(({ check }) => check.item.nodegroup);
  if (!pauses) deps.log(`${name}: cluster-autoscaler not paused: the plan follows only Karpenter's node classes, whose nodes Karpenter scales`);
  const hold = pauses ? await holdAutoscaler(cluster, kube, settings, deps, tagged, scaler) : notPaused;
  if ('failed' in hold) return notStarted(hold.failed);
  ctx.watchPause = (nodegroup) => hold.watch(nodegroup);

  // 3. Roll and wait, at most maxParallel at once; after a failure no further roll starts.
  const results: NodegroupUpgrade[] = [...done];
  try {
    const limit = pLimit(settings.maxParallel);
    let stop = false;
    await Promise.all(
      todo.map(({ check, executor }) =>
        limit(async () => {
          if (stop) {
            results.push(upgradeEntry(check.item, 'not-started', 'not started: an earlier node group of this cluster failed'));
            return;
          }
          const r = await executor.roll(check, ctx);
          if (r.result !== 'upgraded') stop = true;
          results.push(r);
        }),
      ),
    );
  } finally {
    // 4. Restore, whatever happened above, unless a node group is left mid-change (then held for the post step or restore).
    const midway = await Promise.all(
      todo.map(async ({ check, executor }) =>
        executor.leftMidway
          ? executor.leftMidway(check, ctx).catch((error: unknown) => `${check.item.nodegroup}: could not read what the run left (${describeError(error)})`)
          : null,
      ),
    );
    await hold.release(midway.filter((m) => m !== null).join('; ') || undefined);
  }
  return { nodegroups: results, autoscaler: hold.pause, warnings };
}
