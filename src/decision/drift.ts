import { UNHEALTHY_TAG, type ClusterState, type ImageInfo, type NodegroupState } from '../fleet/types.js';
import { imageIdOf, type LatestRelease, type ParameterRequest } from '../fleet/types.js';
import type { NodegroupReport, NodegroupStatus } from '../report/types.js';
import { releaseNotesUrl, releaseSource } from './ami-types.js';
import { compareMinors, compareReleases, kubernetesMinor, parseRelease } from './release.js';
import { formatDuration } from './duration.js';
import { compareImageRelease, eksImageOf, imageSourceOf, latestImageRequests } from './image-source.js';
import { endedReason, endingNotice, supportOf } from './support.js';

export interface DriftPolicy {
  /** A newer release younger than this (milliseconds) is `soaking`, not `drift`. */
  minReleaseAgeMs: number;
  now: Date;
}

/**
 * The SSM parameters a node group is compared with: its AMI type's latest release, or, for an AMI
 * named by id that is an EKS-optimized AMI of AWS's, that image family's latest release and image id.
 */
export function requestsFor(ng: NodegroupState): ParameterRequest[] {
  if (ng.error) return [];
  if (imageSourceOf(ng).kind !== 'release') {
    const eks = ng.image?.info ? eksImageOf(ng.image.info) : undefined;
    if (!eks) return [];
    const { release, imageId } = latestImageRequests(eks);
    return [release, imageId].filter((r) => r !== undefined);
  }
  const minor = ng.version ? kubernetesMinor(ng.version) : undefined;
  if (!minor) return [];
  const source = releaseSource(ng.amiType ?? '', minor);
  return source.kind === 'ssm' ? [{ parameter: source.parameter, format: source.format }] : [];
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
    launchTemplate: null,
    imageId: null,
    imageName: null,
    latestImageId: null,
    unhealthy: null,
    status: 'error',
    reason: error,
  };
}

/**
 * Decides one node group's status. Pure: everything it needs is passed in.
 * Order matters: an error hides everything; a minor behind the control plane is reported whatever the
 * AMI; then what the AMI type allows; then the release comparison and the soak period.
 */
export function classify(
  cluster: ClusterState,
  ng: NodegroupState,
  latest: (parameter: string) => LatestRelease | undefined,
  policy: DriftPolicy,
): NodegroupReport {
  const report = classifyNodegroup(cluster, ng, latest, policy);
  // The upgrade's health gate marked it unhealthy on what it runs now: say so wherever it is read.
  const mark = ng.unhealthy && (ng.unhealthy.target === ng.releaseVersion || ng.unhealthy.target === ng.image?.imageId) ? ng.unhealthy : null;
  if (!mark) return { ...report, unhealthy: null };
  return {
    ...report,
    unhealthy: mark,
    reason: `${report.reason} · 🩺 its workloads did not come back healthy on ${mark.target} (health gate, ${mark.at}): upgrades of ${cluster.name} are held until the tag ${UNHEALTHY_TAG} is removed`,
  };
}

function classifyNodegroup(
  cluster: ClusterState,
  ng: NodegroupState,
  latest: (parameter: string) => LatestRelease | undefined,
  policy: DriftPolicy,
): NodegroupReport {
  const minor = ng.version ? kubernetesMinor(ng.version) : undefined;
  const source = minor ? releaseSource(ng.amiType ?? '', minor) : undefined;
  const parameter = source?.kind === 'ssm' ? source.parameter : null;
  const found = parameter ? latest(parameter) : undefined;
  const latestRelease = found?.kind === 'found' ? found : undefined;

  if (imageSourceOf(ng).kind !== 'release') return classifyImage(cluster, ng, latest, policy);
  const support = supportOf(ng.amiType, policy.now);
  const notice = support.kind === 'ending' ? ` · ⚠️ ${endingNotice(support.eos, support.days)}` : '';
  const entry = (status: NodegroupStatus, reason: string): NodegroupReport => ({
    cluster: cluster.name,
    region: cluster.region,
    nodegroup: ng.name,
    amiType: ng.amiType ?? null,
    kubernetesVersion: ng.version ?? null,
    controlPlaneVersion: cluster.version ?? null,
    releaseVersion: ng.releaseVersion ?? null,
    latestReleaseVersion: latestRelease?.releaseVersion ?? null,
    latestReleasePublishedAt: latestRelease?.publishedAt?.toISOString() ?? null,
    latestReleaseParameter: parameter,
    releaseNotesUrl: latestRelease ? (releaseNotesUrl(ng.amiType ?? '', latestRelease.releaseVersion) ?? null) : null,
    nodes: ng.desiredSize ?? null,
    ...imageFields(ng),
    status,
    reason: `${reason}${status === 'error' ? '' : notice}`,
  });

  if (ng.error) return entry('error', ng.error);
  // A family AWS no longer patches is unsupported whatever its Kubernetes version or release.
  if (support.kind === 'ended') return entry('unsupported', endedReason(support.eos));
  if (!minor) return entry('unknown', `Kubernetes version ${ng.version ?? '(none)'} does not parse`);

  const controlPlaneMinor = cluster.version ? kubernetesMinor(cluster.version) : undefined;
  if (controlPlaneMinor && compareMinors(minor, controlPlaneMinor) < 0) {
    const also =
      latestRelease && ng.releaseVersion && isNewer(latestRelease.releaseVersion, ng.releaseVersion, ng.amiType)
        ? `; a newer ${minor} release ${latestRelease.releaseVersion} is also available`
        : '';
    return entry(
      'behind-control-plane',
      `Kubernetes ${minor} lags the control plane's ${controlPlaneMinor}: upgrade the node group to ${controlPlaneMinor}${also}`,
    );
  }

  if (!source) return entry('unknown', 'no AMI type');
  switch (source.kind) {
    case 'custom':
      return entry('custom', 'custom AMI from a launch template: not compared with a published release'); // unreachable: CUSTOM is classified by its image
    case 'unknown':
    case 'unsupported':
      return entry(source.kind, source.reason);
    case 'ssm':
      break;
  }
  if (!found) return entry('error', `the latest release in ${source.parameter} was not read`);
  if (found.kind === 'error') return entry('error', `reading ${source.parameter}: ${found.message}`);
  if (found.kind !== 'found') {
    return entry('unknown', `SSM parameter ${source.parameter} does not exist: no published ${ng.amiType} release for Kubernetes ${minor}`);
  }

  const current = ng.releaseVersion ? parseRelease(ng.releaseVersion, ng.amiType) : undefined;
  const target = parseRelease(found.releaseVersion, ng.amiType);
  if (!current) return entry('unknown', `release version ${ng.releaseVersion ?? '(none)'} does not parse`);
  if (!target) return entry('unknown', `latest release ${found.releaseVersion} in ${source.parameter} does not parse`);

  const order = compareReleases(current, target);
  if (order === undefined) {
    return entry('unknown', `release ${current.raw} and latest ${target.raw} cannot be ordered (same version, different builds)`);
  }
  if (order === 0) return entry('up-to-date', 'on the latest release');
  if (order > 0) return entry('up-to-date', `ahead of the published recommendation ${target.raw}`);

  const age = found.publishedAt ? policy.now.getTime() - found.publishedAt.getTime() : undefined;
  if (age !== undefined && age < policy.minReleaseAgeMs) {
    return entry(
      'soaking',
      `${target.raw} was published ${formatDuration(Math.max(0, age))} ago, under min-release-age ${formatDuration(policy.minReleaseAgeMs)}: drift in ${formatDuration(policy.minReleaseAgeMs - Math.max(0, age))}`,
    );
  }
  return entry('drift', `${current.raw} → ${target.raw}${age !== undefined ? ` (published ${formatDuration(age)} ago)` : ''}`);
}

function isNewer(candidate: string, current: string, amiType: string | undefined): boolean {
  const a = parseRelease(candidate, amiType);
  const b = parseRelease(current, amiType);
  return !!a && !!b && compareReleases(a, b) === 1;
}

function imageFields(ng: NodegroupState): Pick<NodegroupReport, 'kind' | 'launchTemplate' | 'imageId' | 'imageName' | 'latestImageId' | 'unhealthy'> {
  return {
    unhealthy: null,
    kind: ng.kind ?? 'managed',
    launchTemplate: ng.launchTemplate ?? null,
    imageId: ng.image?.imageId ?? null,
    imageName: ng.image?.info?.name ?? null,
    latestImageId: null,
  };
}

const day = (iso: string) => iso.slice(0, 10);

/** How old an image is and whether it is deprecated, for a reason: "created 2026-01-02 (10 days ago), deprecated since …". */
function imageAge(info: ImageInfo, now: Date): string {
  const parts: string[] = [];
  if (info.createdAt) parts.push(`created ${day(info.createdAt)} (${formatDuration(Math.max(0, now.getTime() - Date.parse(info.createdAt)))} ago)`);
  if (info.deprecatedAt) parts.push(Date.parse(info.deprecatedAt) <= now.getTime() ? `deprecated since ${day(info.deprecatedAt)}` : `deprecated from ${day(info.deprecatedAt)}`);
  return parts.join(', ');
}

/**
 * A node group whose AMI is named by id (CUSTOM launch template, self-managed group): an EKS-optimized
 * AMI of AWS's is compared with the image AWS recommends now for its family and Kubernetes minor, with
 * the same statuses as a release; any other image is `custom`, with its age and deprecation.
 */
function classifyImage(
  cluster: ClusterState,
  ng: NodegroupState,
  latest: (parameter: string) => LatestRelease | undefined,
  policy: DriftPolicy,
): NodegroupReport {
  const image = ng.image;
  const info = image?.info ?? undefined;
  const eks = info ? eksImageOf(info) : undefined;
  const requests = eks ? latestImageRequests(eks) : {};
  const found = requests.release ? latest(requests.release.parameter) : undefined;
  const foundImage = requests.imageId ? latest(requests.imageId.parameter) : undefined;
  const latestRelease = found?.kind === 'found' ? found : undefined;
  const latestImageId = imageIdOf(foundImage) ?? null;
  const amiType = ng.kind === 'self-managed' ? (eks?.amiType ?? null) : (ng.amiType ?? null);
  const minor = (ng.version ? kubernetesMinor(ng.version) : undefined) ?? eks?.minor ?? null;
  const support = eks ? supportOf(eks.amiType, policy.now) : { kind: 'supported' as const };
  const notice = support.kind === 'ending' ? ` · ⚠️ ${endingNotice(support.eos, support.days)}` : '';
  const deprecated = info?.deprecatedAt && Date.parse(info.deprecatedAt) <= policy.now.getTime() ? ` · image deprecated since ${day(info.deprecatedAt)}` : '';
  const entry = (status: NodegroupStatus, reason: string): NodegroupReport => ({
    cluster: cluster.name,
    region: cluster.region,
    nodegroup: ng.name,
    amiType,
    kubernetesVersion: ng.version ?? minor,
    controlPlaneVersion: cluster.version ?? null,
    releaseVersion: eks?.release ?? null,
    latestReleaseVersion: latestRelease?.releaseVersion ?? null,
    latestReleasePublishedAt: latestRelease?.publishedAt?.toISOString() ?? null,
    latestReleaseParameter: requests.release?.parameter ?? null,
    releaseNotesUrl: latestRelease && eks ? (releaseNotesUrl(eks.amiType, latestRelease.releaseVersion) ?? null) : null,
    nodes: ng.desiredSize ?? null,
    ...imageFields(ng),
    latestImageId,
    status,
    reason: `${reason}${status === 'error' || status === 'custom' ? '' : `${deprecated}${notice}`}`,
  });
  const what = ng.kind === 'self-managed' ? 'self-managed group' : 'launch template';

  if (ng.error) return entry('error', ng.error);
  if (image?.error) return entry('error', image.error);
  // A minor behind the control plane is reported whatever the image: a managed node group's own
  // version, else (self-managed) the image's.
  const controlPlaneMinor = cluster.version ? kubernetesMinor(cluster.version) : undefined;
  if (minor && controlPlaneMinor && compareMinors(minor, controlPlaneMinor) < 0) {
    return entry('behind-control-plane', `Kubernetes ${minor} lags the control plane's ${controlPlaneMinor}: move the ${what} to an image of ${controlPlaneMinor}`);
  }
  if (!image) return entry('custom', `the ${what}'s image was not read`);
  if (!image.imageId) return entry('custom', ng.launchTemplate || ng.kind === 'self-managed' ? `the ${what} names no image` : 'no launch template to read its image from');
  if (!info) return entry('custom', `image ${image.imageId} is not visible to this account (deregistered, or not shared with it): not compared`);
  if (!eks) {
    const whose = info.ownerAlias === 'amazon' ? 'an image of AWS\'s catalogue that is not an EKS-optimized AMI' : `a private image (owner ${info.ownerId ?? 'unknown'})`;
    return entry('custom', `${info.name ?? image.imageId} is ${whose}, ${imageAge(info, policy.now)}: not compared with a published release`);
  }
  if (support.kind === 'ended') return entry('unsupported', endedReason(support.eos));

  const source = releaseSource(eks.amiType, eks.minor);
  if (source.kind === 'unsupported' || source.kind === 'unknown') return entry(source.kind, source.reason);
  const parameter = requests.release?.parameter ?? '(none)';
  if (!found) return entry('error', `the latest release in ${parameter} was not read`);
  if (found.kind === 'error') return entry('error', `reading ${parameter}: ${found.message}`);
  if (found.kind !== 'found') return entry('unknown', `SSM parameter ${parameter} does not exist: no published ${eks.amiType} image for Kubernetes ${eks.minor}`);
  if (foundImage?.kind === 'error') return entry('error', `reading ${requests.imageId!.parameter}: ${foundImage.message}`);
  if (!latestImageId) return entry('unknown', `SSM parameter ${requests.imageId?.parameter ?? parameter} names no image id for ${eks.amiType} ${eks.minor}`);

  if (latestImageId === image.imageId) return entry('up-to-date', `on the latest image (${found.releaseVersion})`);
  const order = compareImageRelease(eks, found.releaseVersion);
  if (order === undefined) return entry('unknown', `image release ${eks.release} and latest ${found.releaseVersion} cannot be ordered`);
  if (order >= 0) return entry('up-to-date', order === 0 ? `release ${found.releaseVersion}, as an image other than AWS's ${latestImageId} in this region` : `ahead of the published recommendation ${found.releaseVersion}`);
  const age = found.publishedAt ? policy.now.getTime() - found.publishedAt.getTime() : undefined;
  if (age !== undefined && age < policy.minReleaseAgeMs) {
    return entry('soaking', `${found.releaseVersion} (${latestImageId}) was published ${formatDuration(Math.max(0, age))} ago, under min-release-age ${formatDuration(policy.minReleaseAgeMs)}: drift in ${formatDuration(policy.minReleaseAgeMs - Math.max(0, age))}`);
  }
  return entry('drift', `${eks.release} (${image.imageId}) → ${found.releaseVersion} (${latestImageId})${age !== undefined ? ` (published ${formatDuration(age)} ago)` : ''}`);
}
