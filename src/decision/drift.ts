import { UNHEALTHY_TAG, unhealthyNow, type ClusterState, type NodegroupState } from '../model/fleet.js';
import type { NodegroupDecision, NodegroupReport } from '../model/check-report.js';

export interface DriftPolicy {
  /** A newer release younger than this (milliseconds) is `soaking`, not `drift`. */
  minReleaseAgeMs: number;
  now: Date;
}

/** A whole cluster that could not be read: one `error` entry, so it is never silently missing. */
export function clusterError(cluster: ClusterState, error: string): NodegroupReport {
  return {
    cluster: cluster.name,
    region: cluster.region,
    nodegroup: null,
    amiType: null,
    kubernetesVersion: null,
    controlPlaneVersion: cluster.version ?? null,
    releaseVersion: null,
    latestReleaseVersion: null,
    latestReleasePublishedAt: null,
    latestReleaseParameter: null,
    releaseNotesUrl: null,
    nodes: null,
    kind: 'managed',
    nodeKind: null,
    pinKey: null,
    launchTemplate: null,
    imageId: null,
    imageName: null,
    latestImageId: null,
    unhealthy: null,
    inPlace: null,
    status: 'error',
    reason: error,
  };
}

/**
 * The upgrade's health gate marked the node group unhealthy on what it runs now: say so wherever its
 * entry is read. Whatever its kind decided, the mark is added to the reason.
 */
export function withHealthMark(cluster: ClusterState, ng: NodegroupState, report: NodegroupDecision): NodegroupDecision {
  const mark = unhealthyNow(ng);
  if (!mark) return { ...report, unhealthy: null };
  return {
    ...report,
    unhealthy: mark,
    reason:
      `${report.reason} · 🩺 its workloads did not come back healthy on ${mark.target} (health gate, ${mark.at}): ` +
      `upgrades of ${cluster.name} are held until the tag ${UNHEALTHY_TAG} is removed`,
  };
}

/** The report fields every node kind fills the same way from what was read. */
export function imageFields(
  ng: NodegroupState,
): Pick<NodegroupDecision, 'kind' | 'launchTemplate' | 'imageId' | 'imageName' | 'latestImageId' | 'unhealthy' | 'inPlace'> {
  return {
    unhealthy: null,
    inPlace: null,
    kind: ng.kind ?? 'managed',
    launchTemplate: ng.launchTemplate ?? null,
    imageId: ng.image?.imageId ?? null,
    imageName: ng.image?.info?.name ?? null,
    latestImageId: null,
  };
}
