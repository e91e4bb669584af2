import type { ClusterState, ImageInfo, LatestRelease, NodegroupState, ParameterRequest } from '../model/fleet.js';
import { imageIdOf } from '../model/fleet.js';
import type { NodegroupDecision, NodegroupStatus } from '../model/check-report.js';
import { releaseNotesUrl, releaseSource } from './ami-types.js';
import { compareMinors, kubernetesMinor } from './release.js';
import { formatDuration } from './duration.js';
import { compareImageRelease, eksImageOf, latestImageRequests } from './eks-images.js';
import { endedReason, endingNotice, supportOf } from './support.js';
import { imageFields, type DriftPolicy } from './drift.js';
import { inPlaceNote, inPlaceReason, inPlaceVerdict, type InPlaceVerdict } from './in-place.js';

/**
 * The SSM parameters a node group whose AMI is named by id is compared with: when the image is an
 * EKS-optimized AMI of AWS's, that image family's latest release and image id; else none.
 */
export function imageRequests(ng: NodegroupState): ParameterRequest[] {
  if (ng.error) return [];
  const eks = ng.image?.info ? eksImageOf(ng.image.info) : undefined;
  if (!eks) return [];
  const { release, imageId } = latestImageRequests(eks);
  return [release, imageId].filter((r) => r !== undefined);
}

const day = (iso: string) => iso.slice(0, 10);

/** How old an image is and whether it is deprecated, for a reason: "created 2026-01-02 (10 days ago), deprecated since …". */
function imageAge(info: ImageInfo, now: Date): string {
  const parts: string[] = [];
  if (info.createdAt) parts.push(`created ${day(info.createdAt)} (${formatDuration(Math.max(0, now.getTime() - Date.parse(info.createdAt)))} ago)`);
  if (info.deprecatedAt)
    parts.push(Date.parse(info.deprecatedAt) <= now.getTime() ? `deprecated since ${day(info.deprecatedAt)}` : `deprecated from ${day(info.deprecatedAt)}`);
  return parts.join(', ');
}

/**
 * A node group whose AMI is named by id (CUSTOM launch template, self-managed group): an EKS-optimized
 * AMI of AWS's is compared with the image AWS recommends now for its family and Kubernetes minor, with
 * the same statuses as a release; any other image is `custom`, with its age and deprecation.
 */
export function classifyByImage(
  cluster: ClusterState,
  ng: NodegroupState,
  latest: (parameter: string) => LatestRelease | undefined,
  policy: DriftPolicy,
  /**
   * How its kind names it: `what` names the image (`launch template`, `self-managed group`); with
   * `amiTypeFromImage`, the AMI type is the image's (a self-managed group has none of its own) and a
   * group that names no image says so, whatever it is made from.
   */
  style: { what: string; amiTypeFromImage: boolean },
): NodegroupDecision {
  const { what } = style;
  const image = ng.image;
  const info = image?.info ?? undefined;
  const eks = info ? eksImageOf(info) : undefined;
  const requests = eks ? latestImageRequests(eks) : {};
  const found = requests.release ? latest(requests.release.parameter) : undefined;
  const foundImage = requests.imageId ? latest(requests.imageId.parameter) : undefined;
  const latestRelease = found?.kind === 'found' ? found : undefined;
  const latestImageId = imageIdOf(foundImage) ?? null;
  const amiType = style.amiTypeFromImage ? (eks?.amiType ?? null) : (ng.amiType ?? null);
  const groupMinor = ng.version ? kubernetesMinor(ng.version) : undefined;
  const minor = groupMinor ?? eks?.minor ?? null;
  const support = eks ? supportOf(eks.amiType, policy.now) : { kind: 'supported' as const };
  const notice = support.kind === 'ending' ? ` · ⚠️ ${endingNotice(support.eos, support.days)}` : '';
  const deprecated = info?.deprecatedAt && Date.parse(info.deprecatedAt) <= policy.now.getTime() ? ` · image deprecated since ${day(info.deprecatedAt)}` : '';
  const disabled = info?.state === 'disabled' ? ` · ⚠️ image ${info.imageId} is disabled: no instance can launch from it` : '';
  // resolve:ssm: is resolved when an instance launches (EC2 user guide, "Use a Systems Manager parameter instead of an AMI ID").
  const alias = image?.alias
    ? ` · the template names resolve:ssm:${image.alias} (${image.imageId ?? 'unresolved'} now); an instance runs what it named at launch`
    : '';
  // Set once the image's release is compared: nodes updated in place (Bottlerocket), as the check saw them.
  const seen: { inPlace?: InPlaceVerdict } = {};
  const entry = (status: NodegroupStatus, reason: string): NodegroupDecision => ({
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
    inPlace: seen.inPlace?.report ?? null,
    status,
    reason: `${reason}${status === 'error' ? '' : `${status === 'custom' ? '' : `${deprecated}${notice}`}${disabled}${alias}`}`,
  });

  if (ng.error) return entry('error', ng.error);
  if (image?.error) return entry('error', image.error);
  // A minor behind the control plane is reported whatever the image: the image's minor (what the
  // nodes run: a CUSTOM node group's own version need not follow its image, UNVERIFIED what EKS reports
  // for it, so both are compared), else the node group's own version.
  const controlPlaneMinor = cluster.version ? kubernetesMinor(cluster.version) : undefined;
  const behind = controlPlaneMinor ? [eks?.minor, groupMinor].find((m) => m && compareMinors(m, controlPlaneMinor) < 0) : undefined;
  if (behind && controlPlaneMinor) {
    const whose =
      behind === eks?.minor
        ? `the image's Kubernetes ${behind}${groupMinor && groupMinor !== behind ? ` (the node group says ${groupMinor})` : ''}`
        : `Kubernetes ${behind}`;
    return entry('behind-control-plane', `${whose} lags the control plane's ${controlPlaneMinor}: move the ${what} to an image of ${controlPlaneMinor}`);
  }
  if (!image) return entry('custom', `the ${what}'s image was not read`);
  if (!image.imageId)
    return entry('custom', ng.launchTemplate || style.amiTypeFromImage ? `the ${what} names no image` : 'no launch template to read its image from');
  if (!info) return entry('custom', `image ${image.imageId} is not visible to this account (deregistered, or not shared with it): not compared`);
  if (!eks) {
    const whose =
      info.ownerAlias === 'amazon' ? "an image of AWS's catalogue that is not an EKS-optimized AMI" : `a private image (owner ${info.ownerId ?? 'unknown'})`;
    return entry('custom', `${info.name ?? image.imageId} is ${whose}, ${imageAge(info, policy.now)}: not compared with a published release`);
  }
  if (support.kind === 'ended') return entry('unsupported', endedReason(support.eos));

  const source = releaseSource(eks.amiType, eks.minor);
  if (source.kind === 'unsupported' || source.kind === 'unknown') return entry(source.kind, source.reason);
  const parameter = requests.release?.parameter ?? '(none)';
  if (!found) return entry('error', `the latest release in ${parameter} was not read`);
  if (found.kind === 'error') return entry('error', `reading ${parameter}: ${found.message}`);
  if (found.kind !== 'found')
    return entry('unknown', `SSM parameter ${parameter} does not exist: no published ${eks.amiType} image for Kubernetes ${eks.minor}`);
  if (foundImage?.kind === 'error') return entry('error', `reading ${requests.imageId!.parameter}: ${foundImage.message}`);
  if (!latestImageId) return entry('unknown', `SSM parameter ${requests.imageId?.parameter ?? parameter} names no image id for ${eks.amiType} ${eks.minor}`);

  const inPlace = ng.kind === 'self-managed' ? undefined : inPlaceVerdict(eks.amiType, eks.release, found.releaseVersion, ng.nodeOs);
  seen.inPlace = inPlace;
  const also = inPlaceNote(inPlace, eks.amiType, found.releaseVersion);
  if (latestImageId === image.imageId) return entry('up-to-date', `on the latest image (${found.releaseVersion})${also}`);
  const order = compareImageRelease(eks, found.releaseVersion);
  if (order === undefined) return entry('unknown', `image release ${eks.release} and latest ${found.releaseVersion} cannot be ordered`);
  if (order >= 0)
    return entry(
      'up-to-date',
      (order === 0
        ? `release ${found.releaseVersion}, as an image other than AWS's ${latestImageId} in this region`
        : `ahead of the published recommendation ${found.releaseVersion}`) + also,
    );
  if (inPlace?.allAtLatest) return entry('up-to-date', inPlaceReason(inPlace, `${eks.release} (${image.imageId})`, found.releaseVersion));
  const age = found.publishedAt ? policy.now.getTime() - found.publishedAt.getTime() : undefined;
  if (age !== undefined && age < policy.minReleaseAgeMs) {
    return entry(
      'soaking',
      `${found.releaseVersion} (${latestImageId}) was published ${formatDuration(Math.max(0, age))} ago, ` +
        `under min-release-age ${formatDuration(policy.minReleaseAgeMs)}: drift in ${formatDuration(policy.minReleaseAgeMs - Math.max(0, age))}${also}`,
    );
  }
  return entry(
    'drift',
    `${eks.release} (${image.imageId}) → ${found.releaseVersion} (${latestImageId})` +
      `${age !== undefined ? ` (published ${formatDuration(age)} ago)` : ''}${also}`,
  );
}
