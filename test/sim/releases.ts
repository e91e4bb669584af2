import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SimParameter } from './fleet.js';

/** One published Amazon Linux release, from the amazon-eks-ami changelog (test/fixtures). */
export interface PublishedRelease {
  tag: string;
  amiType: string;
  minor: string;
  releaseVersion: string;
  /** The release tag's date, ISO 8601. */
  publishedAt: string;
}

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));

function readCsv(file: string): string[][] {
  return readFileSync(`${fixtures}${file}`, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','));
}

let cache: PublishedRelease[] | undefined;

/** Every Amazon Linux 2 and 2023 release of the fixture, oldest first. */
export function amazonLinuxReleases(): PublishedRelease[] {
  cache ??= readCsv('eks-optimized-ami-releases.csv')
    .map(([tag = '', amiType = '', minor = '', releaseVersion = '']) => ({
      tag,
      amiType,
      minor,
      releaseVersion,
      publishedAt: `${tag.slice(1, 5)}-${tag.slice(5, 7)}-${tag.slice(7, 9)}T18:00:00Z`,
    }))
    .sort((a, b) => a.tag.localeCompare(b.tag));
  return cache;
}

/** Releases of one AMI type and Kubernetes minor, oldest first. */
export function releasesOf(amiType: string, minor: string): PublishedRelease[] {
  return amazonLinuxReleases().filter((r) => r.amiType === amiType && r.minor === minor);
}

/** Bottlerocket release versions (`1.34.0-18d04e52`), oldest first. */
export function bottlerocketReleases(): string[] {
  return readCsv('bottlerocket-releases.csv').map(([, , release = '']) => release);
}

const AL_PATHS: Record<string, string> = {
  AL2_x86_64: 'amazon-linux-2',
  AL2_ARM_64: 'amazon-linux-2-arm64',
  AL2_x86_64_GPU: 'amazon-linux-2-gpu',
  AL2023_x86_64_STANDARD: 'amazon-linux-2023/x86_64/standard',
  AL2023_ARM_64_STANDARD: 'amazon-linux-2023/arm64/standard',
  AL2023_x86_64_NVIDIA: 'amazon-linux-2023/x86_64/nvidia',
  AL2023_ARM_64_NVIDIA: 'amazon-linux-2023/arm64/nvidia',
  AL2023_x86_64_NEURON: 'amazon-linux-2023/x86_64/neuron',
};

/**
 * The SSM public parameters AWS publishes, as of a date: for each Amazon Linux type and minor, the
 * newest release tagged on or before `asOf` (what `recommended/release_version` held that day).
 */
export function amazonLinuxParameters(asOf = '9999-12-31'): SimParameter[] {
  const newest = new Map<string, PublishedRelease>();
  for (const r of amazonLinuxReleases()) if (r.publishedAt.slice(0, 10) <= asOf) newest.set(`${r.amiType} ${r.minor}`, r);
  return [...newest.values()].map((r) => ({
    name: `/aws/service/eks/optimized-ami/${r.minor}/${AL_PATHS[r.amiType]}/recommended/release_version`,
    value: r.releaseVersion,
    lastModified: r.publishedAt,
  }));
}

/** The Bottlerocket `latest/image_version` parameter of one variant (`''`, `-nvidia`, ...). */
export function bottlerocketParameter(minor: string, arch: 'x86_64' | 'arm64', release: string, lastModified: string, variant = ''): SimParameter {
  return { name: `/aws/service/bottlerocket/aws-k8s-${minor}${variant}/${arch}/latest/image_version`, value: release, lastModified };
}

/**
 * The values a parameter has held (GetParameterHistory), oldest first. An Amazon Linux
 * `recommended/release_version` parameter held each release of its AMI type and minor up to its
 * current value; any other parameter has held only its current value.
 */
export function historyOf(name: string, current: string, lastModified: string): { value: string; version: number; lastModified: string }[] {
  const m = /^\/aws\/service\/eks\/optimized-ami\/(\d+\.\d+)\/(.+)\/recommended\/release_version$/.exec(name);
  const amiType = m ? Object.entries(AL_PATHS).find(([, path]) => path === m[2])?.[0] : undefined;
  const all = amiType && m ? releasesOf(amiType, m[1]!) : [];
  const upTo = all.findIndex((r) => r.releaseVersion === current);
  const past = upTo >= 0 ? all.slice(0, upTo + 1).map((r) => ({ value: r.releaseVersion, lastModified: r.publishedAt })) : [{ value: current, lastModified }];
  return past.map((p, i) => ({ ...p, version: i + 1 }));
}

/**
 * A release AWS published for a minor's other flavours but not for this one (an AMI type): its
 * `recommended/release_version` stays on the release before, and the release's own image parameter
 * (what a Karpenter alias pinned to it reads) is absent, since its image was never published there.
 * Karpenter's resolution skips such a flavour (aws/karpenter-provider-aws al2023.go) and fails a node
 * class none of whose flavours resolve (karpenter-provider-aws#8564); a version missing for one minor is
 * aws-samples PR #170's example (al2023@v20251103, never published for 1.35).
 */
export function notPublishedFor(amiType: string, minor: string, tag: string, imageName: string, regions: string[]) {
  const before = releasesOf(amiType, minor)
    .filter((r) => r.tag < tag)
    .at(-1);
  if (!before || !AL_PATHS[amiType]) throw new Error(`no ${amiType} ${minor} release before ${tag}`);
  return {
    parameters: [
      {
        name: `/aws/service/eks/optimized-ami/${minor}/${AL_PATHS[amiType]}/recommended/release_version`,
        value: before.releaseVersion,
        lastModified: before.publishedAt,
      },
    ] as SimParameter[],
    unpublished: [{ image: imageName, regions }],
  };
}
