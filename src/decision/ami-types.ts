import { AMITypes } from '@aws-sdk/client-eks';
import { compareMinors } from './release.js';

/** Where the recommended release of an AMI type for one Kubernetes minor is published. */
export type ReleaseSource =
  /** An SSM public parameter whose value is the release version itself. */
  | { kind: 'ssm'; parameter: string; format: 'release' }
  /** An SSM public parameter whose value is a JSON object with a `release_version` field. */
  | { kind: 'ssm'; parameter: string; format: 'json' }
  /** The AMI is the user's own, in the launch template: there is no "latest" to compare with. */
  | { kind: 'custom' }
  /** AWS publishes no AMI of this type for this Kubernetes minor. */
  | { kind: 'unsupported'; reason: string }
  /** An AMI type this version of the action does not know: reported, never guessed. */
  | { kind: 'unknown'; reason: string };

const AL = '/aws/service/eks/optimized-ami';

/** Amazon Linux 2 ends at Kubernetes 1.32: there are no AL2 AMIs for 1.33 and later. */
const AL2_LAST_MINOR = '1.32';
/** Windows Server 2025 AMIs exist only for Kubernetes 1.35 and later. */
const WINDOWS_2025_FIRST_MINOR = '1.35';

function amazonLinux2(variant: string) {
  return (minor: string): ReleaseSource =>
    compareMinors(minor, AL2_LAST_MINOR) > 0
      ? {
          kind: 'unsupported',
          reason: `Amazon Linux 2 has no AMI for Kubernetes ${minor} (AL2 ends at ${AL2_LAST_MINOR}): migrate to AL2023`,
        }
      : { kind: 'ssm', parameter: `${AL}/${minor}/${variant}/recommended/release_version`, format: 'release' };
}

function amazonLinux2023(arch: 'x86_64' | 'arm64', flavour: string) {
  return (minor: string): ReleaseSource => ({
    kind: 'ssm',
    parameter: `${AL}/${minor}/amazon-linux-2023/${arch}/${flavour}/recommended/release_version`,
    format: 'release',
  });
}

function bottlerocket(arch: 'x86_64' | 'arm64', variant: '' | '-nvidia' | '-fips' | '-nvidia-fips') {
  // The -nvidia-fips path is UNVERIFIED (see ../shared/reference/eks.md); a missing parameter is
  // reported as `unknown` with the parameter's name, so a wrong guess cannot pass as up to date.
  return (minor: string): ReleaseSource => ({
    kind: 'ssm',
    parameter: `/aws/service/bottlerocket/aws-k8s-${minor}${variant}/${arch}/latest/image_version`,
    format: 'release',
  });
}

function windows(edition: 'Core' | 'Full', year: '2019' | '2022' | '2025') {
  // The parent parameter holds JSON with `release_version`; whether that string matches the node
  // group's releaseVersion exactly is UNVERIFIED, so releases are parsed loosely (see release.ts).
  return (minor: string): ReleaseSource =>
    year === '2025' && compareMinors(minor, WINDOWS_2025_FIRST_MINOR) < 0
      ? {
          kind: 'unsupported',
          reason: `Windows Server 2025 AMIs exist only for Kubernetes ${WINDOWS_2025_FIRST_MINOR} and later`,
        }
      : {
          kind: 'ssm',
          parameter: `/aws/service/ami-windows-latest/Windows_Server-${year}-English-${edition}-EKS_Optimized-${minor}`,
          format: 'json',
        };
}

/** Every AMI type of the SDK's enum: the Record type makes a new enum value a compile error here. */
const SOURCES: Record<AMITypes, (minor: string) => ReleaseSource> = {
  AL2_x86_64: amazonLinux2('amazon-linux-2'),
  AL2_ARM_64: amazonLinux2('amazon-linux-2-arm64'),
  AL2_x86_64_GPU: amazonLinux2('amazon-linux-2-gpu'),
  AL2023_x86_64_STANDARD: amazonLinux2023('x86_64', 'standard'),
  AL2023_ARM_64_STANDARD: amazonLinux2023('arm64', 'standard'),
  AL2023_x86_64_NVIDIA: amazonLinux2023('x86_64', 'nvidia'),
  AL2023_ARM_64_NVIDIA: amazonLinux2023('arm64', 'nvidia'),
  AL2023_x86_64_NEURON: amazonLinux2023('x86_64', 'neuron'),
  BOTTLEROCKET_x86_64: bottlerocket('x86_64', ''),
  BOTTLEROCKET_ARM_64: bottlerocket('arm64', ''),
  BOTTLEROCKET_x86_64_NVIDIA: bottlerocket('x86_64', '-nvidia'),
  BOTTLEROCKET_ARM_64_NVIDIA: bottlerocket('arm64', '-nvidia'),
  BOTTLEROCKET_x86_64_FIPS: bottlerocket('x86_64', '-fips'),
  BOTTLEROCKET_ARM_64_FIPS: bottlerocket('arm64', '-fips'),
  BOTTLEROCKET_x86_64_NVIDIA_FIPS: bottlerocket('x86_64', '-nvidia-fips'),
  BOTTLEROCKET_ARM_64_NVIDIA_FIPS: bottlerocket('arm64', '-nvidia-fips'),
  WINDOWS_CORE_2019_x86_64: windows('Core', '2019'),
  WINDOWS_FULL_2019_x86_64: windows('Full', '2019'),
  WINDOWS_CORE_2022_x86_64: windows('Core', '2022'),
  WINDOWS_FULL_2022_x86_64: windows('Full', '2022'),
  WINDOWS_CORE_2025_x86_64: windows('Core', '2025'),
  WINDOWS_FULL_2025_x86_64: windows('Full', '2025'),
  CUSTOM: () => ({ kind: 'custom' }),
};

export function releaseSource(amiType: string, minor: string): ReleaseSource {
  const source = Object.hasOwn(SOURCES, amiType) ? SOURCES[amiType as AMITypes] : undefined;
  return source ? source(minor) : { kind: 'unknown', reason: `AMI type ${amiType || '(none)'} is not known to this version of eks-ami-drift` };
}

/** Where to read the release notes of a release, for people reading the report. */
export function releaseNotesUrl(amiType: string, release: string): string | undefined {
  if (amiType.startsWith('AL2')) {
    const date = /-(\d{8})$/.exec(release)?.[1];
    return date ? `https://github.com/awslabs/amazon-eks-ami/releases/tag/v${date}` : 'https://github.com/awslabs/amazon-eks-ami/releases';
  }
  if (amiType.startsWith('BOTTLEROCKET')) return 'https://github.com/bottlerocket-os/bottlerocket/blob/develop/CHANGELOG.md';
  if (amiType.startsWith('WINDOWS')) return 'https://docs.aws.amazon.com/eks/latest/userguide/eks-ami-versions-windows.html';
  return undefined;
}

const AL2_IMAGE_PREFIX: Record<string, string> = {
  'amazon-linux-2': 'amazon-eks',
  'amazon-linux-2-arm64': 'amazon-eks-arm64',
  'amazon-linux-2-gpu': 'amazon-eks-gpu',
};

/**
 * The SSM parameter that holds one release's own AMI id in a region, or undefined when AWS publishes
 * none per release. Each AMI is copied region by region, and a release has been missing from some
 * regions after others had it (awslabs/amazon-eks-ami#2673: v20260403 absent from us-east-1 and
 * us-west-1): the parameter exists only where the image does. Paths as Karpenter resolves a pinned
 * alias (aws/karpenter-provider-aws pkg/providers/amifamily/al2023.go:
 * `.../optimized-ami/<minor>/amazon-linux-2023/<arch>/<variant>/amazon-eks-node-al2023-<arch>-<variant>-<minor>-v<date>/image_id`)
 * and as cloudposse/terraform-aws-eks-node-group documents its specifiers (AL2
 * `.../amazon-linux-2/amazon-eks-node-1.29-v20240117/image_id`; Bottlerocket
 * `/aws/service/bottlerocket/aws-k8s-1.24-nvidia/x86_64/1.20.1-7c3e9198/image_id`, no `v`). The AL2 arm64
 * and GPU names follow their AMI names (amazon-eks-arm64-node-, amazon-eks-gpu-node-): UNVERIFIED.
 * Windows publishes only its latest image per minor (`/aws/service/ami-windows-latest/...`): none.
 */
export function releaseImageParameter(amiType: string, minor: string, release: string): string | undefined {
  const source = releaseSource(amiType, minor);
  if (source.kind !== 'ssm' || source.format !== 'release') return undefined;
  const date = /-(\d{8})$/.exec(release)?.[1];
  let m = /^(\/aws\/service\/eks\/optimized-ami\/[^/]+)\/amazon-linux-2023\/(x86_64|arm64)\/(\w+)\/recommended\/release_version$/.exec(source.parameter);
  if (m) return date ? `${m[1]}/amazon-linux-2023/${m[2]}/${m[3]}/amazon-eks-node-al2023-${m[2]}-${m[3]}-${minor}-v${date}/image_id` : undefined;
  m = /^(\/aws\/service\/eks\/optimized-ami\/[^/]+)\/(amazon-linux-2[\w-]*)\/recommended\/release_version$/.exec(source.parameter);
  if (m) return date && AL2_IMAGE_PREFIX[m[2]!] ? `${m[1]}/${m[2]}/${AL2_IMAGE_PREFIX[m[2]!]}-node-${minor}-v${date}/image_id` : undefined;
  m = /^(\/aws\/service\/bottlerocket\/[^/]+\/(?:x86_64|arm64))\/latest\/image_version$/.exec(source.parameter);
  if (m && /^\d+\.\d+\.\d+(-[0-9a-f]+)?$/.test(release)) return `${m[1]}/${release}/image_id`;
  return undefined;
}
