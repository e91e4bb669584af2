import * as core from '@actions/core';
import { getSettings } from '../inputs.js';
import { describeError } from '../fleet/aws.js';
import { describeKubeError } from '../fleet/kube-api.js';
import { readClusterEndpoint } from '../fleet/discover.js';
import { PAUSED_ANNOTATION, restoreAutoscaler } from '../effects/autoscaler.js';
import { retryTransient } from '../effects/retry.js';
import type { PauseRecord } from '../effects/upgrade.js';
import { makeClients, sleep } from '../clients.js';

/** The post step's restore of the pauses the main step left (see ../post.ts). Problems are warnings. */
export async function restorePauses(pauses: readonly PauseRecord[]): Promise<void> {
  try {
    const settings = await getSettings();
    const clients = await makeClients(settings);
    const kubeFor = await clients.kube();
    for (const p of pauses) {
      const label = `${p.cluster}: cluster-autoscaler ${p.namespace}/${p.name}`;
      try {
        const cluster = settings.kubeconfig ? { name: p.cluster, region: p.region, nodegroups: [] } : await readClusterEndpoint(clients.clientsFor(p.region).eks, p.region, p.cluster);
        // A Kubernetes client (and token) made now, from credentials renewed if near expiry, retried on
        // transient errors: the post step may run hours after the main step began.
        const outcome = await retryTransient(() => restoreAutoscaler(kubeFor(cluster), p, p.replicas >= 0 ? p.replicas : undefined), sleep);
        if (outcome.kind === 'restored') core.info(`${label}: restored to ${outcome.replicas} replicas`);
        else if (outcome.kind === 'already-restored') core.info(`${label}: already restored`);
        else core.warning(`${label}: scaled to ${outcome.replicas} by someone during the upgrade: left alone (recorded ${outcome.recorded})`);
      } catch (error) {
        core.warning(`${label}: could not be restored: ${describeKubeError(error) || describeError(error)}. Restore it by hand: kubectl -n ${p.namespace} scale deployment ${p.name} --replicas=<count in the ${PAUSED_ANNOTATION} annotation>`);
      }
    }
  } catch (error) {
    core.warning(`post step: ${describeError(error)}`);
  }
}
