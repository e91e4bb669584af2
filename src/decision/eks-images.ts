import type { ImageInfo } from '../model/fleet.js';
import type { ParameterRequest } from '../model/fleet.js';
import { releaseSource } from './ami-types.js';
import { compareReleases, kubernetesMinor, parseRelease } from './release.js';

/** An EKS-optimized AMI of AWS's, as its name tells it. */
export interface EksImage {
  /** The EKS AMI type it is the image of (`AL2023_x86_64_STANDARD`). */
  amiType: string;
  /** Kubernetes minor, `1.33`. */
  minor: string;
  /** The release as the name says it: `v20260714` (Amazon Linux), `1.41.0-5bd5b0b4` (Bottlerocket), `1.33-2026.07.15` (Windows). */
  release: string;
}

/**
 * The accounts that publish EKS-optimized AMIs: 602401143452 in most commercial regions
 * (../shared/reference/eks.md section 11); other partitions and opt-in regions use others, which is
 * why `ImageOwnerAlias` `amazon` is accepted too. That alias is also on vetted publishers' images (a
 * Red Hat image shows it), so it counts only with a name of the EKS patterns below. A user's copy of an
 * AWS image has the user's owner and no alias: it is the user's image, reported as custom.
 */
const EKS_PUBLISHERS = new Set(['602401143452']);

const AL2023 = /^amazon-eks-node-al2023-(x86_64|arm64)-(standard|nvidia|neuron)-(\d+\.\d+)-v(\d{8})$/;
const AL2 = /^amazon-eks-(arm64-|gpu-)?node-(\d+\.\d+)-v(\d{8})$/;
// Bottlerocket names its arm images aarch64 (UNVERIFIED whether every variant does: arm64 is read too).
// The variant sits between the Kubernetes minor and the architecture: `bottlerocket-aws-k8s-1.30-nvidia-x86_64-v1.20.4-b6163b2a`
// (a Karpenter EC2NodeClass status), `bottlerocket-aws-k8s-1.34-fips-x86_64-*` (a Karpenter name filter); any word there
// (or after the commit) is read as a variant, and one the action does not know makes an AMI type it reports as unknown, never custom.
const BOTTLEROCKET = /^bottlerocket-aws-k8s-(\d+\.\d+)((?:-[a-z][a-z0-9]*)*?)-(x86_64|aarch64|arm64)-v(\d+\.\d+\.\d+)(-[0-9a-f]{7,40})?((?:-[a-z][a-z0-9]*)*)$/;
const WINDOWS = /^Windows_Server-(2019|2022|2025)-English-(Core|Full)-EKS_Optimized-(\d+\.\d+)-(\d{4}\.\d{2}\.\d{2})$/;

/** The EKS-optimized AMI an image is, or undefined when it is not one of AWS's. */
export function eksImageOf(image: ImageInfo): EksImage | undefined {
  const name = image.name ?? '';
  const aws = EKS_PUBLISHERS.has(image.ownerId ?? '') || image.ownerAlias === 'amazon';
  if (!aws) return undefined;
  let m = AL2023.exec(name);
  if (m) {
    const arch = m[1] === 'arm64' ? 'ARM_64' : 'x86_64';
    return { amiType: `AL2023_${arch}_${m[2]!.toUpperCase()}`, minor: m[3]!, release: `v${m[4]}` };
  }
  m = AL2.exec(name);
  if (m) {
    const amiType = m[1] === 'arm64-' ? 'AL2_ARM_64' : m[1] === 'gpu-' ? 'AL2_x86_64_GPU' : 'AL2_x86_64';
    return { amiType, minor: m[2]!, release: `v${m[3]}` };
  }
  m = BOTTLEROCKET.exec(name);
  if (m) {
    const words = `${m[2]}${m[6]}`.split('-').filter(Boolean);
    // EKS's AMI types name NVIDIA before FIPS (BOTTLEROCKET_x86_64_NVIDIA_FIPS), whatever order the name has.
    const known = ['nvidia', 'fips'].filter((w) => words.includes(w));
    const variant = [...known, ...words.filter((w) => !known.includes(w))].map((w) => `_${w.toUpperCase()}`).join('');
    const arch = m[3] === 'x86_64' ? 'x86_64' : 'ARM_64';
    return { amiType: `BOTTLEROCKET_${arch}${variant}`, minor: m[1]!, release: `${m[4]}${m[5] ?? ''}` };
  }
  m = WINDOWS.exec(name);
  if (m) return { amiType: `WINDOWS_${m[2]!.toUpperCase()}_${m[1]}_x86_64`, minor: m[3]!, release: `${m[3]}-${m[4]}` };
  return undefined;
}

/**
 * The SSM parameters that say which image AWS recommends now for an EKS image's family and minor:
 * the release (to order by) and the image id (to pin). Amazon Linux publishes `image_id` next to
 * `release_version`, Bottlerocket next to `image_version`; Windows' JSON parameter carries both.
 */
export function latestImageRequests(image: EksImage): { release?: ParameterRequest; imageId?: ParameterRequest } {
  const source = releaseSource(image.amiType, image.minor);
  if (source.kind !== 'ssm') return {};
  const release = { parameter: source.parameter, format: source.format } as ParameterRequest;
  if (source.format === 'json') return { release, imageId: release };
  const imageId = source.parameter.replace(/\/(release_version|image_version)$/, '/image_id');
  return { release, imageId: { parameter: imageId, format: 'image-id' } };
}

/**
 * Orders an image's release (from its name) with the latest published release: Amazon Linux by build
 * date (an AMI name has the date, not the patch version; within one Kubernetes minor a later build is
 * a later release), Bottlerocket and Windows as releases. Undefined: cannot be ordered.
 */
export function compareImageRelease(image: EksImage, latest: string): -1 | 0 | 1 | undefined {
  const target = parseRelease(latest, image.amiType);
  if (!target) return undefined;
  if (image.amiType.startsWith('AL2')) {
    const date = Number(image.release.slice(1));
    if (target.date === undefined || kubernetesMinor(latest) !== image.minor) return undefined;
    return date === target.date ? 0 : date < target.date ? -1 : 1;
  }
  const current = parseRelease(image.release, image.amiType);
  return current ? compareReleases(current, target) : undefined;
}
