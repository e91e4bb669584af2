import type { EKSClient } from '@aws-sdk/client-eks';
import { nodegroupsUpdating } from '../fleet/eks.js';
import pLimit from 'p-limit';
import type { UpgradeSettings } from '../model/settings.js';
import { describeError } from '../fleet/aws-clients.js';
import { describeKubeError } from '../fleet/kube-errors.js';
import type { KubeApi } from '../model/kube-api.js';
import type { ClusterState } from '../model/fleet.js';
import { findAutoscaler, isStale, readPause, restoreAutoscaler, type PauseFound } from './autoscaler.js';
import { retryTransient } from './retry.js';
import type { PauseMode, PauseReport } from '../model/pause.js';

export interface PauseDeps {
  eks: (region: string) => EKSClient;
  kubeFor: (cluster: ClusterState) => KubeApi;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

/**
 * Whether any managed node group of the cluster is being updated: a pause must not be lifted then
 * (cluster-autoscaler scaling the group during EKS's scale down phase leaves it larger). Node groups
 * the run did not read (the nodegroups filter) are described too.
 */
async function updating(eks: EKSClient, cluster: ClusterState): Promise<boolean> {
  if (cluster.nodegroups.some((n) => n.status === 'UPDATING')) return true;
  const read = new Set(cluster.nodegroups.map((n) => n.name));
  return (
    (
      await nodegroupsUpdating(
        eks,
        cluster.name,
        (cluster.nodegroupNames ?? []).filter((n) => !read.has(n)),
      )
    ).length > 0
  );
}

/**
 * Looks for a cluster-autoscaler pause on one cluster and, by `mode`, restores it. Returns
 * `undefined` when there is no pause (or no cluster-autoscaler). Throws when the cluster's
 * Kubernetes API cannot be read.
 */
export async function handlePause(
  cluster: ClusterState,
  autoscaler: UpgradeSettings['clusterAutoscaler'],
  mode: PauseMode,
  force: boolean,
  deps: PauseDeps,
): Promise<PauseReport | undefined> {
  const kube = deps.kubeFor(cluster);
  const ref = autoscaler === 'auto' ? await findAutoscaler(kube) : autoscaler;
  if (!ref) return undefined;
  const found = await readPause(kube, ref).catch((error: unknown) => {
    if ((error as { code?: number }).code === 404 && autoscaler !== 'auto') return undefined;
    throw error;
  });
  if (!found) return undefined;
  const updateInProgress = await updating(deps.eks(cluster.region), cluster);
  const now = deps.now();
  const stale = isStale(found, now, updateInProgress);
  const report: PauseReport = {
    cluster: cluster.name,
    region: cluster.region,
    deployment: `${found.namespace}/${found.name}`,
    replicas: found.replicas,
    pausedAt: found.pausedAt,
    leaseRenewedAt: found.leaseRenewedAt,
    stale,
    updateInProgress,
    outcome: 'reported',
    note: describePause(found, now, updateInProgress),
  };
  if (mode === 'report') return report;
  if (mode === 'restore-stale' && !stale) return { ...report, outcome: 'left', note: `${report.note}: not stale, so another job may still hold it` };
  if (updateInProgress && !force)
    return {
      ...report,
      outcome: 'left',
      note: `${report.note}: a node group update is in progress; restoring now lets cluster-autoscaler upset its scale down (wait for it, or force: true)`,
    };
  // A fresh lease is a job that still holds the pause (between two node groups of a live upgrade, no
  // update runs for a moment): a scheduled restore must not lift it under that job.
  if (!stale && !force) {
    return {
      ...report,
      outcome: 'left',
      note: `${report.note}: its lease is fresh, so the job that paused it may still run; restored once the lease is stale, or now with force: true`,
    };
  }
  return restore(cluster, found, report, deps);
}

async function restore(cluster: ClusterState, found: PauseFound, report: PauseReport, deps: PauseDeps): Promise<PauseReport> {
  try {
    // The run's client for the cluster (its token renewed if aged or near its credentials' expiry), retried on transient errors.
    const outcome = await retryTransient(() => restoreAutoscaler(deps.kubeFor(cluster), found), deps.sleep);
    if (outcome.kind === 'left-alone')
      return {
        ...report,
        outcome: 'left-alone',
        note: `${report.note}: someone scaled it to ${outcome.replicas} meanwhile, so it was left at that and the record removed`,
      };
    return { ...report, outcome: 'restored', note: `${report.note}: restored to ${found.replicas} replicas` };
  } catch (error) {
    return { ...report, outcome: 'restore-failed', note: `${report.note}: could not restore: ${describeKubeError(error) || describeError(error)}` };
  }
}

function describePause(p: PauseFound, now: number, updateInProgress: boolean): string {
  const ago = (iso: string | null) => (iso ? `${Math.round((now - Date.parse(iso)) / 60_000)} min ago` : 'unknown');
  const lease = p.leaseRenewedAt ? `lease renewed ${ago(p.leaseRenewedAt)}` : 'no lease (paused by a version without leases)';
  const update = updateInProgress ? ', a node group update is in progress' : '';
  return `paused since ${p.pausedAt ?? 'an unknown time'} at ${p.replicas} replica(s), ${lease}${update}`;
}

/**
 * Runs `handlePause` over clusters, ten at a time (each is a few Kubernetes calls); results in the
 * clusters' order. A cluster that cannot be read is passed to `onError`.
 */
export async function handlePauses(
  clusters: readonly ClusterState[],
  autoscaler: UpgradeSettings['clusterAutoscaler'],
  mode: PauseMode,
  force: boolean,
  deps: PauseDeps,
  onError: (cluster: ClusterState, reason: string, error: unknown) => void,
): Promise<PauseReport[]> {
  const limit = pLimit(10);
  const found = await Promise.all(
    clusters
      .filter((c) => !c.error)
      .map((cluster) =>
        limit(() =>
          handlePause(cluster, autoscaler, mode, force, deps).catch((error: unknown) => {
            onError(cluster, describeKubeError(error) || describeError(error), error);
            return undefined;
          }),
        ),
      ),
  );
  return found.filter((p): p is PauseReport => p !== undefined);
}
