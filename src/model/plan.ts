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
}

/**
 * The desired state of one cluster, kept in the repository at `<manifest-dir>/<region>/<cluster>.yaml`
 * (one file per cluster, so jobs fanned out per cluster never edit the same file).
 */
export interface Manifest {
  cluster: string;
  region: string;
  nodegroups: Record<string, PinnedRelease>;
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
