import type { LatestRelease } from '../model/fleet.js';
import { proposedRelease, type NodegroupReport } from '../model/check-report.js';
import type { PlanItem } from '../model/plan.js';
import { kubernetesMinor } from './release.js';

/*
 * The target where it is used. An AMI is copied region by region and a release has been missing from
 * some regions while others had it (awslabs/amazon-eks-ami#2673: v20260403 was absent from us-east-1
 * and us-west-1 for days). Before a release is proposed or rolled, its own image parameter is read in
 * the node group's region; where it does not exist the node group waits, with the reason, and nothing
 * is pinned or changed there. Pure: the reads are the caller's.
 */

/** The parameter that holds a release's own image, by node kind (../kinds: targetImageParameter). */
export type ImageParameterOf = (nodeKind: NonNullable<NodegroupReport['nodeKind']>, amiType: string, minor: string, release: string) => string | undefined;

/** One read: the release's image parameter in one region. */
export interface RegionalRead {
  region: string;
  parameter: string;
}

/** The parameter a check entry's proposed release is confirmed by, when it is one to propose. */
function entryParameter(e: NodegroupReport, parameterOf: ImageParameterOf): RegionalRead | undefined {
  const release = proposedRelease(e);
  const minor = e.kubernetesVersion ? kubernetesMinor(e.kubernetesVersion) : undefined;
  if (e.status !== 'drift' || !e.nodeKind || !e.amiType || !release || !minor) return undefined;
  const parameter = parameterOf(e.nodeKind, e.amiType, minor, release);
  return parameter ? { region: e.region, parameter } : undefined;
}

/**
 * A plan item's target, when it is an update to a pinned or latest release: the parameter that confirms
 * it in the item's region. A `release-version` typed for this run is left to EKS, whose refusal of a
 * release it does not offer is explained as it was (../effects/managed-update.ts).
 */
function itemParameter(i: PlanItem, parameterOf: ImageParameterOf): RegionalRead | undefined {
  if (i.action !== 'update' || !i.target || i.target.imageId || !i.amiType || i.source === 'release-version') return undefined;
  const parameter = parameterOf(i.nodeKind, i.amiType, i.target.version, i.target.releaseVersion);
  return parameter ? { region: i.region, parameter } : undefined;
}

/** What to read, by region (each region's names once): for the check's drift, or the plan's updates. */
export function regionalReads(items: readonly NodegroupReport[] | readonly PlanItem[], parameterOf: ImageParameterOf): Map<string, string[]> {
  const byRegion = new Map<string, Set<string>>();
  for (const x of items) {
    const read = 'action' in x ? itemParameter(x, parameterOf) : entryParameter(x, parameterOf);
    if (read) byRegion.set(read.region, (byRegion.get(read.region) ?? new Set()).add(read.parameter));
  }
  return new Map([...byRegion].map(([region, names]) => [region, [...names].sort()]));
}

/** Why a release waits in a region: in the check (nothing pinned), or in the upgrade (nothing changed; a pin may be wrong). */
function missingReason(release: string, region: string, parameter: string, upgrade = false): string {
  return (
    `${release} has no image in ${region} yet (SSM parameter ${parameter} does not exist there): ` +
    `AWS copies each release region by region, and it waits until the image is published in ${region}; ` +
    (upgrade ? 'nothing is changed for it meanwhile (a release that does not exist at all never will be: check the pin)' : 'nothing is pinned for it meanwhile')
  );
}

/**
 * The check's entries with each drifted release confirmed in its region: one whose image is missing
 * there `waiting`, one whose image parameter could not be read `error` (a pin must never name an image
 * that may not exist).
 */
export function holdMissingInRegion(
  entries: readonly NodegroupReport[],
  found: (region: string, parameter: string) => LatestRelease | undefined,
  parameterOf: ImageParameterOf,
): NodegroupReport[] {
  return entries.map((e) => {
    const read = entryParameter(e, parameterOf);
    if (!read) return e;
    const release = proposedRelease(e) as string;
    const answer = found(read.region, read.parameter);
    if (answer?.kind === 'missing') return { ...e, status: 'waiting', reason: missingReason(release, read.region, read.parameter) };
    if (!answer || answer.kind === 'error') {
      return {
        ...e,
        status: 'error',
        reason: `could not confirm that ${release} has an image in ${read.region} (${read.parameter}): ${answer?.message ?? 'not read'}`,
      };
    }
    return e;
  });
}

/**
 * The plan with each update to a release confirmed in its region: missing there, the node group is
 * skipped (it waits, and the others go on); unreadable, the cluster is blocked (nothing changes there
 * until it can be read).
 */
export function holdPlanMissingInRegion(
  plan: readonly PlanItem[],
  found: (region: string, parameter: string) => LatestRelease | undefined,
  parameterOf: ImageParameterOf,
): PlanItem[] {
  return plan.map((i) => {
    const read = itemParameter(i, parameterOf);
    if (!read) return i;
    const release = i.target!.releaseVersion;
    const answer = found(read.region, read.parameter);
    if (answer?.kind === 'missing') return { ...i, action: 'skip', reason: missingReason(release, read.region, read.parameter, true) };
    if (!answer || answer.kind === 'error') {
      return {
        ...i,
        action: 'block',
        reason: `could not confirm that ${release} has an image in ${read.region} (${read.parameter}): ${answer?.message ?? 'not read'}`,
      };
    }
    return i;
  });
}
