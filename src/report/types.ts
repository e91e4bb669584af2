import type { Proposal } from '../effects/propose.js';
import type { PauseReport } from '../effects/pauses.js';

/** What the check found for one node group: the one object every output is rendered from. */
export type NodegroupStatus =
  | 'up-to-date'
  | 'drift'
  | 'soaking'
  | 'behind-control-plane'
  | 'unsupported'
  | 'custom'
  | 'unknown'
  | 'error';

export const STATUSES: readonly NodegroupStatus[] = [
  'error',
  'behind-control-plane',
  'drift',
  'soaking',
  'unsupported',
  'unknown',
  'custom',
  'up-to-date',
];

/** Statuses that mean "this node group should be upgraded": they set the `drift` output. */
export const NEEDS_UPGRADE: ReadonlySet<NodegroupStatus> = new Set(['drift', 'behind-control-plane']);

export interface NodegroupReport {
  cluster: string;
  region: string;
  /** `null` for an entry that stands for a whole cluster that could not be read. */
  nodegroup: string | null;
  amiType: string | null;
  kubernetesVersion: string | null;
  controlPlaneVersion: string | null;
  releaseVersion: string | null;
  latestReleaseVersion: string | null;
  /** When the latest release was published (SSM LastModifiedDate), ISO 8601. */
  latestReleasePublishedAt: string | null;
  /** The SSM parameter the latest release was read from. */
  latestReleaseParameter: string | null;
  releaseNotesUrl: string | null;
  /** The node group's desired size: what an upgrade will replace. */
  nodes: number | null;
  /** `managed` (an EKS managed node group) or `self-managed` (an Auto Scaling group of the cluster's). */
  kind: 'managed' | 'self-managed';
  /** The launch template version the node group is made from, if any. */
  launchTemplate: { id: string; name: string | null; version: string } | null;
  /** For a node group whose AMI is named by id (CUSTOM, self-managed): the image, its name, and the image AWS recommends now. */
  imageId: string | null;
  imageName: string | null;
  latestImageId: string | null;
  /** The upgrade's health gate found its workloads unhealthy on the release (or image) it runs now. */
  unhealthy: { target: string; at: string } | null;
  status: NodegroupStatus;
  reason: string;
}

export interface ClusterReport {
  cluster: string;
  region: string;
  controlPlaneVersion: string | null;
  /** Managed node groups read. */
  nodegroups: number;
  /** Self-managed node groups (Auto Scaling groups tagged for the cluster) read. */
  selfManagedGroups: number;
  /** The AWS error when the cluster could not be read. */
  error: string | null;
}

export interface CheckReport {
  command: 'check';
  generatedAt: string;
  regions: string[];
  minReleaseAge: string;
  /** `true` when any node group is in `drift` or `behind-control-plane`. */
  drift: boolean;
  counts: Record<NodegroupStatus, number>;
  clusters: ClusterReport[];
  nodegroups: NodegroupReport[];
  /** cluster-autoscaler deployments paused by this action (a pause whose job is gone is `stale`). */
  pauses: PauseReport[];
  /** Clusters whose Kubernetes API could not be read to look for pauses, with the reason. */
  pausesUnchecked: string[];
  /** What `on-drift` did per cluster (empty when it is `none`). */
  proposals: Proposal[];
}
