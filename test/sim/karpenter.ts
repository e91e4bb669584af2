import { createHash } from 'node:crypto';
import type { KubeObject, KubeState } from './kube.js';
import type { SimCluster } from './fleet.js';
import { advanceKarpenter, startDrift } from './karpenter-drift.js';

/*
 * Karpenter (karpenter.k8s.aws/v1 EC2NodeClass, karpenter.sh/v1 NodePool and NodeClaim) and EKS Auto
 * Mode on a simulated cluster, as the check reads them:
 * - an EC2NodeClass's `status.amis` is what Karpenter resolves its alias to: the SSM parameter of each
 *   architecture and variant its family publishes (aws/karpenter-provider-aws
 *   pkg/providers/amifamily/al2023.go resolvePath, bottlerocket.go), each missing one skipped, and no
 *   image at all sets `AMIsReady` (and `Ready`) False, reason AMINotFound
 *   (pkg/controllers/nodeclass/ami.go);
 * - each NodeClaim's `status.imageID` is the image its node runs (kubernetes-sigs/karpenter
 *   pkg/apis/v1/nodeclaim_status.go), and its node carries `karpenter.sh/nodepool`,
 *   `karpenter.k8s.aws/ec2nodeclass` and `kubernetes.io/arch`;
 * - Auto Mode's nodes carry `eks.amazonaws.com/compute-type: auto` and their NodePool's name, and its
 *   NodePools name a NodeClass of group `eks.amazonaws.com` (Amazon EKS User Guide, "Create a Node Pool
 *   for EKS Auto Mode"; its built-in pools set expireAfter 336h).
 */

export interface SimRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values?: string[];
}

/** Nodes of a NodePool: how many, their architecture, whether they run what the class resolves now or an older image, how old they are. */
export interface SimPoolNodes {
  count: number;
  arch?: 'amd64' | 'arm64';
  /** `older`: an image the class no longer resolves (drifted, not yet replaced). */
  image?: 'current' | 'older';
  ageDays?: number;
  /** Nodes that never became Ready: their NodeClaims' `Ready` condition is False (Initialized False). */
  notReady?: boolean;
}

export interface SimNodePool {
  name: string;
  /** The EC2NodeClass (or, for Auto Mode, the NodeClass) it uses. */
  nodeClass: string;
  requirements?: SimRequirement[];
  expireAfter?: string;
  budgets?: { nodes: string; schedule?: string; duration?: string; reasons?: string[] }[];
  nodes?: SimPoolNodes[];
}

export interface SimNodeClass {
  name: string;
  /** `al2023@v20260505`; or `terms` for any other selector. */
  alias?: string;
  terms?: Record<string, unknown>[];
}

export interface SimKarpenter {
  nodeClasses: SimNodeClass[];
  nodePools: SimNodePool[];
  /**
   * The team's GitOps (Argo CD, Flux) applying a merged EC2NodeClass: the class's alias becomes `alias`
   * `afterMinutes` after the simulator's first Kubernetes request to the cluster; null: never applied.
   */
  gitops?: { nodeClass: string; alias: string; afterMinutes: number | null }[];
  /**
   * How long Karpenter takes to replace one drifted node (launch, initialize, drain, delete). Absent:
   * Karpenter's disruption is not modelled, nodes stay as seeded (what the check's tests read).
   */
  replaceMinutes?: number;
}

export interface SimAutoMode {
  nodePools: SimNodePool[];
}

/** What SSM answers for a parameter in a region (the simulator's own lookup, ./aws.ts). */
export type ParameterLookup = (region: string, name: string) => { value: string } | undefined;

const lookups = new WeakMap<object, ParameterLookup>();
const seeded = new WeakSet<SimCluster>();
const objects = new WeakMap<KubeState, Map<string, KubeObject[]>>();

/** The simulator's SSM, for Karpenter's resolution of aliases. */
export function registerParameterLookup(world: object, lookup: ParameterLookup): void {
  lookups.set(world, lookup);
}

const FLAVOURS: Record<string, { arch: 'x86_64' | 'arm64'; variant: string }[]> = {
  al2023: [
    { arch: 'x86_64', variant: 'standard' },
    { arch: 'x86_64', variant: 'nvidia' },
    { arch: 'x86_64', variant: 'neuron' },
    { arch: 'arm64', variant: 'standard' },
    { arch: 'arm64', variant: 'nvidia' },
  ],
  bottlerocket: [
    { arch: 'x86_64', variant: 'standard' },
    { arch: 'arm64', variant: 'standard' },
    { arch: 'x86_64', variant: 'nvidia' },
    { arch: 'arm64', variant: 'nvidia' },
  ],
};

/** The parameter Karpenter reads for one flavour of an alias (al2023.go resolvePath; bottlerocket.go). */
function aliasParameter(family: string, minor: string, version: string, arch: string, variant: string): string | undefined {
  if (family === 'al2023') {
    const name = version === 'latest' ? 'recommended' : `amazon-eks-node-al2023-${arch}-${variant}-${minor}-${version}`;
    return `/aws/service/eks/optimized-ami/${minor}/amazon-linux-2023/${arch}/${variant}/${name}/image_id`;
  }
  if (family === 'bottlerocket') {
    return `/aws/service/bottlerocket/aws-k8s-${minor}${variant === 'nvidia' ? '-nvidia' : ''}/${arch}/${version.replace(/^v+/, '')}/image_id`;
  }
  return undefined;
}

const GPU = 'karpenter.k8s.aws/instance-gpu-count';
const ACCELERATOR = 'karpenter.k8s.aws/instance-accelerator-count';

/** The requirements Karpenter records beside an image of a flavour (amifamily/types.go Variant.Requirements). */
function amiRequirements(arch: string, variant: string): { key: string; operator: string; values?: string[] }[] {
  const archReq = { key: 'kubernetes.io/arch', operator: 'In', values: [arch === 'x86_64' ? 'amd64' : 'arm64'] };
  if (variant === 'nvidia') return [archReq, { key: GPU, operator: 'Exists' }];
  if (variant === 'neuron') return [archReq, { key: ACCELERATOR, operator: 'Exists' }];
  return [archReq, { key: ACCELERATOR, operator: 'DoesNotExist' }, { key: GPU, operator: 'DoesNotExist' }];
}

/**
 * What Karpenter's AMI controller resolves an alias to (pkg/controllers/nodeclass/ami.go): each
 * flavour's image, and the AMIsReady and Ready conditions.
 */
function resolveAlias(lookup: ParameterLookup, cluster: SimCluster, alias: string) {
  const [family = '', version = ''] = alias.split('@');
  const amis: { id: string; name: string; requirements: unknown[]; arch: string }[] = [];
  for (const f of FLAVOURS[family] ?? []) {
    const parameter = aliasParameter(family, cluster.version, version, f.arch, f.variant);
    const found = parameter ? lookup(cluster.region, parameter) : undefined;
    // A parameter that is missing is skipped (al2023.go: `if err != nil { continue }`).
    if (found)
      amis.push({ id: found.value, name: `${family}-${f.arch}-${f.variant}-${version}`, requirements: amiRequirements(f.arch, f.variant), arch: f.arch });
  }
  const ok = amis.length > 0;
  const conditions = [
    ok
      ? { type: 'AMIsReady', status: 'True', reason: 'AMIsReady', message: '' }
      : { type: 'AMIsReady', status: 'False', reason: 'AMINotFound', message: 'AMISelector did not match any AMIs' },
    { type: 'Ready', status: ok ? 'True' : 'False', reason: ok ? 'Ready' : 'UnhealthyDependents', message: ok ? '' : 'AMIsReady=False' },
  ];
  return { amis, conditions };
}

/** An EC2NodeClass's status after its selector terms changed: its (one) alias resolved again. */
export function resolveNodeClass(world: object, cluster: SimCluster, nc: KubeObject): void {
  const terms = (nc.spec as { amiSelectorTerms?: { alias?: string }[] } | undefined)?.amiSelectorTerms ?? [];
  const { amis, conditions } = resolveAlias(lookups.get(world) ?? (() => undefined), cluster, terms[0]?.alias ?? '');
  nc.status = { amis: amis.map(({ arch: _arch, ...a }) => a), conditions };
}

/** The cluster's Karpenter objects by plural, made once on the first request to its API, then brought up to `now` (./karpenter-drift.ts). */
export function karpenterObjects(world: object, kube: KubeState, cluster: SimCluster, now: number): Map<string, KubeObject[]> {
  let byPlural = objects.get(kube);
  if (byPlural && seeded.has(cluster)) {
    advanceKarpenter(kube, cluster, byPlural, now, (alias) => resolveAlias(lookups.get(world) ?? (() => undefined), cluster, alias));
    return byPlural;
  }
  byPlural = new Map([
    ['ec2nodeclasses', []],
    ['nodepools', []],
    ['nodeclaims', []],
  ]);
  objects.set(kube, byPlural);
  seeded.add(cluster);
  const lookup = lookups.get(world) ?? (() => undefined);
  const classes = byPlural.get('ec2nodeclasses')!;
  const pools = byPlural.get('nodepools')!;
  const claims = byPlural.get('nodeclaims')!;
  const resolved = new Map<string, { id: string; arch: string }[]>();
  for (const nc of cluster.karpenter?.nodeClasses ?? []) {
    const { amis, conditions } = resolveAlias(lookup, cluster, nc.alias ?? '');
    resolved.set(nc.name, amis);
    classes.push({
      apiVersion: 'karpenter.k8s.aws/v1',
      kind: 'EC2NodeClass',
      metadata: { name: nc.name },
      spec: { amiSelectorTerms: nc.terms ?? (nc.alias ? [{ alias: nc.alias }] : []), role: 'KarpenterNodeRole' },
      status: { amis: amis.map(({ arch: _arch, ...a }) => a), conditions },
    });
  }
  const auto = (cluster.autoMode?.nodePools ?? []).map((p) => ({ p, auto: true }));
  for (const { p, auto: isAuto } of [...(cluster.karpenter?.nodePools ?? []).map((p) => ({ p, auto: false })), ...auto]) {
    pools.push({
      apiVersion: 'karpenter.sh/v1',
      kind: 'NodePool',
      metadata: { name: p.name },
      spec: {
        template: {
          spec: {
            nodeClassRef: isAuto
              ? { group: 'eks.amazonaws.com', kind: 'NodeClass', name: p.nodeClass }
              : { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: p.nodeClass },
            requirements: p.requirements ?? [],
            ...(p.expireAfter ? { expireAfter: p.expireAfter } : {}),
          },
        },
        disruption: { consolidationPolicy: 'WhenEmptyOrUnderutilized', ...(p.budgets ? { budgets: p.budgets } : {}) },
      },
    });
    let i = 0;
    for (const group of p.nodes ?? []) {
      for (let n = 0; n < group.count; n++, i++) {
        const arch = group.arch ?? 'amd64';
        const ec2Arch = arch === 'amd64' ? 'x86_64' : 'arm64';
        const current = resolved.get(p.nodeClass)?.find((a) => a.arch === ec2Arch)?.id;
        const older = `ami-${createHash('sha1').update(`older/${p.nodeClass}/${ec2Arch}`).digest('hex').slice(0, 17)}`;
        const image = isAuto
          ? `ami-${createHash('sha1').update(`auto/${cluster.name}`).digest('hex').slice(0, 17)}`
          : group.image === 'older' || !current
            ? older
            : current;
        const claim = `${p.name}-${(i + 1).toString(36).padStart(5, '0')}`;
        // Unique in the cluster: the NodeClaim's name (itself unique) in an EC2 private DNS name.
        const node = `i-${claim}.${cluster.region}.compute.internal`;
        const createdAt = new Date(now - (group.ageDays ?? 1) * 86_400_000).toISOString();
        const labels: Record<string, string> = {
          'karpenter.sh/nodepool': p.name,
          'kubernetes.io/arch': arch,
          ...(isAuto ? { 'eks.amazonaws.com/compute-type': 'auto' } : { 'karpenter.k8s.aws/ec2nodeclass': p.nodeClass }),
        };
        if (!isAuto) {
          claims.push({
            apiVersion: 'karpenter.sh/v1',
            kind: 'NodeClaim',
            metadata: { name: claim, labels, creationTimestamp: createdAt },
            spec: { nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: p.nodeClass } },
            status: {
              imageID: image,
              nodeName: node,
              providerID: `aws:///${cluster.region}a/i-${claim}`,
              // The root Ready condition is Launched, Registered and Initialized (kubernetes-sigs/karpenter
              // pkg/apis/v1/nodeclaim_status.go); a node that never initialises leaves it False.
              conditions: ['Launched', 'Registered', 'Initialized', 'Ready'].map((type) => ({
                type,
                status: group.notReady && (type === 'Initialized' || type === 'Ready') ? 'False' : 'True',
              })),
            },
          });
        }
        kube.nodes.set(node, {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: node, labels, creationTimestamp: createdAt },
          spec: { providerID: `aws:///${cluster.region}a/i-${claim}` },
          status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { osImage: isAuto ? 'Bottlerocket (EKS Auto)' : 'Amazon Linux 2023' } },
        });
      }
    }
  }
  startDrift(kube, now);
  return byPlural;
}

/** Whether the cluster serves Karpenter's CRDs (installed, or Auto Mode's built-in Karpenter). */
export const servesKarpenter = (cluster: SimCluster) => !!cluster.karpenter || !!cluster.autoMode;

/**
 * For tests: the cluster's Karpenter objects are made again from its spec on the next request, as
 * once a changed EC2NodeClass is applied and Karpenter has replaced its drifted nodes (the end state
 * of Karpenter's drift: NodeClaims on the images the class resolves now).
 */
export function settleKarpenter(cluster: SimCluster): void {
  seeded.delete(cluster);
}
