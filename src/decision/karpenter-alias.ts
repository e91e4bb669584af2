import type { AmiSelectorTerm, NodePoolRead, Requirement } from '../model/karpenter-objects.js';

/*
 * Karpenter's AMI aliases, resolved the way Karpenter resolves them (aws/karpenter-provider-aws
 * pkg/apis/v1/ec2nodeclass.go: an alias is `family@version`, families al2, al2023, bottlerocket,
 * windows2019, windows2022, windows2025, and the Windows families take only `latest`;
 * pkg/providers/amifamily/al2023.go, bottlerocket.go, al2.go, windows.go: the SSM parameter each
 * alias reads per architecture and variant; a parameter that is missing is skipped, and only when
 * none resolves does the alias fail, "failed to discover any AMIs for alias").
 */

export type Arch = 'x86_64' | 'arm64';
/** pkg/providers/amifamily/types.go: VariantStandard, VariantNvidia, VariantNeuron. */
export type Variant = 'standard' | 'nvidia' | 'neuron';
export interface Flavour {
  arch: Arch;
  variant: Variant;
}

export const flavourText = (f: Flavour) => `${f.arch}/${f.variant}`;

/** A parsed alias: the family (lower case, as written) and the version (`v20260505`, `v1.34.0`, `latest`). */
export interface Alias {
  family: string;
  version: string;
}

export const ALIAS_FAMILIES = ['al2', 'al2023', 'bottlerocket', 'windows2019', 'windows2022', 'windows2025'] as const;

/** `al2023@v20260505` as Karpenter splits it (amiFamilyFromAlias, amiVersionFromAlias); undefined when it is not one. */
export function parseAlias(text: string): Alias | undefined {
  const parts = text.split('@');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  if (!(ALIAS_FAMILIES as readonly string[]).includes(parts[0])) return undefined;
  return { family: parts[0], version: parts[1] };
}

export const aliasText = (a: Alias) => `${a.family}@${a.version}`;

/** The selector terms as one line: `alias al2023@v20260505`, `id ami-…`, `tags team=x`. */
export function selectorText(terms: readonly AmiSelectorTerm[]): string {
  if (terms.length === 0) return '(no amiSelectorTerms)';
  return terms
    .map((t) =>
      [
        t.alias ? `alias ${t.alias}` : '',
        t.id ? `id ${t.id}` : '',
        t.name ? `name ${t.name}` : '',
        t.owner ? `owner ${t.owner}` : '',
        t.tags
          ? `tags ${Object.entries(t.tags)
              .map(([k, v]) => `${k}=${v}`)
              .join(',')}`
          : '',
        t.ssmParameter ? `ssmParameter ${t.ssmParameter}` : '',
      ]
        .filter(Boolean)
        .join(' '),
    )
    .join('; ');
}

/** Which flavours each family publishes, as its DescribeImageQuery iterates them. */
const PUBLISHED: Record<string, Flavour[]> = {
  al2023: [
    { arch: 'x86_64', variant: 'standard' },
    { arch: 'x86_64', variant: 'nvidia' },
    { arch: 'x86_64', variant: 'neuron' },
    { arch: 'arm64', variant: 'standard' },
    { arch: 'arm64', variant: 'nvidia' },
  ],
  bottlerocket: [
    { arch: 'x86_64', variant: 'standard' },
    { arch: 'x86_64', variant: 'neuron' },
    { arch: 'arm64', variant: 'standard' },
    { arch: 'x86_64', variant: 'nvidia' },
    { arch: 'arm64', variant: 'nvidia' },
  ],
  al2: [
    { arch: 'x86_64', variant: 'standard' },
    { arch: 'arm64', variant: 'standard' },
    { arch: 'x86_64', variant: 'nvidia' },
    { arch: 'x86_64', variant: 'neuron' },
  ],
};

/** The node label of an instance's architecture, and the two Karpenter's variants select on (types.go Variant.Requirements). */
const ARCH = 'kubernetes.io/arch';
const GPU_COUNT = 'karpenter.k8s.aws/instance-gpu-count';
const ACCELERATOR_COUNT = 'karpenter.k8s.aws/instance-accelerator-count';

/**
 * Whether the requirements on a count label let instances with some of it (a GPU, an accelerator)
 * through, and whether they let instances without any through.
 */
function allowsCount(requirements: readonly Requirement[], key: string): { some: boolean; none: boolean } {
  const r = requirements.filter((x) => x.key === key);
  // No requirement on the label: taken as standard instances only. UNVERIFIED whether such a pool also
  // launches GPU or accelerator instances (its instance types decide); a pool that wants them names the count.
  let some = r.length > 0;
  let none = true;
  for (const { operator, values } of r) {
    const nums = values.map(Number);
    switch (operator) {
      case 'Exists':
        none = false;
        break;
      case 'DoesNotExist':
        some = false;
        break;
      case 'In':
        some &&= nums.some((n) => n > 0);
        none &&= nums.includes(0);
        break;
      case 'NotIn':
        none &&= !nums.includes(0);
        break;
      case 'Gt':
        none &&= (nums[0] ?? 0) < 0;
        break;
      case 'Lt':
        some &&= (nums[0] ?? 0) > 1;
        break;
    }
  }
  return { some, none };
}

/**
 * The architectures a NodePool allows: `kubernetes.io/arch` In or NotIn (amd64 is EC2's x86_64); absent:
 * both (UNVERIFIED whether Karpenter narrows it further by the instance types offered, so both are required).
 */
function allowsArchs(requirements: readonly Requirement[]): Arch[] {
  let archs: Arch[] = ['x86_64', 'arm64'];
  const toEc2 = (v: string): Arch | undefined => (v === 'amd64' ? 'x86_64' : v === 'arm64' ? 'arm64' : undefined);
  for (const r of requirements.filter((x) => x.key === ARCH)) {
    const named = r.values.map(toEc2).filter((a): a is Arch => !!a);
    if (r.operator === 'In') archs = archs.filter((a) => named.includes(a));
    if (r.operator === 'NotIn') archs = archs.filter((a) => !named.includes(a));
  }
  return archs;
}

/**
 * The flavours a node class must resolve for: each architecture its NodePools allow, with the standard
 * variant when a pool lets instances without GPUs and accelerators through, nvidia when it names GPU
 * instances (`karpenter.k8s.aws/instance-gpu-count` Exists, Gt, In with a count above 0), neuron when it
 * names accelerator instances the same way (types.go Variant.Requirements),
 * limited to those the family publishes. No NodePool: x86_64/standard, the one every family has.
 */
export function requiredFlavours(family: string, pools: readonly NodePoolRead[]): Flavour[] {
  const published = PUBLISHED[family] ?? [];
  if (pools.length === 0) return published.filter((f) => f.arch === 'x86_64' && f.variant === 'standard');
  const wanted = new Set<string>();
  for (const pool of pools) {
    const gpu = allowsCount(pool.requirements, GPU_COUNT);
    const accelerator = allowsCount(pool.requirements, ACCELERATOR_COUNT);
    for (const arch of allowsArchs(pool.requirements)) {
      if (gpu.none && accelerator.none) wanted.add(`${arch}/standard`);
      if (gpu.some) wanted.add(`${arch}/nvidia`);
      if (accelerator.some) wanted.add(`${arch}/neuron`);
    }
  }
  return published.filter((f) => wanted.has(flavourText(f)));
}

/**
 * The SSM parameter holding the image a versioned alias resolves to for one flavour (al2023.go
 * resolvePath, bottlerocket.go, al2.go); undefined when the family has none for it.
 */
export function versionedImageParameter(family: string, minor: string, version: string, f: Flavour): string | undefined {
  if (family === 'al2023') {
    const name = `amazon-eks-node-al2023-${f.arch}-${f.variant}-${minor}-${version}`;
    return `/aws/service/eks/optimized-ami/${minor}/amazon-linux-2023/${f.arch}/${f.variant}/${name}/image_id`;
  }
  if (family === 'bottlerocket') {
    // "Bottlerocket AMIs versions are prefixed with a v on GitHub, but not in the SSM path" (bottlerocket.go).
    const v = version.replace(/^v+/, '');
    return `/aws/service/bottlerocket/aws-k8s-${minor}${f.variant === 'nvidia' ? '-nvidia' : ''}/${f.arch}/${v}/image_id`;
  }
  if (family === 'al2') {
    if (f.variant !== 'standard') return `/aws/service/eks/optimized-ami/${minor}/amazon-linux-2-gpu/amazon-eks-gpu-node-${minor}-${version}/image_id`;
    return f.arch === 'arm64'
      ? `/aws/service/eks/optimized-ami/${minor}/amazon-linux-2-arm64/amazon-eks-arm64-node-${minor}-${version}/image_id`
      : `/aws/service/eks/optimized-ami/${minor}/amazon-linux-2/amazon-eks-node-${minor}-${version}/image_id`;
  }
  return undefined;
}

/**
 * The SSM parameter naming the newest release of one flavour at a minor: the EKS-optimized AMIs'
 * `recommended/release_version` (`1.35.6-20260714`), Bottlerocket's `latest/image_version`
 * (`1.34.0-18d04e52`). What a `@latest` alias resolves to today, and the newest a pin can move to.
 */
export function recommendedParameter(family: string, minor: string, f: Flavour): string | undefined {
  if (family === 'al2023') return `/aws/service/eks/optimized-ami/${minor}/amazon-linux-2023/${f.arch}/${f.variant}/recommended/release_version`;
  if (family === 'bottlerocket') return `/aws/service/bottlerocket/aws-k8s-${minor}${f.variant === 'nvidia' ? '-nvidia' : ''}/${f.arch}/latest/image_version`;
  if (family === 'al2') {
    const path = f.variant !== 'standard' ? 'amazon-linux-2-gpu' : f.arch === 'arm64' ? 'amazon-linux-2-arm64' : 'amazon-linux-2';
    return `/aws/service/eks/optimized-ami/${minor}/${path}/recommended/release_version`;
  }
  return undefined;
}

/**
 * The alias version of a published release: `1.35.6-20260714` → `v20260714` (the date the EKS-optimized
 * AMI's name ends with, `amazon-eks-node-al2023-x86_64-standard-1.35-v20260714`); Bottlerocket's
 * `1.34.0-18d04e52` → `v1.34.0` (its OS version, as Karpenter's docs pin it: `bottlerocket@v1.10.0`).
 */
export function aliasVersionOf(family: string, release: string): string | undefined {
  if (family === 'bottlerocket') {
    const m = /^v?(\d+\.\d+\.\d+)/.exec(release.trim());
    return m ? `v${m[1]}` : undefined;
  }
  const m = /-(\d{8})$/.exec(release.trim());
  return m ? `v${m[1]}` : undefined;
}

/** Orders two alias versions of one family (`v20260505` < `v20260625`; `v1.9.0` < `v1.34.0`); undefined when one does not parse. */
export function compareAliasVersions(family: string, a: string, b: string): number | undefined {
  const parse = (v: string) =>
    family === 'bottlerocket' ? /^v?(\d+)\.(\d+)\.(\d+)$/.exec(v)?.slice(1).map(Number) : /^v(\d{8})$/.exec(v)?.slice(1).map(Number);
  const x = parse(a);
  const y = parse(b);
  if (!x || !y) return undefined;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return Math.sign(x[i]! - y[i]!);
  return 0;
}
