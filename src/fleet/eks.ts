import {
  DescribeClusterCommand,
  DescribeUpdateCommand,
  DescribeNodegroupCommand,
  paginateListClusters,
  paginateListNodegroups,
  paginateListUpdates,
  paginateDescribeClusterVersions,
  type EKSClient,
  type Update,
} from '@aws-sdk/client-eks';
import pLimit, { type LimitFunction } from 'p-limit';
import { describeError } from './aws-clients.js';
import { parseUnhealthy, UNHEALTHY_TAG, type ClusterState, type NodegroupState, type UnhealthyMark, type VersionSupport } from '../model/fleet.js';

export interface FleetQuery {
  region: string;
  /** Cluster names; empty means every cluster in the region. */
  clusters: readonly string[];
  /** Node group names; empty means every node group. */
  nodegroups: readonly string[];
}

/**
 * Reads the clusters and managed node groups of one region: ListClusters (unless named),
 * DescribeCluster, ListNodegroups, DescribeNodegroup. Describe calls share `limit`, so a large fleet
 * runs concurrently without a burst that only invites throttling. A cluster or node group that cannot
 * be read carries its AWS error; the others are still read.
 */
export async function readRegion(eks: EKSClient, query: FleetQuery, limit: LimitFunction, onFirstCluster?: () => void): Promise<ClusterState[]> {
  const names = [...query.clusters];
  if (names.length === 0) {
    try {
      for await (const page of paginateListClusters({ client: eks }, {})) names.push(...(page.clusters ?? []));
    } catch (error) {
      return [{ name: '(every cluster)', region: query.region, error: `ListClusters: ${describeError(error)}`, nodegroups: [] }];
    }
  }
  // Clusters start a few at a time, so each cluster's node groups are described soon after the cluster
  // is, instead of behind every other cluster's DescribeCluster in `limit`'s queue: the operations
  // run side by side, each at its own pace (./pace.ts), and the slowest sets the time.
  const clusters = pLimit(Math.max(1, limit.concurrency));
  // Once, when the first cluster is described: its siblings' calls are on the wire by then.
  let first = onFirstCluster;
  const described = () => {
    first?.();
    first = undefined;
  };
  return Promise.all(names.map((name) => clusters(() => readCluster(eks, query, name, limit, described))));
}

async function readCluster(
  eks: EKSClient,
  query: FleetQuery,
  name: string,
  limit: LimitFunction,
  described: () => void = () => undefined,
): Promise<ClusterState> {
  const cluster: ClusterState = { name, region: query.region, nodegroups: [] };
  try {
    Object.assign(cluster, await limit(() => readClusterEndpoint(eks, query.region, name)));
    described();
    const nodegroupNames: string[] = [];
    for await (const page of paginateListNodegroups({ client: eks }, { clusterName: name })) {
      nodegroupNames.push(...(page.nodegroups ?? []));
    }
    cluster.nodegroupNames = nodegroupNames;
    const wanted = query.nodegroups.length > 0 ? nodegroupNames.filter((n) => query.nodegroups.includes(n)) : nodegroupNames;
    cluster.nodegroups = await Promise.all(wanted.map((ng) => limit(() => readNodegroup(eks, name, ng))));
    // A node group asked for by name in a cluster asked for by name must exist: say so, never skip it.
    if (query.clusters.length > 0) {
      for (const missing of query.nodegroups.filter((n) => !nodegroupNames.includes(n))) {
        cluster.nodegroups.push({ name: missing, error: `node group ${missing} does not exist in cluster ${name}` });
      }
    }
  } catch (error) {
    cluster.error = describeError(error);
  }
  return cluster;
}

async function readNodegroup(eks: EKSClient, clusterName: string, nodegroupName: string): Promise<NodegroupState> {
  try {
    const { nodegroup } = await eks.send(new DescribeNodegroupCommand({ clusterName, nodegroupName }));
    return {
      name: nodegroupName,
      amiType: nodegroup?.amiType,
      version: nodegroup?.version,
      releaseVersion: nodegroup?.releaseVersion,
      status: nodegroup?.status,
      desiredSize: nodegroup?.scalingConfig?.desiredSize,
      updateSettings: {
        maxUnavailable: nodegroup?.updateConfig?.maxUnavailable ?? null,
        maxUnavailablePercentage: nodegroup?.updateConfig?.maxUnavailablePercentage ?? null,
        strategy: nodegroup?.updateConfig?.updateStrategy ?? null,
        capacityType: nodegroup?.capacityType ?? null,
        nodeRepair: nodegroup?.nodeRepairConfig?.enabled === true,
      },
      ...(nodegroup?.createdAt ? { createdAt: nodegroup.createdAt.getTime() } : {}),
      ...tagMark(parseUnhealthy(nodegroup?.tags?.[UNHEALTHY_TAG])),
      ...(nodegroup?.launchTemplate?.id
        ? {
            launchTemplate: {
              id: nodegroup.launchTemplate.id,
              name: nodegroup.launchTemplate.name ?? null,
              version: nodegroup.launchTemplate.version ?? '$Default',
            },
          }
        : {}),
    };
  } catch (error) {
    return { name: nodegroupName, error: describeError(error) };
  }
}

const tagMark = (mark: UnhealthyMark | undefined) => (mark ? { unhealthy: { ...mark, sources: ['tag' as const] } } : {});

/** A cluster's version and Kubernetes endpoint only (DescribeCluster), for the post step. */
export async function readClusterEndpoint(eks: EKSClient, region: string, name: string, abortSignal?: AbortSignal): Promise<ClusterState> {
  const { cluster } = await eks.send(new DescribeClusterCommand({ name }), abortSignal ? { abortSignal } : {});
  return {
    name,
    region,
    nodegroups: [],
    ...(cluster?.version ? { version: cluster.version } : {}),
    ...(cluster?.upgradePolicy?.supportType ? { supportType: cluster.upgradePolicy.supportType } : {}),
    ...(cluster?.endpoint ? { endpoint: cluster.endpoint } : {}),
    ...(cluster?.certificateAuthority?.data ? { caData: cluster.certificateAuthority.data } : {}),
    ...(cluster?.tags ? { tags: cluster.tags } : {}),
    // EKS Auto Mode: DescribeCluster's computeConfig.enabled (EKS API reference, ComputeConfigResponse).
    ...(cluster?.computeConfig?.enabled ? { autoMode: true } : {}),
  };
}

/** ListUpdates ids read at most: a node group's whole update history, in practice. */
export const MAX_UPDATE_HISTORY = 500;

/**
 * The node group's version updates, oldest first. ListUpdates documents no order and users see it in
 * random order (aws/containers-roadmap#1439), so every page is read (up to MAX_UPDATE_HISTORY ids),
 * each update described, and the list sorted by `createdAt`.
 */
export async function updateHistory(eks: EKSClient, clusterName: string, nodegroupName: string): Promise<Update[]> {
  const ids: string[] = [];
  for await (const page of paginateListUpdates({ client: eks, pageSize: 100 }, { name: clusterName, nodegroupName })) {
    ids.push(...(page.updateIds ?? []));
    if (ids.length >= MAX_UPDATE_HISTORY) break;
  }
  const limit = pLimit(10);
  const described = await Promise.all(
    [...new Set(ids)]
      .slice(0, MAX_UPDATE_HISTORY)
      .map((updateId) => limit(() => eks.send(new DescribeUpdateCommand({ name: clusterName, nodegroupName, updateId })))),
  );
  return described
    .map((d) => d.update)
    .filter((u): u is Update => u?.type === 'VersionUpdate')
    .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
}

/**
 * The node groups of a cluster that EKS is updating now (DescribeNodegroup `status` UPDATING; EKS API
 * reference, Nodegroup: CREATING, ACTIVE, UPDATING, DELETING, CREATE_FAILED, DELETE_FAILED, DEGRADED).
 * Read fresh, one call per node group: a pause must not be lifted while one is listed (EKS user guide,
 * managed node update behavior, scale-down phase: "If the Upgrade workflow determines that the Cluster
 * Autoscaler is scaling up the node group during the scale down phase, it exits immediately without
 * bringing the node group back to its original size"). Throws when a node group cannot be read.
 */
export async function nodegroupsUpdating(eks: EKSClient, clusterName: string, names: readonly string[]): Promise<string[]> {
  const limit = pLimit(10);
  const described = await Promise.all(names.map((nodegroupName) => limit(() => eks.send(new DescribeNodegroupCommand({ clusterName, nodegroupName })))));
  return described.filter((d) => d.nodegroup?.status === 'UPDATING').map((d) => d.nodegroup?.nodegroupName ?? '');
}

/** The node groups of a cluster that EKS is updating now, every node group listed first (see nodegroupsUpdating). */
export async function clusterNodegroupsUpdating(eks: EKSClient, clusterName: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListNodegroups({ client: eks }, { clusterName })) names.push(...(page.nodegroups ?? []));
  return nodegroupsUpdating(eks, clusterName, names);
}

/**
 * The support calendar of the Kubernetes versions the clusters run: DescribeClusterVersions, once a
 * region, every page, for those versions (`clusterVersions`) and including versions past their end of
 * support (`includeAll`; which versions the call returns without it is UNVERIFIED). Its dates are
 * endOfStandardSupportDate and endOfExtendedSupportDate (EKS API reference, ClusterVersionInformation).
 * Throws the AWS error: the caller reports it.
 */
export async function readVersionCalendar(eks: EKSClient, versions: readonly string[]): Promise<Map<string, VersionSupport>> {
  const calendar = new Map<string, VersionSupport>();
  const day = (d: Date | undefined) => (d ? d.toISOString().slice(0, 10) : null);
  const paginator = paginateDescribeClusterVersions({ client: eks }, { includeAll: true, clusterVersions: [...versions] });
  for await (const page of paginator) {
    for (const v of page.clusterVersions ?? []) {
      if (!v.clusterVersion) continue;
      calendar.set(v.clusterVersion, { endOfStandardSupport: day(v.endOfStandardSupportDate), endOfExtendedSupport: day(v.endOfExtendedSupportDate) });
    }
  }
  return calendar;
}
