/**
 * The kinds of nodes the action knows, each one module of ../kinds/ behind the NodeKind interface:
 * a managed node group whose AMI EKS picks by release, a managed node group whose launch template
 * names its image (AMI type CUSTOM), a self-managed Auto Scaling group of the cluster's.
 */
export type NodeKindId = 'managed-release' | 'managed-image' | 'self-managed';

/** The manifest key that pins a node group's target, by its kind: a release, or an image id. */
export type PinKey = 'releaseVersion' | 'imageId';

/** A launch template version, as a node group or an Auto Scaling group names it. */
export interface LaunchTemplateRef {
  id: string;
  name: string | null;
  /** A number, or `$Default` / `$Latest` as an Auto Scaling group may name it. */
  version: string;
}

/** An AMI as DescribeImages describes it: only the fields the action uses. */
export interface ImageInfo {
  imageId: string;
  name: string | null;
  ownerId: string | null;
  /** `amazon` for images of AWS's catalogue (AWS's own and vetted publishers'). */
  ownerAlias: string | null;
  /** ISO 8601. */
  createdAt: string | null;
  /** ISO 8601: when the image is (or was) deprecated. */
  deprecatedAt: string | null;
}

/** A node group's AMI when it is named by id (in a launch template or launch configuration), not by release. */
export interface ImageRead {
  via: 'launch-template' | 'launch-configuration';
  /** The launch configuration's name, for a self-managed group made from one. */
  launchConfiguration?: string;
  imageId?: string;
  /** `null`: DescribeImages did not return it (deregistered, or not shared with this account). */
  info?: ImageInfo | null;
  /** Reading the template, the configuration or the image failed: the AWS error. */
  error?: string;
}

/**
 * The tag a node group gets when its workloads did not come back after an update: `<release or image> <ISO time>`.
 * Durable, and readable with the check's own eks:DescribeNodegroup (its `tags`); the characters stay
 * within EKS's tag restrictions (letters, digits, spaces and + - = . _ : / @; values up to 256).
 */
export const UNHEALTHY_TAG = 'eks-ami-drift/unhealthy';

/** A node group's UNHEALTHY_TAG, read: the release (or image id) it was unhealthy on, and when. */
export interface UnhealthyMark {
  target: string;
  at: string;
}

export function parseUnhealthy(value: string | undefined): UnhealthyMark | undefined {
  const [target, at] = (value ?? '').trim().split(/\s+/);
  return target ? { target, at: at ?? '' } : undefined;
}

/** The health gate's mark when it is on what the node group runs now (its release, or its image): a mark on an older target no longer counts. */
export function unhealthyNow(ng: Pick<NodegroupState, 'unhealthy' | 'releaseVersion' | 'image'>): UnhealthyMark | undefined {
  const mark = ng.unhealthy;
  return mark && (mark.target === ng.releaseVersion || mark.target === ng.image?.imageId) ? mark : undefined;
}

/**
 * How EKS rolls a managed node group, as DescribeNodegroup tells it (EKS API reference, Nodegroup:
 * updateConfig, capacityType, nodeRepairConfig).
 */
export interface UpdateSettings {
  /** NodegroupUpdateConfig.maxUnavailable: nodes replaced at once (1 to 100). */
  maxUnavailable: number | null;
  /** NodegroupUpdateConfig.maxUnavailablePercentage: that share of the nodes at once, up to 100 nodes. */
  maxUnavailablePercentage: number | null;
  /** NodegroupUpdateConfig.updateStrategy: DEFAULT (launches first) or MINIMAL (terminates first); null when not stated. */
  strategy: string | null;
  /** ON_DEMAND, SPOT or CAPACITY_BLOCK; null when not stated. */
  capacityType: string | null;
  /** nodeRepairConfig.enabled: EKS replaces unhealthy nodes on its own. */
  nodeRepair: boolean;
}

/**
 * A node group as AWS describes it: only the fields the action uses. Managed node groups come from
 * EKS; self-managed ones are Auto Scaling groups tagged for the cluster (their `name` is the group's).
 */
export interface NodegroupState {
  name: string;
  /** `managed` when absent. */
  kind?: 'managed' | 'self-managed';
  /** The launch template the node group is made from, if any. */
  launchTemplate?: LaunchTemplateRef;
  /** Its AMI, read for the node groups whose AMI is named by id (CUSTOM, self-managed). */
  image?: ImageRead;
  amiType?: string;
  /** Kubernetes version, `1.31`. */
  version?: string;
  releaseVersion?: string;
  status?: string;
  desiredSize?: number;
  /** How EKS rolls it (managed node groups). */
  updateSettings?: UpdateSettings;
  /** The health gate found its workloads unhealthy after an update (its UNHEALTHY_TAG). */
  unhealthy?: UnhealthyMark;
  /** When EKS created it (DescribeNodegroup's createdAt), ms. */
  createdAt?: number;
  /** Its version updates, oldest first: read only for staged rollouts (readHistories). */
  updates?: UpdateRecord[];
  /** Set when its update history could not be read. */
  historyError?: string;
  /** Set when DescribeNodegroup failed: the AWS error name and message. */
  error?: string;
}

/** One of a node group's version updates, as DescribeUpdate tells it. */
export interface UpdateRecord {
  id: string;
  /** InProgress, Successful, Failed, Cancelled. */
  status: string;
  /** ms. EKS records no completion time: an update's only time is its creation. */
  createdAt: number;
  /** The update's `ReleaseVersion` parameter (for a CUSTOM node group, EKS's record of the image, UNVERIFIED). */
  releaseVersion: string | null;
  /** `errorCode: errorMessage` of each error of a failed update. */
  errors: string[];
}

/** A cluster as read from AWS. */
export interface ClusterState {
  name: string;
  region: string;
  /** The cluster's tags (DescribeCluster's `tags`). */
  tags?: Record<string, string>;
  /** The control plane's Kubernetes version. */
  version?: string;
  /** The Kubernetes API endpoint and its CA (base64 PEM), from DescribeCluster. */
  endpoint?: string;
  caData?: string;
  /** Set when the cluster could not be read: the AWS error name and message. */
  error?: string;
  /** The node groups read (after the `nodegroups` filter). */
  nodegroups: NodegroupState[];
  /** Every node group name of the cluster, whatever the filter. */
  nodegroupNames?: string[];
}

/** The latest release published in one SSM parameter. */
export type LatestRelease =
  | { kind: 'found'; releaseVersion: string; publishedAt?: Date; /** JSON parameters (Windows) carry the image id too. */ imageId?: string }
  /** An `image_id` parameter: the AMI id AWS recommends in this region. */
  | { kind: 'image'; imageId: string; publishedAt?: Date }
  | { kind: 'missing' }
  | { kind: 'error'; message: string };

export interface ParameterRequest {
  parameter: string;
  /**
   * `release`: the value is the release version; `json`: a JSON object with `release_version` (and
   * `image_id`); `image-id`: the value is an AMI id.
   */
  format: 'release' | 'json' | 'image-id';
}

/** The AMI id a parameter gave: an `image_id` parameter's value, or a JSON parameter's `image_id`. */
export function imageIdOf(found: LatestRelease | undefined): string | undefined {
  return found?.kind === 'image' || found?.kind === 'found' ? found.imageId : undefined;
}

/** A Kubernetes version's end of standard and extended support (DescribeClusterVersions), YYYY-MM-DD. */
export interface VersionSupport {
  endOfStandardSupport: string | null;
  endOfExtendedSupport: string | null;
}
