import type { ClusterState, NodegroupState, NodeKindId } from '../model/fleet.js';
import type { NodeClassPin, PinnedRelease } from '../model/plan.js';
import { compareMinors, compareReleases, kubernetesMinor, parseRelease } from './release.js';
import type { PlanItem, Version } from '../model/plan.js';

export interface PlanInput {
  cluster: ClusterState;
  ng: NodegroupState;
  /** The node group's entry in the cluster's manifest. */
  pin?: PinnedRelease;
  /** A Karpenter node class's entry in the cluster's manifest (`nodeClasses`). */
  nodeClassPin?: NodeClassPin;
  /** Where the pin is written, `file:line`, for messages. */
  pinAt?: string;
  /** Whether the cluster has a manifest at all. */
  manifestPresent: boolean;
  /** The release-version input. */
  explicit: string | null;
  followControlPlane: boolean;
  /** The latest published release of the node group's AMI type for a Kubernetes minor. */
  latest: (minor: string) => string | undefined;
  /** For a CUSTOM node group on an EKS-optimized AMI of AWS's: the image AWS recommends now. */
  latestImage?: () => string | undefined;
}

type ItemOf = (action: PlanItem['action'], reason: string, target?: Version | null, source?: PlanItem['source']) => PlanItem;

/** The plan line of one node group, with what it runs now; the rest is decided by its kind. */
function itemOf(input: PlanInput, kind: NodeKindId, current: Version | null): ItemOf {
  const { cluster, ng } = input;
  return (action, reason, target = null, source = null) => ({
    cluster: cluster.name,
    region: cluster.region,
    nodegroup: ng.name,
    nodeKind: kind,
    amiType: ng.amiType ?? null,
    nodes: ng.desiredSize ?? null,
    ...(ng.updateSettings ? { updateSettings: ng.updateSettings } : {}),
    current,
    target,
    source,
    action,
    reason,
  });
}

/** A node group the action does not roll: skipped with its kind's reason. */
export function planNotRolled(input: PlanInput, kind: NodeKindId, why: string): PlanItem {
  const { ng } = input;
  const imageId = ng.image?.imageId;
  const current =
    ng.version && ng.releaseVersion
      ? { version: ng.version, releaseVersion: ng.releaseVersion }
      : ng.version && imageId
        ? { version: ng.version, releaseVersion: imageId, imageId }
        : null;
  return itemOf(input, kind, current)('skip', ng.error ?? why);
}

/**
 * A node group whose launch template names its AMI (CUSTOM): moved to another image through a new
 * launch template version. What the template names could not be read: the cluster is not touched
 * until it can be.
 */
export function planByImage(input: PlanInput, kind: NodeKindId): PlanItem {
  const { ng } = input;
  const imageId = ng.image?.imageId;
  const current = ng.version && imageId ? { version: ng.version, releaseVersion: imageId, imageId } : null;
  const item = itemOf(input, kind, current);
  if (ng.error) return item('skip', ng.error);
  if (ng.image?.error) return item('block', `cannot read the AMI its launch template names: ${ng.image.error}`);
  if (!current?.imageId) return item('skip', 'its launch template names no image');
  return planImage(input, { ...current, imageId: current.imageId }, item);
}

/**
 * A node group whose AMI EKS picks by release. Pure. Only forward: a target older than what runs is
 * skipped (a rollback is not possible), the same release is up to date, anything that cannot be
 * compared is skipped with the reason.
 */
export function planByRelease(input: PlanInput, kind: NodeKindId): PlanItem {
  const { cluster, ng } = input;
  const current = ng.version && ng.releaseVersion ? { version: ng.version, releaseVersion: ng.releaseVersion } : null;
  const item = itemOf(input, kind, current);
  if (ng.error) return item('skip', ng.error);
  if (!current) return item('skip', 'the node group has no version or release version');

  const minor = kubernetesMinor(current.version) as string;
  const controlPlane = cluster.version ? kubernetesMinor(cluster.version) : undefined;
  let target: Version;
  let source: NonNullable<PlanItem['source']>;
  const lagging = input.followControlPlane && controlPlane !== undefined && compareMinors(minor, controlPlane) < 0;
  if (input.explicit) {
    source = 'release-version';
    if (ng.amiType?.startsWith('BOTTLEROCKET')) {
      // A Bottlerocket release names the OS version (1.41.0-…), the same for every Kubernetes minor
      // (terraform-provider-aws PR 40903, eksctl #4423): the minor is the node group's, or the
      // control plane's when follow-control-plane moves a lagging node group up.
      target = { version: lagging ? controlPlane : minor, releaseVersion: input.explicit };
    } else {
      const releaseMinor = kubernetesMinor(input.explicit) as string;
      if (releaseMinor !== minor && !(lagging && releaseMinor === controlPlane)) {
        const how =
          controlPlane === releaseMinor
            ? `set follow-control-plane: true to move it to Kubernetes ${releaseMinor} with this release`
            : `name a release of Kubernetes ${minor}`;
        return item(
          'block',
          `release-version ${input.explicit} is for Kubernetes ${releaseMinor}, but the node group runs ${minor}: ${how}`,
          { version: releaseMinor, releaseVersion: input.explicit },
          source,
        );
      }
      target = { version: releaseMinor, releaseVersion: input.explicit };
    }
  } else if (input.pin) {
    target = { version: input.pin.kubernetesVersion, releaseVersion: input.pin.releaseVersion ?? '' };
    source = 'manifest';
  } else if (input.manifestPresent) {
    return item('skip', 'not pinned in the cluster’s manifest: left alone');
  } else {
    const version = lagging ? controlPlane : minor;
    const latest = input.latest(version);
    if (!latest) return item('skip', `no published ${ng.amiType} release for Kubernetes ${version}`);
    target = { version, releaseVersion: latest };
    source = lagging ? 'control-plane' : 'latest';
  }

  if (compareMinors(target.version, minor) < 0) {
    return item('skip', `target Kubernetes ${target.version} is older than the node group’s ${minor}: a downgrade is not possible`, target, source);
  }
  if (controlPlane && compareMinors(target.version, controlPlane) > 0) {
    // EKS refuses a node group newer than its control plane. A pin or a release-version asking for it
    // blocks the whole cluster (nothing there changes), rather than being skipped on a green job while
    // the cluster's other node groups move.
    const where = source === 'manifest' ? (input.pinAt ?? 'the manifest') : source === 'release-version' ? 'release-version' : undefined;
    const reason = `target Kubernetes ${target.version} is newer than the control plane’s ${controlPlane}`;
    if (!where) return item('skip', reason, target, source);
    return item(
      'block',
      `${where} asks for Kubernetes ${target.version} (${target.releaseVersion}), newer than the control plane’s ${controlPlane}: ` +
        `upgrade the control plane first, or pin a release of ${controlPlane} or older`,
      target,
      source,
    );
  }
  if (compareMinors(target.version, minor) > 0) {
    return item('update', `Kubernetes ${minor} → ${target.version}, release ${current.releaseVersion} → ${target.releaseVersion}`, target, source);
  }
  const a = parseRelease(target.releaseVersion, ng.amiType);
  const b = parseRelease(current.releaseVersion, ng.amiType);
  if (!a || !b) return item('skip', `release ${!a ? target.releaseVersion : current.releaseVersion} does not parse`, target, source);
  switch (compareReleases(a, b)) {
    case 0:
      return item('up-to-date', `already at ${current.releaseVersion}`, target, source);
    case -1:
      return item('skip', `target ${target.releaseVersion} is older than the running ${current.releaseVersion}: a rollback is not possible`, target, source);
    case undefined:
      return item('skip', `target ${target.releaseVersion} and running ${current.releaseVersion} cannot be ordered`, target, source);
    default:
      return item('update', `${current.releaseVersion} → ${target.releaseVersion}`, target, source);
  }
}

/**
 * A CUSTOM node group: its target is an image id, from the manifest's `imageId`, or (a cluster named
 * without a manifest) the image AWS recommends now when the current one is an EKS-optimized AMI of
 * AWS's. EKS takes no Kubernetes version for it (the image carries it), so a pin must keep the node
 * group's minor. Whether a pinned image is newer cannot be told from its id: a different image is an
 * update, as the person who pinned it asked.
 */
function planImage(input: PlanInput, current: Version & { imageId: string }, item: ItemOf): PlanItem {
  let target: Version;
  let source: NonNullable<PlanItem['source']>;
  if (input.explicit)
    return item(
      'skip',
      'release-version does not apply to a node group whose launch template names its AMI (CUSTOM, self-managed): pin its imageId in the manifest',
    );
  if (input.pin?.imageId) {
    target = { version: input.pin.kubernetesVersion, releaseVersion: input.pin.imageId, imageId: input.pin.imageId };
    source = 'manifest';
    if (target.version !== current.version) {
      return item(
        'block',
        `${input.pinAt ?? 'the manifest'} pins Kubernetes ${target.version} for a node group whose image is on ${current.version}: ` +
          `its Kubernetes version comes with its image; pin "${current.version}" (a control plane upgrade moves it with an image of the new version)`,
        target,
        source,
      );
    }
  } else if (input.manifestPresent) {
    return item('skip', 'not pinned in the cluster’s manifest: left alone');
  } else {
    const latest = input.latestImage?.();
    if (!latest) return item('skip', 'its image is not an EKS-optimized AMI of AWS’s: there is no recommended image to move to');
    target = { version: current.version, releaseVersion: latest, imageId: latest };
    source = 'latest';
  }
  if (target.imageId === current.imageId) return item('up-to-date', `already on ${current.imageId}`, target, source);
  return item('update', `image ${current.imageId} → ${target.imageId}, through a new version of its launch template`, target, source);
}

/**
 * A self-managed group: moved to another image as a CUSTOM node group is, by its launch template's
 * (or launch configuration's) image, its Kubernetes version being its image's. Also replaced when its
 * template names the target already but some of its instances run another image (a template bumped by
 * hand or by infrastructure as code, never rolled): the check calls that drift too.
 */
export function planSelfManaged(input: PlanInput, minorOfImage: (ng: NodegroupState) => string | undefined): PlanItem {
  const minor = input.ng.version ?? minorOfImage(input.ng);
  const ng = minor ? { ...input.ng, version: minor } : input.ng;
  const item = planByImage({ ...input, ng }, 'self-managed');
  if (item.action !== 'up-to-date' || !item.target?.imageId) return item;
  const behind = (ng.sources ?? []).filter((s) => s.role === 'instances' && s.instances > 0 && s.image?.imageId !== item.target?.imageId);
  if (behind.length === 0) return item;
  const count = behind.reduce((n, s) => n + s.instances, 0);
  return { ...item, action: 'update', reason: `its template names ${item.target.imageId} already, but ${count} instance(s) run another image: replaced` };
}
