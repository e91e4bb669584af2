import type { NodeKindId, UpdateSettings } from './fleet.js';

/** The upgrade's plan: what each node group is moved to, and the manifest's pins it comes from. */

export interface Version {
  version: string;
  /** The release; for a node group whose launch template names its AMI, the image id. */
  releaseVersion: string;
  /** For a node group whose launch template names its AMI (CUSTOM): the image the template should name. */
  imageId?: string;
}

/** One node group's line in the upgrade plan. */
export interface PlanItem {
  /** With the `accounts` input: the cluster's account. */
  account?: string;
  cluster: string;
  region: string;
  nodegroup: string;
  /** Its node kind: which executor rolls it. */
  nodeKind: NodeKindId;
  amiType: string | null;
  nodes: number | null;
  /** How EKS rolls it (managed node groups). */
  updateSettings?: UpdateSettings;
  current: Version | null;
  target: Version | null;
  /** Where the target came from. */
  source: 'release-version' | 'manifest' | 'latest' | 'control-plane' | null;
  /** `block`: the target asked for cannot apply, so nothing may change in the cluster. */
  action: 'update' | 'up-to-date' | 'skip' | 'block';
  reason: string;
  /** A Karpenter node class's pin: the repository file GitOps applies its EC2NodeClass from (NodeClassPin.file), for messages. */
  pinFile?: string;
}

/**
 * The desired state of one cluster, kept in the repository at `<manifest-dir>/<region>/<cluster>.yaml`
 * (one file per cluster, so jobs fanned out per cluster never edit the same file).
 */
export interface Manifest {
  cluster: string;
  region: string;
  nodegroups: Record<string, PinnedRelease>;
  /** Karpenter EC2NodeClasses pinned by alias, by the node class's name (issue 25; docs/karpenter.md). */
  nodeClasses?: Record<string, NodeClassPin>;
}

/**
 * A Karpenter EC2NodeClass's pin in the cluster's manifest: the alias its `amiSelectorTerms` should
 * name (`al2023@v20250505`), and, when the team keeps the EC2NodeClass's own manifest in the same
 * repository, the file the pull request bumps it in too. The team's GitOps applies that file; the
 * upgrade waits for the cluster's EC2NodeClass to name the alias, then follows Karpenter's drift.
 */
export interface NodeClassPin {
  alias: string;
  /** The repository path of the file holding the EC2NodeClass (plain YAML, one or more documents). */
  file?: string;
  /** The line of the pin's alias, when read from a file. */
  line?: number;
}

export interface PinnedRelease {
  kubernetesVersion: string;
  /** The release EKS picks the AMI by: every node group but a CUSTOM one. */
  releaseVersion?: string;
  /** The AMI a CUSTOM node group's launch template should name (its image source is the template). */
  imageId?: string;
  /** What the pinned image is, written as a comment next to `imageId`. */
  imageNote?: string;
  /** The line of the pin's releaseVersion, when read from a file. */
  line?: number;
}
