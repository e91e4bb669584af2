import type { NodeKindId, PinKey, UpdateSettings } from './fleet.js';
import type { PauseReport } from './pause.js';
import type { AutoModeReport, NodeClassReport } from './karpenter-objects.js';

/** What the check found for one node group: the one object every output is rendered from. */
export type NodegroupStatus =
  | 'up-to-date'
  | 'drift'
  | 'soaking'
  | 'waiting'
  | 'behind-control-plane'
  | 'unsupported'
  | 'custom'
  | 'unknown'
  | 'error'
  /** A Karpenter EC2NodeClass on an `@latest` alias: it takes each release as AWS publishes it. */
  | 'tracks-latest'
  /** An EKS Auto Mode NodePool: AWS chooses its AMI; reported, never pinned. */
  | 'auto-mode';

export const STATUSES: readonly NodegroupStatus[] = [
  'error',
  'behind-control-plane',
  'drift',
  'soaking',
  'waiting',
  'unsupported',
  'unknown',
  'tracks-latest',
  'custom',
  'auto-mode',
  'up-to-date',
];

/** Statuses counted only when an entry has them (the node kinds read from Kubernetes), so a fleet without them reports the same counts. */
export const COUNTED_WHEN_SEEN: ReadonlySet<NodegroupStatus> = new Set(['tracks-latest', 'auto-mode']);

/** Statuses that mean "this node group should be upgraded": they set the `drift` output. */
export const NEEDS_UPGRADE: ReadonlySet<NodegroupStatus> = new Set(['drift', 'behind-control-plane']);

export interface NodegroupReport {
  /** With the `accounts` input: the cluster's account. */
  account?: string;
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
  /** How EKS will roll it (managed node groups): its update settings, capacity type and node auto repair. */
  updateSettings?: UpdateSettings;
  /**
   * `managed` (an EKS managed node group), `self-managed` (an Auto Scaling group of the cluster's),
   * `karpenter` (an EC2NodeClass), `auto-mode` (an Auto Mode NodePool).
   */
  kind: 'managed' | 'self-managed' | 'karpenter' | 'auto-mode';
  /** A Karpenter EC2NodeClass: its selector, what it resolves to, its NodePools and nodes, where it should move. */
  nodeClass?: NodeClassReport;
  /** An EKS Auto Mode NodePool: its nodes' ages, its expiry and Auto Mode's limit, its disruption budgets. */
  autoMode?: AutoModeReport;
  /** Its node kind (null for an entry that stands for a whole cluster). */
  nodeKind: NodeKindId | null;
  /** The manifest key its kind pins it by; null: the action does not pin it (reported only). */
  pinKey: PinKey | null;
  /** The launch template version the node group is made from, if any. */
  launchTemplate: { id: string; name: string | null; version: string } | null;
  /** For a node group whose AMI is named by id (CUSTOM, self-managed): the image, its name, and the image AWS recommends now. */
  imageId: string | null;
  imageName: string | null;
  latestImageId: string | null;
  /**
   * The upgrade's health gate found its workloads unhealthy on the release (or image) it runs now, and
   * where the mark was read from: its SSM parameter (`parameter`, the durable record), its tag, or both.
   */
  unhealthy: { target: string; at: string; sources?: ('parameter' | 'tag')[] } | null;
  /** Bottlerocket only: nodes that run a newer OS than the node group's release, updated in place; null: none, or not looked at. */
  inPlace: InPlaceReport | null;
  status: NodegroupStatus;
  reason: string;
  /** Staged rollouts only (the `stages` input): the cluster's stage. */
  stage?: string;
  /** Staged rollouts only: the release to move to when it is not the latest (the newest proven train at its minor). */
  targetReleaseVersion?: string;
  /** Staged rollouts only, in a later stage with a newer release: the proof of the train it is measured against. */
  proof?: StageProof;
}

/** Nodes updated in place (Bottlerocket): how many of the node group's nodes, and the OS versions they run, newest first. */
export interface InPlaceReport {
  nodes: number;
  updatedInPlace: number;
  osVersions: string[];
  /** The newest OS version a node runs (`1.57.0`): a proposal never pins a release older than it. */
  newest: string;
}

/** Whether the earlier stages have proven a release train for a node group's stage, and the evidence. */
export interface StageProof {
  /** `v20260714`, or `v1.41.0` for Bottlerocket. */
  train: string;
  /** `false`: no node group of its AMI type in an earlier stage, so the gate could not apply. */
  applies: boolean;
  proven: boolean;
  /** When the last holder will have soaked long enough, ISO 8601 (null: something other than time holds it). */
  provenAt: string | null;
  holders: string[];
  failures: { cluster: string; nodegroup: string; updateId: string | null; at: string; what: string }[];
  /** The earlier-stage node groups that run the train (or a newer one), since when, through which update. */
  evidence: { cluster: string; nodegroup: string; stage: string; release: string | null; since: string | null; updateId: string | null }[];
}

/** A node group's entry as its kind decides it, before the registry adds which kind and pin key it is. */
export type NodegroupDecision = Omit<NodegroupReport, 'nodeKind' | 'pinKey'>;

export interface ClusterReport {
  /** With the `accounts` input: the cluster's account. */
  account?: string;
  cluster: string;
  region: string;
  controlPlaneVersion: string | null;
  /** Managed node groups read. */
  nodegroups: number;
  /** Self-managed node groups (Auto Scaling groups tagged for the cluster) read. */
  selfManagedGroups: number;
  /** Karpenter EC2NodeClasses read (absent: none). */
  nodeClasses?: number;
  /** EKS Auto Mode runs its nodes (DescribeCluster computeConfig.enabled); absent: it does not. */
  autoMode?: boolean;
  /** The AWS error when the cluster could not be read. */
  error: string | null;
  /** Its Kubernetes version's end of standard and extended support (DescribeClusterVersions), and what to say when one is near or past. */
  kubernetesSupport?: { endOfStandardSupport: string | null; endOfExtendedSupport: string | null; notice: string | null };
  /** Staged rollouts only: the cluster's stage, and why when its tag did not say so plainly. */
  stage?: string;
  stageNote?: string | null;
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
  /** Clusters with Bottlerocket node groups whose nodes could not be read to see updates in place, with the reason. */
  nodesUnchecked?: string[];
  /** Clusters whose Karpenter objects (EC2NodeClasses, NodePools, NodeClaims) could not be read, with the reason. */
  nodeClassesUnchecked?: string[];
  /** What `on-drift` did per cluster (empty when it is `none`). */
  proposals: Proposal[];
  /** What the check could not read but did not stop for (the health gate's parameters, refused): absent when nothing. */
  warnings?: string[];
  /** With the `accounts` input: each account, the role assumed there, how many clusters it has, or why it could not be read. */
  accounts?: AccountReport[];
  /** Staged rollouts only: the stages and the stages × AMI types table. */
  rollout?: { stages: string[]; stageTag: string; stageSoak: string; cells: RolloutCell[] };
}

/** The release a drifted node group is proposed and upgraded to: the newest proven train's in a staged rollout, else the latest. */
export function proposedRelease(e: Pick<NodegroupReport, 'targetReleaseVersion' | 'latestReleaseVersion'>): string | null {
  return e.targetReleaseVersion ?? e.latestReleaseVersion;
}

/** One cell of the rollout table: what the node groups of one AMI type in one stage run, and what they wait for. */
export interface RolloutCell {
  stage: string;
  amiType: string;
  /** Trains run, newest first: how many node groups, and since when the earliest of them got onto it. */
  trains: { train: string; nodegroups: number; since: string | null }[];
  /** Node groups per status that says something about the rollout: drift, soaking, waiting. */
  drift: number;
  waiting: number;
  /** The train they wait for, and when it is proven at the earliest (null: a failure or a node group holds it). */
  waitingFor: { train: string; provenAt: string | null; failed: boolean }[];
}

/** What happened to one cluster's pull request or issue. */
export interface Proposal {
  /** With the `accounts` input: the cluster's account. */
  account?: string;
  cluster: string;
  region: string;
  kind: 'pull-request' | 'issue';
  result: 'created' | 'updated' | 'unchanged' | 'closed' | 'none' | 'error';
  number: number | null;
  url: string | null;
  /** Whether `number` is an open pull request or issue (the outputs list only those). */
  open: boolean;
  reason: string;
  /** What did not work but does not undo the proposal (a label, an assignee, a reviewer refused). */
  warnings: string[];
}

/** What the check could see now of what would block the upgrade. */
/**
 * The upgrade's pre-flight run from the check. `autoscaler`: when Argo CD or Flux keeps cluster-autoscaler's
 * Deployment, the one line saying their self-heal would undo the pause and what prevents it.
 */
export type BlockerLook = { ran: true; blockers: Record<string, string[]>; autoscaler?: string } | { ran: false; reason: string };

/** One account of the `accounts` input: read through its role, or not, and why. */
export interface AccountReport {
  account: string;
  /** The role assumed there. */
  role: string;
  /** Clusters read in it (0 when it could not be read). */
  clusters: number;
  /** Why the account could not be read (its role could not be assumed, say); null when it was. */
  error: string | null;
}
