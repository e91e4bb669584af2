import type { UpstreamRelease } from '../model/release-notes.js';
import { parseAmazonLinuxBody, parseBottlerocketBody, type ParsedRelease } from './release-body.js';

/*
 * Which upstream releases lie between a node group's (or node class's) current and target release
 * (issue 26). GitHub documents no order for "List releases" (docs.github.com, REST API endpoints for
 * releases: "List releases" names none, unlike "Get the latest release", which sorts by created_at; a
 * release created later for an older tag lists out of order, Somsubhra/github-release-stats#41), so
 * releases are ordered by their tags here, never by the API's order.
 */

/** At most this many releases are listed for one node group; the older rest are counted, with a link. */
export const MAX_RELEASES = 20;

export type UpstreamFamily = 'amazon-linux' | 'bottlerocket';

/** Where a node group's release notes come from, and its current and target releases as tags. */
export type Upstream =
  { family: UpstreamFamily; owner: string; repo: string; currentTag: string; targetTag: string; columns: string[] } | { family: 'windows'; url: string };

const EKS_AMI = { owner: 'awslabs', repo: 'amazon-eks-ami' };
const BOTTLEROCKET = { owner: 'bottlerocket-os', repo: 'bottlerocket' };
/** Windows' release notes are AWS's documentation page, not a GitHub release (../decision/ami-types.ts releaseNotesUrl). */
export const WINDOWS_NOTES_URL = 'https://docs.aws.amazon.com/eks/latest/userguide/eks-ami-versions-windows.html';

/** An Amazon Linux release (`1.33.5-20260505`, or a node class's `v20260505`) as its tag `v20260505`. */
const amazonLinuxTag = (release: string) => {
  const date = /(?:^v|-)(\d{8})$/.exec(release)?.[1];
  return date ? `v${date}` : undefined;
};
/** A Bottlerocket release (`1.34.0-18d04e52`, or a node class's `v1.34.0`) as its tag `v1.34.0`. */
const bottlerocketTag = (release: string) => {
  const version = /^v?(\d+\.\d+\.\d+)(?:-[0-9a-f]+)?$/.exec(release)?.[1];
  return version ? `v${version}` : undefined;
};

/** A node class's family's AMI types whose package columns describe it (both architectures). */
const FAMILY_COLUMNS: Record<string, string[]> = {
  al2023: ['AL2023_x86_64_STANDARD', 'AL2023_ARM_64_STANDARD'],
  al2: ['AL2_x86_64', 'AL2_ARM_64'],
};

/**
 * Where the notes between two releases of an AMI type (a managed node group's `AL2023_x86_64_STANDARD`,
 * or a node class's family `al2023`) are; undefined when there are none to show (a custom AMI, a
 * release that is not a version).
 */
export function upstreamFor(amiType: string, current: string, target: string): Upstream | undefined {
  if (amiType.startsWith('WINDOWS')) return { family: 'windows', url: WINDOWS_NOTES_URL };
  const linux = amiType.startsWith('AL2') || amiType in FAMILY_COLUMNS;
  const bottlerocket = amiType.toUpperCase().startsWith('BOTTLEROCKET');
  const tag = linux ? amazonLinuxTag : bottlerocket ? bottlerocketTag : undefined;
  const [currentTag, targetTag] = [tag?.(current), tag?.(target)];
  if (!currentTag || !targetTag) return undefined;
  if (linux) return { family: 'amazon-linux', ...EKS_AMI, currentTag, targetTag, columns: FAMILY_COLUMNS[amiType] ?? [amiType] };
  return { family: 'bottlerocket', ...BOTTLEROCKET, currentTag, targetTag, columns: [] };
}

/** A tag's place in its project's order, or undefined for a tag that is not one of its releases. */
export function tagOrder(family: UpstreamFamily, tag: string): number[] | undefined {
  const m = family === 'amazon-linux' ? /^v(\d{8})$/.exec(tag) : /^v(\d+)\.(\d+)\.(\d+)$/.exec(tag);
  return m ? m.slice(1).map(Number) : undefined;
}

function compareOrder(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/**
 * The published releases strictly after `currentTag` and up to and including `targetTag`, oldest
 * first, whatever order they were listed in; drafts, pre-releases and tags of another shape are not
 * releases of the AMI.
 */
export function releasesBetween(family: UpstreamFamily, releases: readonly UpstreamRelease[], currentTag: string, targetTag: string): UpstreamRelease[] {
  const from = tagOrder(family, currentTag);
  const to = tagOrder(family, targetTag);
  if (!from || !to) return [];
  const seen = new Set<string>();
  return releases
    .filter((r) => !r.draft && !r.prerelease)
    .map((r) => ({ r, order: tagOrder(family, r.tag) }))
    .filter((x): x is { r: UpstreamRelease; order: number[] } => !!x.order && compareOrder(x.order, from) > 0 && compareOrder(x.order, to) <= 0)
    .filter((x) => !seen.has(x.r.tag) && !!seen.add(x.r.tag))
    .sort((a, b) => compareOrder(a.order, b.order))
    .map((x) => x.r);
}

/** One release's body read for a node group: its kind's parser. */
export function parseRelease(family: UpstreamFamily, body: string, tag: string, minor: string | null, columns: readonly string[]): ParsedRelease {
  if (family === 'bottlerocket') return parseBottlerocketBody(body, tag);
  if (!minor) return { ...parseAmazonLinuxBody(body, '', columns), components: [], missing: 'the Kubernetes version is not known' };
  return parseAmazonLinuxBody(body, minor, columns);
}

/** A release's page on github.com (the upstream projects live there, whatever GitHub the run uses). */
export const releaseUrl = (owner: string, repo: string, tag: string) => `https://github.com/${owner}/${repo}/releases/tag/${tag}`;
export const releasesPageUrl = (owner: string, repo: string) => `https://github.com/${owner}/${repo}/releases`;
