import * as core from '@actions/core';
import pLimit from 'p-limit';
import type { Settings } from '../inputs.js';
import { CONCURRENCY, pauseDeps, type Clients } from '../clients.js';
import { readRegion } from '../fleet/discover.js';
import { handlePauses } from '../effects/pauses.js';
import { renderPauses } from '../report/render.js';

/**
 * `command: restore`: restores the cluster-autoscaler pauses of the clusters named (every cluster of
 * the regions when none is), stale or not, but not while a node group update of that cluster is in
 * progress unless `force`. For a workflow_dispatch button when a job was lost.
 */
export async function restore(settings: Settings, clients: Clients): Promise<void> {
  const limit = pLimit(CONCURRENCY);
  const clusters = (
    await Promise.all(settings.regions.map((region) => readRegion(clients.clientsFor(region).eks, { region, clusters: settings.clusters, nodegroups: [] }, limit)))
  ).flat();
  const problems: string[] = clusters.filter((c) => c.error).map((c) => `${c.name} (${c.region}): ${c.error}`);
  const pauses = await handlePauses(clusters, settings.upgrade.clusterAutoscaler, 'restore', settings.upgrade.force, await pauseDeps(settings, clients), (c, reason) =>
    problems.push(`${c.name} (${c.region}): cannot read its Kubernetes API: ${reason}`),
  );
  for (const p of pauses) (p.outcome === 'restored' ? core.info : core.warning)(`${p.region}/${p.cluster}: cluster-autoscaler ${p.deployment} ${p.note}`);
  const read = clusters.filter((c) => !c.error).length;
  if (pauses.length === 0 && problems.length === 0) core.info(`no cluster-autoscaler is paused in the ${read} cluster(s) read: nothing to restore`);
  core.setOutput('pauses', JSON.stringify(pauses));
  const headline =
    pauses.length === 0 ? `✅ No cluster-autoscaler was paused in the ${read} cluster(s) read.` : `${pauses.filter((p) => p.outcome === 'restored').length} of ${pauses.length} paused cluster-autoscaler(s) restored.`;
  await core.summary.addRaw(['## cluster-autoscaler restore', '', headline, '', ...renderPauses(pauses, problems)].join('\n')).write();
  problems.push(...pauses.filter((p) => p.outcome === 'left' || p.outcome === 'restore-failed').map((p) => `${p.cluster} (${p.region}): ${p.note}`));
  if (clusters.length === 0) problems.push(`no EKS clusters found in ${settings.regions.join(', ')}`);
  if (problems.length > 0) core.setFailed(problems.join('\n'));
}
