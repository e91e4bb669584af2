import { UNHEALTHY_TAG, unhealthyNow, unhealthyParameter, type ClusterState, type NodegroupState, type UnhealthyMark } from '../model/fleet.js';
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
 * How a person lifts a node group's health-gate mark: delete its SSM parameter (the durable record) and
 * its tag (the visible mirror), each only where the mark was read from; both when not said.
 */
export function liftMark(cluster: Pick<ClusterState, 'name' | 'region'>, nodegroup: string, mark: UnhealthyMark): string {
  const sources = mark.sources ?? ['parameter', 'tag'];
  return [
    ...(sources.includes('parameter') ? [`aws ssm delete-parameter --region ${cluster.region} --name ${unhealthyParameter(cluster.name, nodegroup)}`] : []),
    ...(sources.includes('tag') ? [`aws eks untag-resource --resource-arn <${nodegroup}'s ARN> --tag-keys ${UNHEALTHY_TAG}`] : []),
  ].join(' and ');
}

/** Where a mark was read from, for a reason: `SSM parameter /eks-ami-drift/unhealthy/prod/general and tag eks-ami-drift/unhealthy`. */
export function markPlace(cluster: Pick<ClusterState, 'name'>, nodegroup: string, mark: UnhealthyMark): string {
  const sources = mark.sources ?? ['parameter', 'tag'];
  return [
    ...(sources.includes('parameter') ? [`SSM parameter ${unhealthyParameter(cluster.name, nodegroup)}`] : []),
    ...(sources.includes('tag') ? [`tag ${UNHEALTHY_TAG}`] : []),
  ].join(' and ');
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
    unhealthy: { target: mark.target, at: mark.at, ...(mark.sources ? { sources: mark.sources } : {}) },
    reason:
      `${report.reason} · 🩺 its workloads did not come back healthy on ${mark.target} (health gate, ${mark.at}; ${markPlace(cluster, ng.name, mark)}): ` +
      `upgrades of ${cluster.name} are held until the mark is removed (${liftMark(cluster, ng.name, mark)}), or force: true`,
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

/** What a check or an upgrade says when the health gate's parameters cannot be read: it goes on with the tags. */
export function unreadableMarks(region: string, error: string): string {
  return (
    `${region}: the health gate's marks could not be read (${error}): only the node groups' ${UNHEALTHY_TAG} tags were read, ` +
    'and infrastructure as code may have removed those. Allow ssm:GetParametersByPath on the /eks-ami-drift/ parameters (docs/iam-and-rbac.md).'
  );
}
