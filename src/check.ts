import pLimit from 'p-limit';
import type { Settings } from './inputs.js';
import type { AwsClientFactory } from './fleet/aws.js';
import { readRegion } from './fleet/discover.js';
import { readLatestReleases, type ParameterRequest } from './fleet/releases.js';
import { classify, clusterError, requestsFor } from './decision/drift.js';
import { readImageSources } from './fleet/images.js';
import { NEEDS_UPGRADE, STATUSES, type CheckReport, type NodegroupReport, type NodegroupStatus } from './report/types.js';
import type { ClusterState } from './fleet/types.js';
import type { PauseReport } from './effects/pauses.js';

export interface CheckDeps {
  clientsFor: AwsClientFactory;
  now: () => Date;
  /** AWS calls in flight at once, across regions. */
  concurrency: number;
  /** Looks (read-only) for cluster-autoscaler pauses on the clusters read; absent: not looked for. */
  lookForPauses?: (clusters: ClusterState[]) => Promise<{ found: PauseReport[]; unchecked: string[] }>;
}

/**
 * The check: read the fleet, read each distinct latest-release parameter once, decide each node
 * group's status. Read-only: it makes no call that changes anything.
 */
export async function runCheck(settings: Settings, deps: CheckDeps): Promise<CheckReport> {
  const limit = pLimit(deps.concurrency);
  const policy = { minReleaseAgeMs: settings.minReleaseAge.ms, now: deps.now() };

  const perRegion = await Promise.all(
    settings.regions.map(async (region) => {
      const { eks, ssm, ec2, autoscaling } = deps.clientsFor(region);
      const clusters = await readRegion(eks, { region, clusters: settings.clusters, nodegroups: settings.nodegroups }, limit);
      // Self-managed groups are read when no node group is named: the nodegroups input names managed ones.
      await readImageSources({ ec2, autoscaling }, clusters, limit, { selfManaged: settings.nodegroups.length === 0 });
      const requests = new Map<string, ParameterRequest>();
      for (const request of clusters.flatMap((c) => c.nodegroups).flatMap(requestsFor)) requests.set(request.parameter, request);
      const latest = requests.size > 0 ? await readLatestReleases(ssm, [...requests.values()], limit) : new Map();
      return { clusters, latest };
    }),
  );

  const nodegroups: NodegroupReport[] = [];
  for (const { clusters, latest } of perRegion) {
    for (const cluster of clusters) {
      if (cluster.error) nodegroups.push(clusterError(cluster, cluster.error));
      for (const ng of cluster.nodegroups) nodegroups.push(classify(cluster, ng, (p) => latest.get(p), policy));
    }
  }
  nodegroups.sort(
    (a, b) => a.region.localeCompare(b.region) || a.cluster.localeCompare(b.cluster) || (a.nodegroup ?? '').localeCompare(b.nodegroup ?? ''),
  );

  const pauses = deps.lookForPauses ? await deps.lookForPauses(perRegion.flatMap((r) => r.clusters)) : { found: [], unchecked: [] };

  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<NodegroupStatus, number>;
  for (const ng of nodegroups) counts[ng.status]++;

  return {
    command: 'check',
    generatedAt: policy.now.toISOString(),
    regions: settings.regions,
    minReleaseAge: settings.minReleaseAge.text,
    drift: nodegroups.some((ng) => NEEDS_UPGRADE.has(ng.status)),
    counts,
    clusters: perRegion
      .flatMap((r) => r.clusters)
      .map((c) => ({
        cluster: c.name,
        region: c.region,
        controlPlaneVersion: c.version ?? null,
        nodegroups: c.nodegroups.filter((n) => n.kind !== 'self-managed').length,
        selfManagedGroups: c.nodegroups.filter((n) => n.kind === 'self-managed' && !n.error).length,
        error: c.error ?? null,
      }))
      .sort((a, b) => a.region.localeCompare(b.region) || a.cluster.localeCompare(b.cluster)),
    nodegroups,
    pauses: pauses.found,
    pausesUnchecked: pauses.unchecked,
    proposals: [],
  };
}
