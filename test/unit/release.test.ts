import { describe, expect, it } from '@jest/globals';
import { compareMinors, compareReleases, kubernetesMinor, parseRelease } from '../../src/decision/release.js';
import { amazonLinuxReleases, bottlerocketReleases } from '../sim/releases.js';

const AL = 'AL2023_x86_64_STANDARD';
const BR = 'BOTTLEROCKET_x86_64';

function cmp(a: string, b: string, amiType = AL) {
  const ra = parseRelease(a, amiType);
  const rb = parseRelease(b, amiType);
  if (!ra || !rb) throw new Error(`unparsable: ${a} or ${b}`);
  return compareReleases(ra, rb);
}

describe('release versions', () => {
  it('orders by semantic version before the date, never as text', () => {
    expect(cmp('1.31.14-20250101', '1.31.2-20251231')).toBe(1);
    expect(cmp('1.31.2-20251231', '1.31.14-20250101')).toBe(-1);
  });

  it('orders the same version by build date, in every date form', () => {
    expect(cmp('1.31.2-20241121', '1.31.2-20241024')).toBe(1);
    expect(cmp('1.31-2024.11.12', '1.31-2024.10.08', 'WINDOWS_CORE_2022_x86_64')).toBe(1);
    expect(cmp('1.31-2024-11-12', '1.31-2024.11.12', 'WINDOWS_CORE_2022_x86_64')).toBe(0);
    expect(cmp('1.30.4-20241024', '1.30.4-20241024')).toBe(0);
  });

  it('orders Bottlerocket by OS version only, and refuses to order two builds of one version', () => {
    expect(cmp('1.34.0-18d04e52', '1.26.0-85f0d68c', BR)).toBe(1);
    expect(cmp('1.19.2-29cc92cc', '1.19.2-29cc92cc', BR)).toBe(0);
    expect(cmp('1.19.2-29cc92cc', '1.19.2-abcdef01', BR)).toBeUndefined();
  });

  it('reads a Bottlerocket suffix as a commit even when it is all digits (about 2% of commits)', () => {
    expect(parseRelease('1.4.0-42360701', BR)).toMatchObject({ suffix: '42360701' });
    expect(parseRelease('1.4.0-42360701', BR)?.date).toBeUndefined();
    expect(cmp('1.4.0-42360701', '1.4.0-20240101', BR)).toBeUndefined();
    expect(cmp('1.5.0-0a1b2c3d', '1.4.0-42360701', BR)).toBe(1);
    // the same text on an Amazon Linux node group is a build date
    expect(parseRelease('1.4.0-20240101', AL)?.date).toBe(20240101);
  });

  it('rejects what is not a release', () => {
    for (const bad of ['', 'latest', '1.31', 'ami-0abc', '1.31.2', '1.31.2-', 'x.y.z-20240101', '1.31.2 -20240101']) {
      expect(parseRelease(bad, AL)).toBeUndefined();
    }
  });

  it('orders every Amazon Linux release in the changelog data as its release tags do', () => {
    const byStream = new Map<string, { tag: string; releaseVersion: string; amiType: string }[]>();
    for (const r of amazonLinuxReleases()) {
      const key = `${r.amiType} ${r.minor}`;
      byStream.set(key, [...(byStream.get(key) ?? []), r]);
    }
    let pairs = 0;
    let textWouldFail = 0;
    for (const releases of byStream.values()) {
      for (let i = 1; i < releases.length; i++) {
        const older = releases[i - 1]!;
        const newer = releases[i]!;
        expect(parseRelease(newer.releaseVersion, newer.amiType)).toBeDefined();
        const expected = newer.tag === older.tag ? 0 : 1;
        expect([newer.releaseVersion, older.releaseVersion, cmp(newer.releaseVersion, older.releaseVersion)]).toEqual([
          newer.releaseVersion,
          older.releaseVersion,
          expected,
        ]);
        if (newer.releaseVersion < older.releaseVersion) textWouldFail++;
        pairs++;
      }
    }
    expect(pairs).toBeGreaterThan(4000);
    // The data has patch versions crossing a digit (1.2x.9 → 1.2x.10): a lexical compare would be wrong there.
    expect(textWouldFail).toBeGreaterThan(0);
  });

  it('orders the Bottlerocket releases of the data', () => {
    const releases = bottlerocketReleases();
    for (let i = 1; i < releases.length; i++) expect(cmp(releases[i]!, releases[i - 1]!, BR)).toBe(1);
  });

  it('reads Kubernetes minors from versions and releases', () => {
    expect(kubernetesMinor('1.31')).toBe('1.31');
    expect(kubernetesMinor('1.31.2-20241121')).toBe('1.31');
    expect(kubernetesMinor('v1.9.3')).toBe('1.9');
    expect(kubernetesMinor('latest')).toBeUndefined();
    expect(compareMinors('1.9', '1.10')).toBeLessThan(0);
    expect(compareMinors('1.33', '1.32')).toBeGreaterThan(0);
  });
});
