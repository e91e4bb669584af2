import pLimit from 'p-limit';
import { CONCURRENCY, pauseDeps, sleep, type Clients } from '../clients.js';
import type { PauseRecord } from '../model/pause.js';
import type { Settings } from '../model/settings.js';
import { describeError } from '../fleet/aws-clients.js';
import { readClusterEndpoint, readRegion } from '../fleet/eks.js';
import { describeKubeError } from '../fleet/kube-errors.js';
import { PAUSED_ANNOTATION, restoreAutoscaler } from '../effects/autoscaler.js';
import { handlePauses } from '../effects/pause-sweep.js';
import { retryTransient } from '../effects/retry.js';
import type { CommandIo } from './io.js';
import type { RestoreResult } from '../model/pause.js';

/**
 * `command: restore`: restores the cluster-autoscaler pauses of the clusters named (every cluster of
 * the regions when none is), stale or not, but not while a node group update of that cluster is in
 * progress unless `force`. For a workflow_dispatch button when a job was lost.
 */
export async function restore(settings: Settings, clients: Clients, io: CommandIo): Promise<{ result: RestoreResult; failure: string | null }> {
  const limit = pLimit(CONCURRENCY);
  const query = (region: string) => ({ region, clusters: settings.clusters, nodegroups: [] });
  const clusters = (await Promise.all(settings.regions.map((region) => readRegion(clients.clientsFor(region).eks, query(region), limit)))).flat();
  const problems: string[] = clusters.filter((c) => c.error).map((c) => `${c.name} (${c.region}): ${c.error}`);
  const pauses = await handlePauses(clusters, settings.upgrade.clusterAutoscaler, 'restore', settings.upgrade.force, await pauseDeps(clients), (c, reason) =>
    problems.push(`${c.name} (${c.region}): cannot read its Kubernetes API: ${reason}`),
  );
  for (const p of pauses) (p.outcome === 'restored' ? io.log : io.warn)(`${p.region}/${p.cluster}: cluster-autoscaler ${p.deployment} ${p.note}`);
  const read = clusters.filter((c) => !c.error).length;
  if (pauses.length === 0 && problems.length === 0) io.log(`no cluster-autoscaler is paused in the ${read} cluster(s) read: nothing to restore`);
  const result = { pauses, problems: [...problems], read };
  // A pause left on purpose (an update in progress, a job that still holds it) is a warning, not a
  // failure: a scheduled restore meets those during every upgrade.
  const failures = [...problems, ...pauses.filter((p) => p.outcome === 'restore-failed').map((p) => `${p.cluster} (${p.region}): ${p.note}`)];
  if (clusters.length === 0) failures.push(`no EKS clusters found in ${settings.regions.join(', ')}`);
  return { result, failure: failures.length > 0 ? failures.join('\n') : null };
}

/**
 * The post step's restore of the pauses the main step recorded and did not restore (the main step
 * failed, timed out or was cancelled). Problems are warnings, never a failure: the post step must not
 * fail a second time.
 */
export async function restoreRecorded(
  settings: Settings,
  clients: Clients,
  pauses: readonly PauseRecord[],
  io: Pick<CommandIo, 'log' | 'warn'>,
): Promise<void> {
  const kubeFor = await clients.kube();
  for (const p of pauses) {
    const label = `${p.cluster}: cluster-autoscaler ${p.namespace}/${p.name}`;
    try {
      const cluster = settings.kubeconfig
        ? { name: p.cluster, region: p.region, nodegroups: [] }
        : await readClusterEndpoint(clients.clientsFor(p.region).eks, p.region, p.cluster);
      // A Kubernetes client (and token) made now, from credentials renewed if near expiry, retried on
      // transient errors: the post step may run hours after the main step began.
      const outcome = await retryTransient(() => restoreAutoscaler(kubeFor(cluster), p, p.replicas ?? undefined), sleep);
      if (outcome.kind === 'restored') io.log(`${label}: restored to ${outcome.replicas} replicas`);
      else if (outcome.kind === 'already-restored') io.log(`${label}: already restored`);
      else io.warn(`${label}: scaled to ${outcome.replicas} by someone during the upgrade: left alone (recorded ${outcome.recorded})`);
    } catch (error) {
      const how = `kubectl -n ${p.namespace} scale deployment ${p.name} --replicas=<count in the ${PAUSED_ANNOTATION} annotation>`;
      io.warn(`${label}: could not be restored: ${describeKubeError(error) || describeError(error)}. Restore it by hand: ${how}`);
    }
  }
}
