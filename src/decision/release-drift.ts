import type { ClusterState, LatestRelease, NodegroupState, ParameterRequest } from '../model/fleet.js';
import type { NodegroupDecision, NodegroupStatus } from '../model/check-report.js';
import { releaseNotesUrl, releaseSource } from './ami-types.js';
import { compareMinors, compareReleases, kubernetesMinor, parseRelease } from './release.js';
import { formatDuration } from './duration.js';
import { endedReason, endingNotice, supportOf } from './support.js';
import { windowsCalendar, windowsNotice, windowsPrivateReason } from './calendar.js';
import { imageFields, type DriftPolicy } from './drift.js';
import { inPlaceNote, inPlaceReason, inPlaceVerdict, type InPlaceVerdict } from './in-place.js';

/** The SSM parameter a node group picked by release is compared with: its AMI type's latest release at its minor. */
export function releaseRequests(ng: NodegroupState): ParameterRequest[] {
  if (ng.error) return [];
  const minor = ng.version ? kubernetesMinor(ng.version) : undefined;
  if (!minor) return [];
  const source = releaseSource(ng.amiType ?? '', minor);
  return source.kind === 'ssm' ? [{ parameter: source.parameter, format: source.format }] : [];
}

/**
 * Decides the status of a node group whose AMI EKS picks by release. Pure: everything it needs is
 * passed in. Order matters: an error hides everything; a minor behind the control plane is reported
 * whatever the AMI; then what the AMI type allows; then the release comparison and the soak period.
 */
export function classifyByRelease(
  cluster: ClusterState,
  ng: NodegroupState,
  latest: (parameter: string) => LatestRelease | undefined,
  policy: DriftPolicy,
): NodegroupDecision {
  const minor = ng.version ? kubernetesMinor(ng.version) : undefined;
  const source = minor ? releaseSource(ng.amiType ?? '', minor) : undefined;
  const parameter = source?.kind === 'ssm' ? source.parameter : null;
  const found = parameter ? latest(parameter) : undefined;
  const latestRelease = found?.kind === 'found' ? found : undefined;

  const support = supportOf(ng.amiType, policy.now);
  const windows = windowsCalendar(ng.amiType, ng.releaseVersion, policy.now);
  const notice =
    (support.kind === 'ending' ? ` · ⚠️ ${endingNotice(support.eos, support.days)}` : '') +
    (windows?.kind === 'soon' ? ` · ⚠️ ${windowsNotice(ng.releaseVersion!, windows.on, windows.days)}` : '') +
    (windows?.kind === 'private' ? ` · ⛔ ${windowsPrivateReason(ng.releaseVersion!, windows.on, undefined)}` : '');
  // Set once the release is compared: nodes updated in place (Bottlerocket), as the check saw them.
  const seen: { inPlace?: InPlaceVerdict } = {};
  const entry = (status: NodegroupStatus, reason: string): NodegroupDecision => ({
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
    inPlace: seen.inPlace?.report ?? null,
    status,
    reason: `${reason}${status === 'error' ? '' : notice}`,
  });

  if (ng.error) return entry('error', ng.error);
  // A family AWS no longer patches is unsupported whatever its Kubernetes version or release.
  if (support.kind === 'ended') return entry('unsupported', endedReason(support.eos));
  // A Windows release whose AMI went private: nodes can no longer be launched from it.
  // With nothing newer to move to it is unsupported. With a newer release it is compared as any other
  // (drift, so it is proposed, soak and stages applying), its reason saying the AMI went private:
  // `unsupported` would keep it out of every proposal while its nodes can no longer be replaced.
  if (windows?.kind === 'private' && !(latestRelease && isNewer(latestRelease.releaseVersion, ng.releaseVersion!, ng.amiType))) {
    return entry('unsupported', windowsPrivateReason(ng.releaseVersion!, windows.on, undefined));
  }
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
  const inPlace = inPlaceVerdict(ng.amiType, current.raw, target.raw, ng.nodeOs);
  seen.inPlace = inPlace;
  const also = inPlaceNote(inPlace, ng.amiType, target.raw);
  if (order === 0) return entry('up-to-date', `on the latest release${also}`);
  if (order > 0) return entry('up-to-date', `ahead of the published recommendation ${target.raw}${also}`);
  if (inPlace?.allAtLatest) return entry('up-to-date', inPlaceReason(inPlace, current.raw, target.raw));

  const age = found.publishedAt ? policy.now.getTime() - found.publishedAt.getTime() : undefined;
  if (age !== undefined && age < policy.minReleaseAgeMs) {
    return entry(
      'soaking',
      `${target.raw} was published ${formatDuration(Math.max(0, age))} ago, under min-release-age ${formatDuration(policy.minReleaseAgeMs)}: ` +
        `drift in ${formatDuration(policy.minReleaseAgeMs - Math.max(0, age))}${also}`,
    );
  }
  return entry('drift', `${current.raw} → ${target.raw}${age !== undefined ? ` (published ${formatDuration(age)} ago)` : ''}${also}`);
}

function isNewer(candidate: string, current: string, amiType: string | undefined): boolean {
  const a = parseRelease(candidate, amiType);
  const b = parseRelease(current, amiType);
  return !!a && !!b && compareReleases(a, b) === 1;
}
