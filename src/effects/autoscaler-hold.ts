import type { ClusterState } from '../model/fleet.js';
import type { KubeApi } from '../model/kube-api.js';
import type { AutoscalerPause, AutoscalerRef } from '../model/pause.js';
import { AUTO_DISCOVERY_TAG } from '../decision/scalers.js';
import type { UpgradeSettings } from '../model/settings.js';
import { describeError } from '../fleet/aws-clients.js';
import { nodegroupsUpdating } from '../fleet/eks.js';
import { describeKubeError } from '../fleet/kube-errors.js';
import { dropLease, findScalers, LEASE_RENEW_MS, pauseAutoscaler, renewLease, restoreAutoscaler, type ScalersFound } from './autoscaler.js';
import { watchPause, type AutoscalerLook } from './autoscaler-watch.js';
import { iso, type UpgradeDeps } from './executor.js';
import { retryTransient } from './retry.js';

/** cluster-autoscaler held at zero for one cluster's upgrade, with its lease renewed until it is let go. */
export interface AutoscalerHold {
  /** The pause as the upgrade report tells it; null when there is nothing to report yet. */
  pause: AutoscalerPause | null;
  /**
   * Stops the lease and restores cluster-autoscaler, whatever happened meanwhile; with `keep` (why a
   * node group is left mid-change by this run), holds it at zero instead, its record kept for the post
   * step or `restore`. Never throws.
   */
  release(keep?: string): Promise<void>;
  /** Run at every poll of a node group's update: reads the replica count, and answers a revert (./autoscaler-watch.ts). Never throws. */
  watch(nodegroup: string): Promise<void>;
}

const noWatch = async (): Promise<void> => undefined;

const nothing = (cluster: ClusterState, outcome: 'not-found' | 'not-paused', note: string): AutoscalerPause => ({
  cluster: cluster.name,
  region: cluster.region,
  deployment: null,
  replicas: null,
  pausedAt: null,
  restoredAt: null,
  outcome,
  note,
});

/**
 * Pauses cluster-autoscaler right before the cluster's first update (so the pause is as short as the
 * plan allows). The post step learns of the pause before it happens: if this process dies mid-patch,
 * the annotation on the deployment holds the count and the post step restores from it. Returns the
 * hold, or why nothing may start. `discoveryTagged`: the node groups whose Auto Scaling group carries
 * cluster-autoscaler's auto-discovery tag; when none is found, they are named in a warning. `look`: what
 * the pre-flight found (./autoscaler-watch.ts lookAtAutoscaler), not looked for again.
 */
export async function holdAutoscaler(
  cluster: ClusterState,
  kube: KubeApi,
  settings: UpgradeSettings,
  deps: UpgradeDeps,
  discoveryTagged: readonly string[] = [],
  look: AutoscalerLook = {},
): Promise<AutoscalerHold | { failed: string }> {
  const name = cluster.name;
  if (!settings.pauseClusterAutoscaler) {
    deps.warn(`${name}: cluster-autoscaler is not paused (pause-cluster-autoscaler: false)`);
    const note = 'pause-cluster-autoscaler is false: EKS may leave the node group larger after scale down if cluster-autoscaler scales it then';
    return { pause: nothing(cluster, 'not-paused', note), release: async () => undefined, watch: noWatch };
  }
  let found: ScalersFound;
  try {
    found = look.found ?? (settings.clusterAutoscaler === 'auto' ? await findScalers(kube) : { autoscaler: settings.clusterAutoscaler, karpenter: [] });
  } catch (error) {
    return { failed: `cluster-autoscaler: ${describeKubeError(error)}` };
  }
  const karpenter = found.karpenter.length > 0 ? `Karpenter runs here (${found.karpenter.join(', ')}): not paused` : '';
  if (karpenter) deps.log(`${name}: ${karpenter}`);
  const ref = found.autoscaler;
  if (!ref) {
    const note = `no cluster-autoscaler found in any namespace: nothing to pause${karpenter ? `; ${karpenter}` : ''}`;
    if (discoveryTagged.length > 0 && !karpenter) {
      // EKS tags every managed node group's Auto Scaling group so: a hint, not a proof, that one runs.
      deps.warn(
        `${name}: no cluster-autoscaler found in any namespace, but the Auto Scaling group of ${discoveryTagged.join(', ')} ` +
          `carries ${AUTO_DISCOVERY_TAG}, the tag its auto-discovery looks for: ` +
          'if cluster-autoscaler scales this cluster (under another name, or from outside it), ' +
          'name its deployment with the cluster-autoscaler input (namespace/name) so it is paused; ' +
          'left running, it may scale the node group while EKS updates it',
      );
    } else deps.log(`${name}: ${note}`);
    return { pause: nothing(cluster, 'not-found', note), release: async () => undefined, watch: noWatch };
  }
  if (found.by) deps.log(`${name}: found cluster-autoscaler ${ref.namespace}/${ref.name} (by ${found.by})`);
  const record = { cluster: cluster.name, region: cluster.region, namespace: ref.namespace, name: ref.name, replicas: null };
  let replicas: number;
  try {
    deps.recordPause(cluster, record);
    replicas = await pauseAutoscaler(kube, ref, deps.now());
    deps.recordPause(cluster, { ...record, replicas });
  } catch (error) {
    // The patch may have landed even though the answer did not: undo it from its annotation.
    const undone = await restoreAutoscaler(kube, ref).then(
      () => true,
      () => false,
    );
    if (undone) deps.recordPause(cluster, null);
    return { failed: `could not pause cluster-autoscaler ${ref.namespace}/${ref.name}: ${describeKubeError(error)}` };
  }
  const pause: AutoscalerPause = {
    cluster: cluster.name,
    region: cluster.region,
    deployment: `${ref.namespace}/${ref.name}`,
    replicas,
    pausedAt: iso(deps.now()),
    restoredAt: null,
    outcome: 'restored',
    note: '',
    gitops: look.finding ?? null,
  };
  deps.log(`${name}: paused cluster-autoscaler ${ref.namespace}/${ref.name} (replicas ${replicas} → 0)`);
  const stopLease = keepLease(kube, ref, replicas, name, deps);
  const held = ref;
  const watch = watchPause(() => deps.kubeFor(cluster), ref, name, deps.now(), deps, look.gitops);
  pause.reverts = watch.reverts;
  return {
    pause,
    watch: (nodegroup) => watch.check(nodegroup),
    release: async (keep?: string) => {
      stopLease();
      watch.stop(deps.now());
      pause.runningMs = watch.runningMs();
      if (keep) {
        // A self-managed group left mid-replacement: cluster-autoscaler scaling it now would take instances
        // from under its record. The post step (or `restore`) undoes the group first, then lifts the pause
        // (../commands/restore.ts); its lease, no longer renewed, goes stale for a scheduled restore.
        pause.outcome = 'held';
        pause.note =
          `${keep}: held at 0 until the group is finished or undone: the post step undoes it and then restores ` +
          'cluster-autoscaler; a re-run finishes it; `command: restore` undoes it';
        deps.warn(`${name}: cluster-autoscaler ${pause.deployment} stays paused: ${keep}`);
        return;
      }
      // Never lifted while EKS still updates a node group of the cluster (a wait that timed out, an
      // update that could not be followed): cluster-autoscaler scaling the group in EKS's scale-down
      // phase makes EKS exit without restoring its size (../fleet/eks.ts nodegroupsUpdating). The
      // record stays on the Deployment; a later `restore` or `upgrade` lifts it once EKS is done.
      const still = await stillUpdating(cluster, deps);
      if (still) {
        pause.outcome = 'held';
        pause.note = still;
        // No job holds it from now on: without a lease, the next restore lifts it once EKS is done.
        await dropLease(deps.kubeFor(cluster), held, replicas).catch((error: unknown) =>
          deps.warn(`${name}: could not drop the pause's lease (${describeKubeError(error)}): it goes stale 10 minutes after its last renewal`),
        );
        deps.recordPause(cluster, null);
        deps.warn(`${name}: cluster-autoscaler ${pause.deployment} stays paused: ${still}`);
        return;
      }
      // Through the run's client for the cluster, whose token is renewed if it aged or its
      // credentials are near expiry, retried on transient errors.
      try {
        const outcome = await retryTransient(() => restoreAutoscaler(deps.kubeFor(cluster), held, replicas), deps.sleep);
        pause.restoredAt = iso(deps.now());
        pause.outcome = outcome.kind;
        const keeper = watch.writers().join(', ');
        if (outcome.kind === 'left-alone' && keeper) {
          // Restored to what the controller keeps, not fought over: the record is dropped.
          pause.note = `${keeper} keeps it at ${outcome.replicas}: left as it keeps it (recorded ${outcome.recorded})`;
          deps.warn(`${name}: cluster-autoscaler ${pause.deployment} is kept at ${outcome.replicas} by ${keeper}: left as it keeps it`);
        } else if (outcome.kind === 'left-alone') {
          pause.note = `someone scaled it to ${outcome.replicas} during the upgrade: left at ${outcome.replicas} (recorded ${outcome.recorded})`;
          deps.warn(`${name}: cluster-autoscaler ${pause.deployment} was scaled to ${outcome.replicas} during the upgrade: left alone`);
        } else {
          deps.log(`${name}: restored cluster-autoscaler ${pause.deployment} to ${replicas} replicas`);
        }
        deps.recordPause(cluster, null);
      } catch (error) {
        pause.outcome = 'restore-failed';
        pause.note = `could not restore: ${describeKubeError(error)}; the post step tries again`;
        deps.warn(`${name}: could not restore cluster-autoscaler ${pause.deployment}: ${describeKubeError(error)}`);
      }
    },
  };
}

/**
 * Renews the pause's lease every LEASE_RENEW_MS for as long as the pause is held, so a later run can
 * tell a live pause from one whose job is gone. Returns the function that stops it. The timer does
 * not keep the process alive.
 */
function keepLease(kube: KubeApi, ref: AutoscalerRef, replicas: number, cluster: string, deps: UpgradeDeps): () => void {
  const timer = setInterval(() => {
    renewLease(kube, ref, replicas, deps.now()).catch((error: unknown) =>
      deps.warn(`${cluster}: could not renew the pause's lease on ${ref.namespace}/${ref.name}: ${describeKubeError(error)}`),
    );
  }, LEASE_RENEW_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Why the pause must stay, or null when EKS updates no node group of the cluster. When EKS cannot be
 * asked, the pause stays too: lifting it blind is the one thing that can leave a node group larger.
 */
async function stillUpdating(cluster: ClusterState, deps: UpgradeDeps): Promise<string | null> {
  const names = cluster.nodegroupNames ?? cluster.nodegroups.map((n) => n.name);
  const restore = `restored by \`command: restore\` (or the next upgrade) once EKS is done; the docs' restore workflow runs it on a schedule`;
  try {
    const updating = await nodegroupsUpdating(deps.clientsFor(cluster.region).eks, cluster.name, names);
    if (updating.length === 0) return null;
    return `EKS is still updating ${updating.join(', ')}: held at 0 until that update ends, then ${restore}`;
  } catch (error) {
    return `could not ask EKS whether an update of ${cluster.name} is in progress (${describeError(error)}): held at 0, then ${restore}`;
  }
}
