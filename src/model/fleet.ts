import type { AutoModePoolRead, NodeClassRead } from './karpenter-objects.js';

/**
 * The kinds of nodes the action knows, each one module of ../kinds/ behind the NodeKind interface:
 * a managed node group whose AMI EKS picks by release, a managed node group whose launch template
 * names its image (AMI type CUSTOM), a self-managed Auto Scaling group of the cluster's, a Karpenter
 * EC2NodeClass, an EKS Auto Mode NodePool.
 */
export type NodeKindId = 'managed-release' | 'managed-image' | 'self-managed' | 'karpenter' | 'auto-mode';

/** The manifest key that pins a node group's target, by its kind: a release, an image id, or a Karpenter node class's alias (`nodeClasses.<name>.alias`). */
export type PinKey = 'releaseVersion' | 'imageId' | 'alias';

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
  /** EC2's `State`: `available`, or `disabled` (DisableImage: no instance can launch from it), among others. */
  state?: string | null;
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
  /** The template version names `resolve:ssm:<parameter>`: EC2 resolves it when an instance launches; `imageId` is what it names now. */
  alias?: string;
}

/** Something that names an image by id: a node group, or one of a self-managed group's instance sources. */
export interface ImageSlot {
  launchTemplate?: LaunchTemplateRef;
  image?: ImageRead;
}

/**
 * Besides its own template or configuration (what new instances get), where a self-managed group's
 * instances come from: the template version or launch configuration each running instance was
 * launched from (`instances`), or an override template of its mixed instances policy (`override`),
 * used for some of its instance types.
 */
export interface ImageSource extends ImageSlot {
  role: 'instances' | 'override';
  /** Instances launched from it (0 for an override template no instance runs yet). */
  instances: number;
  /** The instance types it is for (an override) or that run it. */
  instanceTypes: string[];
}

/**
 * The tag a node group gets when its workloads did not come back after an update: `<release or image> <ISO time>`.
 * Readable with the check's own eks:DescribeNodegroup (its `tags`); the characters stay within EKS's
 * tag restrictions (letters, digits, spaces and + - = . _ : / @; values up to 256). Only a visible
 * mirror: infrastructure as code removes tags it does not know (UNHEALTHY_PARAMETER_PATH holds).
 */
export const UNHEALTHY_TAG = 'eks-ami-drift/unhealthy';

/**
 * Where the health gate's mark is kept durably: one SSM parameter per node group, in the cluster's
 * account and region, `/eks-ami-drift/unhealthy/<cluster>/<node group>`. Terraform's AWS provider
 * wholly manages a resource's `tags` and proposes removing tags added outside it on the next apply
 * (Terraform AWS provider, "Resource Tagging" guide), but Terraform changes only the objects its state
 * binds to its configuration (hashicorp/terraform website/docs/cli/state/index.mdx), and CloudFormation
 * only its stack's resources: a parameter neither created is left alone. Whether a CloudFormation update
 * of an AWS::EKS::Nodegroup removes tags added outside its stack is UNVERIFIED (users report it for other
 * resources, data-dot-all/dataall#194): either way the parameter holds. The names fit SSM's rules
 * (PutParameter, Name: a-zA-Z0-9_.- and /, at most 15 levels, not starting with aws or ssm): EKS cluster
 * names are letters, digits, - and _ (up to 100), node group names too (up to 63).
 */
export const UNHEALTHY_PARAMETER_PATH = '/eks-ami-drift/unhealthy';

export const unhealthyParameter = (cluster: string, nodegroup: string) => `${UNHEALTHY_PARAMETER_PATH}/${cluster}/${nodegroup}`;
/**
 * The name a Karpenter node class's health-gate mark goes under, beside the node groups' marks:
 * `ec2nodeclass.<name>`. EKS node group names take no `.` (EKS API reference, CreateNodegroup
 * nodegroupName), so it cannot be a node group's; one parameter path, one paginated read, for both.
 */
export const nodeClassMarkName = (name: string) => `ec2nodeclass.${name}`;

/** Where a mark was read from: the SSM parameter, the node group's tag, or both. */
export type MarkSource = 'parameter' | 'tag';

/** A node group's health-gate mark, read: the release (or image id) it was unhealthy on, and when. */
export interface UnhealthyMark {
  target: string;
  at: string;
  /** Where it was read from (absent: not said, as in a unit test's fixture). */
  sources?: MarkSource[];
}

/** The tag's value, or a parameter's in the same plain form: `<release or image> <ISO time>`. */
export function parseUnhealthy(value: string | undefined): UnhealthyMark | undefined {
  const [target, at] = (value ?? '').trim().split(/\s+/);
  return target ? { target, at: at ?? '' } : undefined;
}

/** A parameter's value: the JSON the health gate writes (`{"target", "at", ...}`), or the tag's plain form, as a person may put it. */
export function parseUnhealthyParameter(value: string | undefined): UnhealthyMark | undefined {
  const text = (value ?? '').trim();
  if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as { target?: unknown; at?: unknown };
      if (typeof json.target === 'string' && json.target.trim()) return { target: json.target.trim(), at: typeof json.at === 'string' ? json.at : '' };
    } catch {
      // not JSON after all: read as the plain form below
    }
  }
  return parseUnhealthy(text.startsWith('{') ? undefined : text);
}

/**
 * One mark from the tag and the parameter: either holds, so the parameter holds when the tag is gone.
 * When both are there and name different targets (one of the two writes failed, or someone edited
 * one), the later is the health gate's latest word.
 */
export function mergeUnhealthy(tag: UnhealthyMark | undefined, parameter: UnhealthyMark | undefined): UnhealthyMark | undefined {
  if (!tag || !parameter) return tag ?? parameter;
  if (tag.target === parameter.target) return { target: tag.target, at: parameter.at || tag.at, sources: ['parameter', 'tag'] };
  return (Date.parse(tag.at) || 0) > (Date.parse(parameter.at) || 0) ? tag : parameter;
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
  /** `managed` when absent. `karpenter` (an EC2NodeClass) and `auto-mode` (an Auto Mode NodePool) are read from Kubernetes. */
  kind?: 'managed' | 'self-managed' | 'karpenter' | 'auto-mode';
  /** A Karpenter EC2NodeClass, its NodePools and NodeClaims (kind `karpenter`). */
  nodeClass?: NodeClassRead;
  /** An EKS Auto Mode NodePool and its nodes (kind `auto-mode`). */
  autoModePool?: AutoModePoolRead;
  /** The launch template the node group is made from, if any. */
  launchTemplate?: LaunchTemplateRef;
  /** Its AMI, read for the node groups whose AMI is named by id (CUSTOM, self-managed). */
  image?: ImageRead;
  /** A self-managed group's other image sources: its instances' and its override templates', each read like `image`. */
  sources?: ImageSource[];
  /** A self-managed group's instance count (in service or not). */
  instanceCount?: number;
  amiType?: string;
  /** Kubernetes version, `1.31`. */
  version?: string;
  releaseVersion?: string;
  status?: string;
  desiredSize?: number;
  /** How EKS rolls it (managed node groups). */
  updateSettings?: UpdateSettings;
  /** The health gate found its workloads unhealthy after an update: its UNHEALTHY_TAG and its UNHEALTHY_PARAMETER_PATH parameter, merged. */
  unhealthy?: UnhealthyMark;
  /** Set once its parameter mark was merged in (see mergeUnhealthy), so merging again changes nothing. */
  parameterRead?: boolean;
  /** When EKS created it (DescribeNodegroup's createdAt), ms. */
  createdAt?: number;
  /** Its version updates, oldest first: read only for staged rollouts (readHistories). */
  updates?: UpdateRecord[];
  /** Set when its update history could not be read, or not all of it yet (then it holds its trains back). */
  historyError?: string;
  /** What reading its history took this run: ListUpdates pages, DescribeUpdate calls, updates known from the record. */
  historyCalls?: { pages: number; described: number; recorded: number };
  /** Set when DescribeNodegroup failed: the AWS error name and message. */
  error?: string;
  /**
   * What its nodes run, as the check read it from the cluster's Kubernetes API (Bottlerocket node
   * groups only, to see updates in place); absent: not looked at.
   */
  nodeOs?: NodeOsRead;
}

/** Each node's `status.nodeInfo.osImage`, or why the nodes were not looked at. */
export type NodeOsRead = { nodes: { name: string; osImage: string }[] } | { unread: string };

/** One of a node group's version updates, as DescribeUpdate tells it. */
export interface UpdateRecord {
  id: string;
  /** InProgress, Successful, Failed, Cancelled. */
  status: string;
  /** ms. EKS records no completion time: an update's only time is its creation. */
  createdAt: number;
  /** The update's `ReleaseVersion` parameter: absent from a CUSTOM node group's update to a launch template version. */
  releaseVersion: string | null;
  /**
   * The update's `LaunchTemplateVersion` parameter: a CUSTOM node group's update names only its launch
   * template and version (EKS API reference, UpdateNodegroupVersion, example 2).
   */
  launchTemplateVersion?: string | null;
  /** The image that launch template version names, read for a failed update that names no release (its train). */
  image?: ImageRead;
  /** `errorCode: errorMessage` of each error of a failed update. */
  errors: string[];
}

/**
 * One update as the history record (`history-cache`) keeps it. Only a version update's fields matter to
 * the proof; any other type (ConfigUpdate: scaling, labels, taints) is kept by its type alone, since a
 * type never changes.
 */
export interface RecordedUpdate {
  type: string;
  status?: string;
  createdAt?: number;
  releaseVersion?: string | null;
  launchTemplateVersion?: string | null;
  errors?: string[];
}

/** The history record: by `region/cluster/nodegroup`, every update id described so far. */
export interface HistoryRecord {
  schema: 1;
  nodegroups: Record<string, Record<string, RecordedUpdate>>;
}

/** A cluster as read from AWS. */
export interface ClusterState {
  name: string;
  region: string;
  /** With the `accounts` input: the account the cluster is in (its clients are that account's). */
  account?: string;
  /** The cluster's tags (DescribeCluster's `tags`). */
  tags?: Record<string, string>;
  /** The control plane's Kubernetes version. */
  version?: string;
  /** DescribeCluster's upgradePolicy.supportType: STANDARD clusters are upgraded automatically at the end of standard support. */
  supportType?: string;
  /** DescribeCluster's computeConfig.enabled: EKS Auto Mode runs its nodes (EKS API reference, ComputeConfigResponse). */
  autoMode?: boolean;
  /** The Kubernetes API endpoint and its CA (base64 PEM), from DescribeCluster. */
  endpoint?: string;
  caData?: string;
  /** Set when the cluster could not be read: the AWS error name and message. */
  error?: string;
  /** The node groups read (after the `nodegroups` filter). */
  nodegroups: NodegroupState[];
  /** Every node group name of the cluster, whatever the filter. */
  nodegroupNames?: string[];
  /** Every self-managed group's name (its Auto Scaling group's), whatever the filter, when they were read. */
  selfManagedNames?: string[];
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
