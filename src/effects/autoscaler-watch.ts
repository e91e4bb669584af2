import type { KubeApi } from '../model/kube-api.js';
import type { AutoscalerRef, PauseRevert } from '../model/pause.js';
import type { UpgradeSettings } from '../model/settings.js';
import { describeWriter, gitOpsFinding, gitOpsOwner, replicasWriter, type GitOpsOwner } from '../decision/gitops.js';
import { describeKubeError } from '../fleet/kube-errors.js';
import { findScalers, pauseAutoscaler, PAUSED_ANNOTATION, type ScalersFound } from './autoscaler.js';
import { iso, type UpgradeDeps } from './executor.js';

/** What the pre-flight saw of cluster-autoscaler: where it runs, and who keeps its Deployment as Git says. */
export interface AutoscalerLook {
  found?: ScalersFound;
  gitops?: GitOpsOwner;
  /** One line for the plan, the pull request and the summary when Argo CD or Flux keeps it. */
  finding?: string;
}

/**
 * Read only, before anything changes: finds cluster-autoscaler (or reads the one named) and whether
 * Argo CD or Flux keeps its Deployment (../decision/gitops.ts). Best effort: what cannot be read here is
 * read again, and failed on, when the pause is taken.
 */
export async function lookAtAutoscaler(
  kube: KubeApi,
  settings: Pick<UpgradeSettings, 'pauseClusterAutoscaler' | 'clusterAutoscaler'>,
): Promise<AutoscalerLook> {
  if (!settings.pauseClusterAutoscaler) return {};
  try {
    const found = settings.clusterAutoscaler === 'auto' ? await findScalers(kube) : { autoscaler: settings.clusterAutoscaler, karpenter: [] };
    const ref = found.autoscaler;
    if (!ref) return { found };
    const gitops = gitOpsOwner(await kube.readDeployment(ref.namespace, ref.name));
    return gitops ? { found, gitops, finding: gitOpsFinding(`${ref.namespace}/${ref.name}`, gitops) } : { found };
  } catch {
    return {};
  }
}

/** The watch over a held pause: what it saw, and the check each poll of an update runs. */
export interface PauseWatch {
  /** Reads the replica count once (concurrent polls share one read); never throws. */
  check(nodegroup: string): Promise<void>;
  /** Ends the watch at `now`: the running time so far is counted, and no re-pause starts after it. */
  stop(now: number): void;
  reverts: PauseRevert[];
  /** How long cluster-autoscaler ran, in all, until stop. */
  runningMs(): number;
  /** Who scaled it back up, as named in the reverts. */
  writers(): string[];
}

/**
 * Watches a held pause during the updates: at every poll the Deployment's replica count is read. Found
 * above 0 while the pause's record is still on it, the pause was undone (a GitOps self-heal, a
 * person): the writer is named from managedFields, and the pause is applied again, once per node
 * group. Undone again during the same node group, the action does not fight a controller: it warns
 * and goes on, and counts how long cluster-autoscaler runs.
 */
export function watchPause(
  kube: () => KubeApi,
  ref: AutoscalerRef,
  cluster: string,
  pausedAt: number,
  deps: Pick<UpgradeDeps, 'now' | 'log' | 'warn'>,
  gitops?: GitOpsOwner,
): PauseWatch {
  const reverts: PauseRevert[] = [];
  const repaused = new Set<string>();
  const noted = new Set<string>();
  const writers = new Set<string>();
  let runningSince: number | null = null;
  let ran = 0;
  let stopped = false;
  let inFlight: Promise<void> | null = null;
  const deployment = `${ref.namespace}/${ref.name}`;
  const fix = gitops && !gitops.leavesItAlone ? `; to keep ${gitops.tool} off it, ${gitops.fix}` : '';

  async function once(nodegroup: string): Promise<void> {
    let d;
    try {
      d = await kube().readDeployment(ref.namespace, ref.name);
    } catch {
      return; // a read that fails is read again at the next poll
    }
    const now = deps.now();
    // The record gone: the pause was lifted on purpose (a forced restore), not undone by a controller.
    if (stopped || d.metadata?.annotations?.[PAUSED_ANNOTATION] === undefined) return;
    const replicas = d.spec?.replicas ?? 1;
    if (replicas === 0) {
      if (runningSince !== null) ran += now - runningSince;
      runningSince = null;
      return;
    }
    const writer = replicasWriter(d);
    const by = describeWriter(writer);
    const since = writer?.time ? Math.min(now, Math.max(pausedAt, Date.parse(writer.time))) : now;
    if (runningSince === null) runningSince = since;
    writers.add(by);
    const revert: PauseRevert = { at: iso(now)!, revertedAt: writer?.time ?? null, by, replicas, nodegroup, action: 'left-running' };
    if (repaused.has(nodegroup)) {
      // Already paused again once for this node group: noted once, not fought.
      if (!noted.has(nodegroup)) {
        noted.add(nodegroup);
        reverts.push(revert);
        deps.warn(
          `${cluster}: cluster-autoscaler ${deployment} was scaled back to ${replicas} again by ${by} during ${nodegroup}: ` +
            `not fighting a controller, it runs until the next node group or the restore${fix}`,
        );
      }
      return;
    }
    repaused.add(nodegroup);
    deps.warn(
      `${cluster}: cluster-autoscaler ${deployment} was scaled back to ${replicas} by ${by} during ${nodegroup}: ` +
        `pausing it again (once for ${nodegroup})${fix}`,
    );
    try {
      await pauseAutoscaler(kube(), ref, now);
      ran += deps.now() - (runningSince ?? now);
      runningSince = null;
      revert.action = 're-paused';
    } catch (error) {
      revert.action = 're-pause-failed';
      deps.warn(`${cluster}: could not pause cluster-autoscaler ${deployment} again: ${describeKubeError(error)}`);
    }
    reverts.push(revert);
  }

  return {
    reverts,
    check(nodegroup) {
      if (stopped) return Promise.resolve();
      inFlight ??= once(nodegroup).finally(() => (inFlight = null));
      return inFlight;
    },
    stop(now) {
      stopped = true;
      if (runningSince !== null) ran += Math.max(0, now - runningSince);
      runningSince = null;
    },
    runningMs: () => ran,
    writers: () => [...writers],
  };
}
