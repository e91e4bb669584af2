import { createHash } from 'node:crypto';
import { bottlerocketReleases } from './releases.js';

/**
 * AMIs and launch templates of the simulated account. AWS's EKS-optimized AMIs are published by
 * account 602401143452 with the alias `amazon` (../shared/reference/eks.md section 11; the alias on
 * EKS AMIs is UNVERIFIED, the action accepts the owner id too); their ids differ per region, as AMIs
 * are regional resources (EC2 user guide, "Copy an AMI": a copy in another region gets a new id), so an
 * image id is only meaningful in its region. A deregistered image fails DescribeImages with
 * InvalidAMIID.NotFound (EC2 API reference, DescribeImages: "specifying the ID of the image will
 * eventually return an error indicating that the AMI ID cannot be found").
 */
export const EKS_AMI_OWNER = '602401143452';

/** An image a launch template or launch configuration names. */
export type SimImageSpec =
  /** AWS's EKS-optimized AMI of this name (see `awsImageName`), in the template's region. */
  | { aws: string; deprecatedAt?: string }
  /** The account's own (or a copy of AWS's): never compared. */
  | { private: string; ownerId?: string; createdAt: string; deprecatedAt?: string; disabled?: boolean };

export interface SimImage {
  id: string;
  region: string;
  name: string;
  ownerId: string;
  ownerAlias?: string;
  createdAt: string;
  deprecatedAt?: string;
  /**
   * DisableImage: "Sets the AMI state to disabled and removes all launch permissions"; only its owner
   * sees it, and "a disabled AMI does not appear in DescribeImages API calls by default" (EC2 API reference).
   */
  disabled?: boolean;
}

export interface SimTemplateVersion {
  number: number;
  /** An AMI id, or `resolve:ssm:<parameter>` (EC2 resolves it at launch, and for DescribeLaunchTemplateVersions with ResolveAlias). */
  imageId?: string;
  description?: string;
  tagSpecifications: boolean;
  userData: string;
  /**
   * The instance profile it names: a self-managed node's template names one (the node role; AWS's
   * amazon-eks-nodegroup.yaml, eksctl and terraform-aws-eks all set IamInstanceProfile), a managed node
   * group's must not (EKS user guide, "Customize managed nodes with launch templates").
   */
  instanceProfile?: string;
}

export const SELF_MANAGED_INSTANCE_PROFILE = 'eks-node-instance-profile';

export interface SimTemplate {
  id: string;
  name: string;
  region: string;
  defaultVersion: number;
  versions: SimTemplateVersion[];
}

const AL_NAMES: Record<string, string> = {
  AL2_x86_64: 'amazon-eks-node',
  AL2_ARM_64: 'amazon-eks-arm64-node',
  AL2_x86_64_GPU: 'amazon-eks-gpu-node',
  AL2023_x86_64_STANDARD: 'amazon-eks-node-al2023-x86_64-standard',
  AL2023_ARM_64_STANDARD: 'amazon-eks-node-al2023-arm64-standard',
  AL2023_x86_64_NVIDIA: 'amazon-eks-node-al2023-x86_64-nvidia',
  AL2023_ARM_64_NVIDIA: 'amazon-eks-node-al2023-arm64-nvidia',
  AL2023_x86_64_NEURON: 'amazon-eks-node-al2023-x86_64-neuron',
};

/** The name AWS gives the EKS-optimized AMI of a release (`amazon-eks-node-al2023-x86_64-standard-1.33-v20260714`). */
export function awsImageName(amiType: string, minor: string, release: string): string {
  if (amiType.startsWith('BOTTLEROCKET')) {
    const variant = amiType.includes('NVIDIA') ? (amiType.includes('FIPS') ? '-nvidia-fips' : '-nvidia') : amiType.includes('FIPS') ? '-fips' : '';
    return `bottlerocket-aws-k8s-${minor}${variant}-${amiType.includes('ARM') ? 'aarch64' : 'x86_64'}-v${release}`;
  }
  const prefix = AL_NAMES[amiType];
  if (!prefix) throw new Error(`no AMI name for ${amiType}`);
  return `${prefix}-${minor}-v${release.split('-').at(-1)}`;
}

/** DescribeImages `Architecture` (EC2 API reference, Image: i386, x86_64, arm64, ...), as an EKS AMI's name says it (arm64, aarch64). */
export function architectureOf(name: string): string {
  return /(^|-)(arm64|aarch64)(-|$)/.test(name) ? 'arm64' : 'x86_64';
}

/** The id of an image in a region: deterministic, different per region. */
export function imageId(region: string, name: string): string {
  return `ami-${createHash('sha1').update(`${region}/${name}`).digest('hex').slice(0, 17)}`;
}

/** The SSM `image_id` parameter that stands next to a release parameter, and the AWS image name it points at. */
export function imageParameterOf(releaseParameter: string, release: string): { parameter: string; name: string } | undefined {
  let m = /^\/aws\/service\/eks\/optimized-ami\/(\d+\.\d+)\/(.+)\/recommended\/release_version$/.exec(releaseParameter);
  if (m) {
    const amiType = Object.entries(PATH_TYPES).find(([path]) => path === m![2])?.[1];
    return amiType ? { parameter: releaseParameter.replace(/release_version$/, 'image_id'), name: awsImageName(amiType, m[1]!, release) } : undefined;
  }
  m = /^\/aws\/service\/bottlerocket\/aws-k8s-(\d+\.\d+)(-[a-z-]+)?\/(x86_64|arm64)\/latest\/image_version$/.exec(releaseParameter);
  if (m) {
    const variant = { '': '', '-nvidia': '_NVIDIA', '-fips': '_FIPS', '-nvidia-fips': '_NVIDIA_FIPS' }[m[2] ?? ''] ?? '';
    const amiType = `BOTTLEROCKET_${m[3] === 'arm64' ? 'ARM_64' : 'x86_64'}${variant}`;
    return { parameter: releaseParameter.replace(/image_version$/, 'image_id'), name: awsImageName(amiType, m[1]!, release) };
  }
  return undefined;
}

/**
 * A release's own `image_id` parameter and the AWS image it names: `.../optimized-ami/<minor>/<path>/<image name>/image_id`
 * (Amazon Linux, as Karpenter resolves a pinned alias: aws/karpenter-provider-aws
 * pkg/providers/amifamily/al2023.go) or `/aws/service/bottlerocket/aws-k8s-<minor><variant>/<arch>/<release>/image_id`
 * (cloudposse/terraform-aws-eks-node-group's specifiers). Undefined for any other name.
 */
export function releaseImageOf(parameter: string): { amiType: string; minor: string; name: string; date?: string } | undefined {
  let m = /^\/aws\/service\/eks\/optimized-ami\/(\d+\.\d+)\/(.+)\/([^/]+)\/image_id$/.exec(parameter);
  if (m && m[3] !== 'recommended') {
    const amiType = PATH_TYPES[m[2]!];
    const date = /-v(\d{8})$/.exec(m[3]!)?.[1];
    if (!amiType || !date || awsImageName(amiType, m[1]!, date) !== m[3]) return undefined;
    return { amiType, minor: m[1]!, name: m[3], date };
  }
  m = /^\/aws\/service\/bottlerocket\/aws-k8s-(\d+\.\d+)(-[a-z-]+)?\/(x86_64|arm64)\/([^/]+)\/image_id$/.exec(parameter);
  // The OS version alone (`1.34.0`), as a Karpenter alias names it (`bottlerocket@v1.34.0`; bottlerocket.go trims the `v`):
  // UNVERIFIED that AWS publishes this form beside `<version>-<commit>`; the simulator serves it for the fixture's releases.
  const short = m && /^\d+\.\d+\.\d+$/.test(m[4]!) ? bottlerocketReleases().find((r) => r.startsWith(`${m[4]}-`)) : undefined;
  if (m && short) m[4] = short;
  if (m && m[4] !== 'latest' && /^\d+\.\d+\.\d+-[0-9a-f]+$/.test(m[4]!)) {
    const variant = { '': '', '-nvidia': '_NVIDIA', '-fips': '_FIPS', '-nvidia-fips': '_NVIDIA_FIPS' }[m[2] ?? ''] ?? '';
    const amiType = `BOTTLEROCKET_${m[3] === 'arm64' ? 'ARM_64' : 'x86_64'}${variant}`;
    return { amiType, minor: m[1]!, name: awsImageName(amiType, m[1]!, m[4]!) };
  }
  return undefined;
}

const PATH_TYPES: Record<string, string> = {
  'amazon-linux-2': 'AL2_x86_64',
  'amazon-linux-2-arm64': 'AL2_ARM_64',
  'amazon-linux-2-gpu': 'AL2_x86_64_GPU',
  'amazon-linux-2023/x86_64/standard': 'AL2023_x86_64_STANDARD',
  'amazon-linux-2023/arm64/standard': 'AL2023_ARM_64_STANDARD',
  'amazon-linux-2023/x86_64/nvidia': 'AL2023_x86_64_NVIDIA',
  'amazon-linux-2023/arm64/nvidia': 'AL2023_ARM_64_NVIDIA',
  'amazon-linux-2023/x86_64/neuron': 'AL2023_x86_64_NEURON',
};

/** The date an AWS image of this name was built (its `vYYYYMMDD`), or a fixed date for Bottlerocket. */
function builtAt(name: string): string {
  const m = /-v(\d{4})(\d{2})(\d{2})$/.exec(name);
  return m ? `${m[1]}-${m[2]}-${m[3]}T12:00:00.000Z` : '2026-06-01T12:00:00.000Z';
}

export class ImageRegistry {
  readonly images = new Map<string, SimImage>();
  readonly templates = new Map<string, SimTemplate>();
  /** CreateLaunchTemplateVersion calls that made a version (not dry runs). */
  readonly created: { templateId: string; version: number; imageId: string; at: number }[] = [];

  constructor(private readonly accountId: string) {}

  /** AWS's image of this name in a region (registered on first use). */
  aws(region: string, name: string, deprecatedAt?: string): SimImage {
    const id = imageId(region, name);
    let image = this.images.get(id);
    if (!image) {
      image = { id, region, name, ownerId: EKS_AMI_OWNER, ownerAlias: 'amazon', createdAt: builtAt(name), ...(deprecatedAt ? { deprecatedAt } : {}) };
      this.images.set(id, image);
    }
    return image;
  }

  /** The image a spec names, in a region. */
  resolve(region: string, spec: SimImageSpec): SimImage {
    if ('aws' in spec) return this.aws(region, spec.aws, spec.deprecatedAt);
    const id = imageId(region, `private/${spec.private}`);
    let image = this.images.get(id);
    if (!image) {
      image = {
        id,
        region,
        name: spec.private,
        ownerId: spec.ownerId ?? this.accountId,
        createdAt: spec.createdAt,
        ...(spec.deprecatedAt ? { deprecatedAt: spec.deprecatedAt } : {}),
        ...(spec.disabled ? { disabled: true } : {}),
      };
      this.images.set(id, image);
    }
    return image;
  }

  template(id: string, name: string, region: string, version: number, data: Omit<SimTemplateVersion, 'number'>): SimTemplate {
    let t = this.templates.get(id);
    if (!t) {
      t = { id, name, region, defaultVersion: version, versions: [] };
      this.templates.set(id, t);
    }
    if (!t.versions.some((v) => v.number === version)) t.versions.push({ number: version, ...data });
    t.versions.sort((a, b) => a.number - b.number);
    return t;
  }

  findTemplate(region: string, key: string): SimTemplate | undefined {
    return [...this.templates.values()].find((t) => t.region === region && (t.id === key || t.name === key));
  }
}
