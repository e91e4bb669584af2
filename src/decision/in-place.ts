import semver from 'semver';
import type { NodeOsRead } from '../model/fleet.js';
import type { InPlaceReport, NodegroupReport } from '../model/check-report.js';
import { parseRelease } from './release.js';

/*
 * Bottlerocket nodes updated in place. Bottlerocket updates as a whole image: it writes the new release
 * to its second partition set and reboots into it, so a node launched from an older AMI runs a newer OS
 * than its node group's release (bottlerocket-os/bottlerocket-update-operator #538, #705, #775: teams run
 * the update operator, brupop, and EKS's node group release stays where it was). The kubelet reports
 * /etc/os-release's PRETTY_NAME as the node's `status.nodeInfo.osImage` (Kubernetes API reference,
 * NodeSystemInfo: "OS Image reported by the node from /etc/os-release"), and Bottlerocket's is
 * `Bottlerocket OS <VERSION_ID> (<VARIANT_ID>)`, e.g. `Bottlerocket OS 1.12.0 (aws-k8s-1.25)`
 * (bottlerocket-os/bottlerocket QUICKSTART-EKS.md); releases before 1.x variants showed no variant
 * (`Bottlerocket OS 1.0.7`), so the variant is optional here. The OS version is the managed node group
 * release's version (`1.56.0-<commit>`, ../shared/reference/eks.md; /work/shared/data/README.md).
 *
 * Only Bottlerocket: Amazon Linux 2 reports `Amazon Linux 2` (no release at all), and AL2023's
 * `Amazon Linux 2023.x.YYYYMMDD` is the OS release, not the EKS AMI release (kubelet, containerd and the
 * AMI's build date): a `dnf upgrade` on a node changes neither its AMI nor what EKS's release names, so
 * there is no in-place update to recognise. In place never crosses a Kubernetes minor: a variant is one
 * minor (brupop #465), so `behind-control-plane` stays what it is.
 */

const BOTTLEROCKET_OS = /^Bottlerocket OS (\d+\.\d+\.\d+)(?: \(([^)]+)\))?$/;

/** Whether node groups of this AMI type are updated in place (Bottlerocket), so their nodes are worth a look. */
export function updatesInPlace(amiType: string | null | undefined): boolean {
  return !!amiType && amiType.startsWith('BOTTLEROCKET');
}

/** The Bottlerocket OS version an osImage names (`1.56.0`), or undefined when it is not Bottlerocket's form. */
export function bottlerocketVersionOf(osImage: string): string | undefined {
  return BOTTLEROCKET_OS.exec(osImage.trim())?.[1];
}

/** What the nodes tell of in-place updates, and what that means for the node group's status. */
export interface InPlaceVerdict {
  report: InPlaceReport;
  /** Every node runs the latest release (or newer) in place: not drift. */
  allAtLatest: boolean;
  /** A note for the reason: which nodes were updated in place, and to what. */
  note: string;
}

/**
 * Compares each node's OS with the node group's release (`groupRelease`, `1.56.0-abcd1234` or an image's
 * `1.56.0-abcd1234`) and the latest release. Undefined when there is nothing to say: not Bottlerocket,
 * the nodes were not looked at, or no node was updated in place.
 */
export function inPlaceVerdict(
  amiType: string | null | undefined,
  groupRelease: string | null | undefined,
  latest: string,
  nodeOs: NodeOsRead | undefined,
): InPlaceVerdict | undefined {
  if (!updatesInPlace(amiType) || !nodeOs || 'unread' in nodeOs || !groupRelease) return undefined;
  const group = parseRelease(groupRelease, amiType)?.version;
  const target = parseRelease(latest, amiType)?.version;
  if (!group || !target) return undefined;
  const versions = nodeOs.nodes.map((n) => bottlerocketVersionOf(n.osImage));
  const known = versions.filter((v): v is string => v !== undefined);
  const updated = known.filter((v) => semver.gt(v, group));
  if (updated.length === 0) return undefined;
  const distinct = [...new Set(known)].sort(semver.rcompare);
  const newest = distinct[0] as string;
  const report: InPlaceReport = { nodes: nodeOs.nodes.length, updatedInPlace: updated.length, osVersions: distinct, newest };
  const allAtLatest = known.length === nodeOs.nodes.length && known.length > 0 && known.every((v) => semver.gte(v, target));
  const unread = nodeOs.nodes.length - known.length;
  const what = `${updated.length} of ${nodeOs.nodes.length} node(s) updated in place to Bottlerocket ${[...new Set(updated)].sort(semver.rcompare).join(', ')}`;
  const note = `${what}${unread > 0 ? ` (${unread} with an OS image that is not Bottlerocket's form)` : ''}`;
  return { report, allAtLatest, note };
}

/** The reason of a node group whose nodes all run the latest release in place: not drift, and what its own lagging release means. */
export function inPlaceReason(verdict: InPlaceVerdict, groupRelease: string, latest: string): string {
  const all = verdict.report.updatedInPlace === verdict.report.nodes ? `all ${verdict.report.nodes} node(s)` : `every node`;
  return (
    `🔄 updated in place: ${all} run Bottlerocket ${verdict.report.osVersions.join(', ')} (latest release ${latest}); ` +
    `the node group's own release ${groupRelease} lags: a node it launches (scale-up, replacement, repair) starts on ${groupRelease} ` +
    `until it is updated in place too`
  );
}

/** What a reason adds for nodes updated in place: which, and whether the latest release is older than what they run. */
export function inPlaceNote(verdict: InPlaceVerdict | undefined, amiType: string | null | undefined, latest: string): string {
  if (!verdict) return '';
  const older = pinOlderThanRunning({ amiType: amiType ?? null, inPlace: verdict.report, latestReleaseVersion: latest });
  return ` · 🔄 ${verdict.note}${older ? `; ${older}` : ''}`;
}

/**
 * The release a proposal would pin when it is older than what the node group's nodes run in place
 * (a rolling update to it would take them back): the reason not to propose it, or null.
 */
export function pinOlderThanRunning(
  e: Pick<NodegroupReport, 'amiType' | 'inPlace' | 'latestReleaseVersion'> & Partial<Pick<NodegroupReport, 'targetReleaseVersion'>>,
): string | null {
  const newest = e.inPlace?.newest;
  const pin = e.targetReleaseVersion ?? e.latestReleaseVersion;
  if (!newest || !pin) return null;
  const version = parseRelease(pin, e.amiType)?.version;
  if (!version || !semver.valid(newest) || !semver.lt(version, newest)) return null;
  return (
    `${pin} is older than Bottlerocket ${newest}, which its nodes run after an in-place update: ` + 'not proposed (a rolling update to it would take them back)'
  );
}
