import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { compareTrains, releaseOnTrain, trainOf } from '../../src/decision/train.js';
import { amazonLinuxReleases } from '../sim/releases.js';

describe('release trains: one build published for several Kubernetes minors', () => {
  it("reads every Amazon Linux release of AWS's data as its release tag's train, and a tag spans minors", () => {
    const releases = amazonLinuxReleases();
    expect(releases.length).toBeGreaterThan(4000);
    for (const r of releases) expect(trainOf(r.releaseVersion, r.amiType)?.id).toBe(r.tag);
    const minors = new Map<string, Set<string>>();
    for (const r of releases) minors.set(r.tag, (minors.get(r.tag) ?? new Set()).add(r.minor));
    // most builds go out for several minors at once: that is what makes one train comparable across clusters
    expect([...minors.values()].filter((m) => m.size >= 3).length).toBeGreaterThan(minors.size / 2);
  });

  it("reads an Amazon Linux image's tag (its name's `-v20260714`, a CUSTOM node group's image) as that build's train", () => {
    expect(trainOf('v20260714', 'AL2023_x86_64_STANDARD')).toEqual({ kind: 'build-date', id: 'v20260714', order: [20260714] });
    expect(trainOf('v20260714', 'AL2023_x86_64_STANDARD')).toEqual(trainOf('1.32.13-20260714', 'AL2023_x86_64_STANDARD'));
    expect(trainOf('v20260714', 'BOTTLEROCKET_x86_64')).toBeUndefined();
  });

  it('reads a Bottlerocket release as its OS version, whatever the commit looks like', () => {
    const rows = readFileSync(new URL('../fixtures/bottlerocket-releases.csv', import.meta.url), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    for (const row of rows) {
      const [os = '', , example = ''] = row.split(',');
      expect(trainOf(example, 'BOTTLEROCKET_x86_64')).toEqual({ kind: 'os-version', id: `v${os}`, order: os.split('.').map(Number) });
    }
    // an all-digit commit is not a date for Bottlerocket
    expect(trainOf('1.4.0-42360701', 'BOTTLEROCKET_ARM_64')?.id).toBe('v1.4.0');
  });

  it('orders trains of one kind only, and finds the release of a train among a minor’s releases', () => {
    const jul = trainOf('1.33.13-20260714', 'AL2023_x86_64_STANDARD')!;
    const jun = trainOf('1.32.9-20260618', 'AL2023_ARM_64_STANDARD')!;
    expect(compareTrains(jun, jul)).toBeLessThan(0);
    expect(compareTrains(jul, trainOf('1.31.14-20260714', 'AL2_x86_64')!)).toBe(0);
    expect(compareTrains(trainOf('1.10.0-aaaa', 'BOTTLEROCKET_x86_64')!, trainOf('1.9.3-bbbb', 'BOTTLEROCKET_x86_64')!)).toBeGreaterThan(0);
    expect(compareTrains(jul, trainOf('1.41.0-abcd1234', 'BOTTLEROCKET_x86_64')!)).toBeUndefined();
    expect(releaseOnTrain(jul, 'AL2023_x86_64_STANDARD', ['1.32.9-20260618', '1.32.10-20260714'])).toBe('1.32.10-20260714');
    expect(releaseOnTrain(jul, 'AL2023_x86_64_STANDARD', ['1.32.9-20260618'])).toBeUndefined();
    expect(trainOf('1.33.13-20260714', 'CUSTOM')).toBeUndefined();
  });
});
