import { parseRelease } from './release.js';
import { WARN_DAYS } from './support.js';
import type { VersionSupport } from '../model/fleet.js';

/*
 * The calendar: when what runs stops being available or supported.
 *
 * Windows: AWS makes released Windows AMIs private and announces each time on the SNS topic
 * `ec2-windows-ami-private` (EC2 Windows AMI reference, "Subscribe to AWS Windows AMI notifications":
 * "Whenever released AWS Windows AMIs are made private, we send notifications"), but no AWS page we
 * could find states the schedule; it is reported as about four months after release. UNVERIFIED:
 * the window is this documented constant, counted from the release date in the release version
 * (`1.33-2026.07.15`); a release older than it is reported `unsupported` with the date, one within
 * WINDOWS_WARN_DAYS of it warned.
 *
 * Kubernetes versions: DescribeClusterVersions gives each version's endOfStandardSupportDate and
 * endOfExtendedSupportDate (EKS API reference, ClusterVersionInformation). "A minor version is under
 * standard support in Amazon EKS for the first 14 months after it's released ... extended support for
 * the next 12 months ... If you haven't updated your cluster before the extended support period ends,
 * your cluster is auto-upgraded" (EKS user guide, Kubernetes version lifecycle).
 */

/** Days after its release that a Windows AMI is made private (UNVERIFIED: reported, not stated by AWS). */
export const WINDOWS_PRIVATE_AFTER_DAYS = 120;
/** How far ahead a Windows AMI going private is warned. */
export const WINDOWS_WARN_DAYS = 30;
const DAY = 86_400_000;

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** When a Windows release's AMI goes private, YYYY-MM-DD, or undefined (not Windows, or no date in the release). */
export function windowsPrivateOn(amiType: string | undefined | null, release: string | undefined | null): string | undefined {
  if (!amiType?.startsWith('WINDOWS') || !release) return undefined;
  const date = parseRelease(release, amiType)?.date;
  if (!date) return undefined;
  const released = Date.UTC(Math.floor(date / 10000), (Math.floor(date / 100) % 100) - 1, date % 100);
  return day(released + WINDOWS_PRIVATE_AFTER_DAYS * DAY);
}

export type WindowsCalendar = { kind: 'private'; on: string } | { kind: 'soon'; on: string; days: number };

/** Whether a Windows release's AMI has gone private, or goes private within WINDOWS_WARN_DAYS. */
export function windowsCalendar(amiType: string | undefined | null, release: string | undefined | null, now: Date): WindowsCalendar | undefined {
  const on = windowsPrivateOn(amiType, release);
  if (!on) return undefined;
  const left = Date.parse(`${on}T00:00:00Z`) - now.getTime();
  if (left <= 0) return { kind: 'private', on };
  return left <= WINDOWS_WARN_DAYS * DAY ? { kind: 'soon', on, days: Math.ceil(left / DAY) } : undefined;
}

const SCHEDULE = `about ${WINDOWS_PRIVATE_AFTER_DAYS} days after release (AWS makes released Windows AMIs private; the schedule is UNVERIFIED)`;

/** The reason for a Windows node group whose release has gone private. */
export function windowsPrivateReason(release: string, on: string, latest: string | undefined): string {
  return (
    `its Windows AMI release ${release} went private on ${on}, ${SCHEDULE}: new nodes cannot be launched from it` + (latest ? `; upgrade to ${latest}` : '')
  );
}

/** The warning for a Windows release that goes private soon. */
export function windowsNotice(release: string, on: string, days: number): string {
  return `its Windows AMI release ${release} goes private on ${on}, in ${days} day(s), ${SCHEDULE}`;
}

/**
 * What to say of a cluster's Kubernetes version: its next end of support when it is within WARN_DAYS
 * (standard first, then extended), or that extended support has ended. Null: nothing near.
 */
export function clusterSupportNotice(version: string, support: VersionSupport | undefined, now: Date, supportType?: string): string | null {
  if (!support) return null;
  const left = (d: string) => Date.parse(`${d}T00:00:00Z`) - now.getTime();
  const { endOfStandardSupport: standard, endOfExtendedSupport: extended } = support;
  if (extended && left(extended) <= 0) {
    return `Kubernetes ${version} is past the end of extended support (${extended}): EKS auto-upgrades the control plane; upgrade it first`;
  }
  if (standard && left(standard) > 0) {
    return left(standard) <= WARN_DAYS * DAY
      ? `Kubernetes ${version} reaches the end of standard support on ${standard}, in ${Math.ceil(left(standard) / DAY)} day(s): ` +
          // UpgradePolicyResponse.supportType (EKS API reference): "If the cluster is set to STANDARD, it will be automatically
          // upgraded at the end of standard support"; EXTENDED (the default) enters extended support.
          (supportType === 'STANDARD'
            ? 'its upgrade policy is STANDARD, so EKS then upgrades the control plane automatically'
            : `extended support then costs more per cluster hour${extended ? `, until ${extended}` : ''}`)
      : null;
  }
  if (extended && left(extended) <= WARN_DAYS * DAY) {
    return `Kubernetes ${version} reaches the end of extended support on ${extended}, in ${Math.ceil(left(extended) / DAY)} day(s): EKS then auto-upgrades it`;
  }
  return null;
}
