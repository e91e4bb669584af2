import semver from 'semver';

/**
 * A managed node group release version, `X.Y.Z-SUFFIX`:
 * - Amazon Linux: `1.31.2-20241121` (suffix is a build date)
 * - Bottlerocket: `1.19.2-29cc92cc` (suffix is a commit, it does not order)
 * - Windows: `1.31-2024.11.12` or `1.31-2024-11-12` (UNVERIFIED exact form, so parsed loosely)
 */
export interface Release {
  readonly raw: string;
  readonly version: semver.SemVer;
  /** The build date as YYYYMMDD, when the suffix is a date. */
  readonly date?: number;
  readonly suffix: string;
}

const RELEASE = /^v?(\d+)\.(\d+)(?:\.(\d+))?-([0-9A-Za-z][0-9A-Za-z.\-_]*)$/;
const DATE = /^(\d{4})[.-]?(\d{2})[.-]?(\d{2})$/;

/**
 * What a release's suffix is, by the node group's AMI type, never by the suffix's shape: a build date
 * for Amazon Linux and Windows, a commit for Bottlerocket (whose commits can be all digits,
 * `1.4.0-42360701`, which would read as a date), unknown for anything else.
 */
export function suffixKind(amiType: string | null | undefined): 'date' | 'commit' | 'unknown' {
  if (!amiType) return 'unknown';
  if (amiType.startsWith('BOTTLEROCKET')) return 'commit';
  if (amiType.startsWith('AL2') || amiType.startsWith('WINDOWS')) return 'date';
  return 'unknown';
}

/** Parses a release of a node group of `amiType`; only a `date` suffix kind is read as a date. */
export function parseRelease(raw: string, amiType: string | null | undefined): Release | undefined {
  const m = RELEASE.exec(raw.trim());
  if (!m) return undefined;
  const version = semver.parse(`${m[1]}.${m[2]}.${m[3] ?? '0'}`);
  if (!version) return undefined;
  const suffix = m[4] as string;
  const d = suffixKind(amiType) === 'date' ? DATE.exec(suffix) : null;
  const date = d ? Number(`${d[1]}${d[2]}${d[3]}`) : undefined;
  return { raw: raw.trim(), version, suffix, ...(date !== undefined ? { date } : {}) };
}

/**
 * Orders two releases: semantic version first, then the build date. Never the whole string as text
 * (`1.31.14-…` must sort after `1.31.2-…`). Returns `undefined` when the two cannot be ordered: same
 * version, different suffixes that are not both dates (two Bottlerocket commits of one OS version).
 */
export function compareReleases(a: Release, b: Release): -1 | 0 | 1 | undefined {
  const byVersion = semver.compare(a.version, b.version);
  if (byVersion !== 0) return byVersion;
  if (a.suffix === b.suffix) return 0;
  if (a.date !== undefined && b.date !== undefined) {
    return a.date === b.date ? 0 : a.date < b.date ? -1 : 1;
  }
  return undefined;
}

/** `1.31` from `1.31`, `1.31.2` or a release `1.31.2-20241121`. */
export function kubernetesMinor(version: string): string | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(version.trim());
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/** Compares two Kubernetes minors (`1.9` < `1.10`). */
export function compareMinors(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}
