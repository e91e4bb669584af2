import { describe, expect, it } from '@jest/globals';
import { classify, confirmParameters, kindOf } from '../../src/kinds/registry.js';
import { requiredFlavours } from '../../src/decision/karpenter-alias.js';
import { readKarpenter } from '../../src/fleet/karpenter-reads.js';
import type { ClusterState, LatestRelease, NodegroupState } from '../../src/model/fleet.js';
import type { NodeClaimRead, NodePoolRead } from '../../src/model/karpenter-objects.js';

const NOW = new Date('2026-11-21T12:00:00Z');
const DAY = 86_400_000;
const cluster: ClusterState = { name: 'kp', region: 'us-east-1', version: '1.35', nodegroups: [] };

// The parameters Karpenter reads (aws/karpenter-provider-aws pkg/providers/amifamily/al2023.go resolvePath, bottlerocket.go).
const AL = '/aws/service/eks/optimized-ami/1.35/amazon-linux-2023';
const recommended = (arch: string, variant = 'standard') => `${AL}/${arch}/${variant}/recommended/release_version`;
const versioned = (arch: string, version: string, variant = 'standard') =>
  `${AL}/${arch}/${variant}/amazon-eks-node-al2023-${arch}-${variant}-1.35-${version}/image_id`;

const pool = (name: string, nodeClass: string, requirements: NodePoolRead['requirements'] = []): NodePoolRead => ({
  name,
  nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: nodeClass },
  requirements,
  expireAfter: '720h',
  budgets: [],
});
const bothArchs = [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] }];

function nodeClass(alias: string, opts: { pools?: NodePoolRead[]; amis?: string[]; claims?: (string | null)[] } = {}): NodegroupState {
  const claims: NodeClaimRead[] = (opts.claims ?? []).map((imageId, i) => ({ name: `c${i}`, nodePool: 'p', nodeClass: 'default', imageId, nodeName: `n${i}` }));
  return {
    name: 'default',
    kind: 'karpenter',
    version: '1.35',
    nodeClass: {
      name: 'default',
      amiFamily: null,
      terms: [{ alias }],
      amis: (opts.amis ?? []).map((id) => ({ id, name: null, deprecated: false, requirements: [] })),
      ready: null,
      nodePools: opts.pools ?? [pool('p', 'default', bothArchs)],
      nodeClaims: claims,
    },
  };
}

const found = (releaseVersion: string, daysAgo: number): LatestRelease => ({
  kind: 'found',
  releaseVersion,
  publishedAt: new Date(NOW.getTime() - daysAgo * DAY),
});
const image = (id: string): LatestRelease => ({ kind: 'image', imageId: id });
const missing: LatestRelease = { kind: 'missing' };

/** SSM as of mid-July 2026: v20260714 was published for x86_64 at 1.35, not for arm64, whose newest is v20260625. */
const ssm: Record<string, LatestRelease> = {
  [recommended('x86_64')]: found('1.35.6-20260714', 20),
  [recommended('arm64')]: found('1.35.6-20260625', 40),
  [versioned('x86_64', 'v20260505')]: image('ami-0a505'),
  [versioned('arm64', 'v20260505')]: image('ami-0b505'),
  [versioned('x86_64', 'v20260625')]: image('ami-0a625'),
  [versioned('arm64', 'v20260625')]: image('ami-0b625'),
  [versioned('x86_64', 'v20260714')]: image('ami-0a714'),
  [versioned('arm64', 'v20260714')]: missing,
  [versioned('x86_64', 'v20251108')]: missing,
  [versioned('arm64', 'v20251108')]: missing,
};
const run = (ng: NodegroupState, latest: Record<string, LatestRelease> = ssm, minAgeDays = 7) =>
  classify(cluster, ng, (p) => latest[p], { minReleaseAgeMs: minAgeDays * DAY, now: NOW });

describe('a Karpenter EC2NodeClass in the check', () => {
  it('reads the newest release of each architecture its NodePools allow, and the pinned version for each, as Karpenter names them', () => {
    const ng = nodeClass('al2023@v20260505');
    expect(
      kindOf(ng)
        .targetParameters(ng)
        .map((r) => r.parameter),
    ).toEqual([recommended('x86_64'), recommended('arm64'), versioned('x86_64', 'v20260505'), versioned('arm64', 'v20260505')]);
    // then the target, confirmed for each architecture
    expect(confirmParameters(ng, (p) => ssm[p]).map((r) => r.parameter)).toEqual([versioned('x86_64', 'v20260625'), versioned('arm64', 'v20260625')]);
  });

  it('is drift to the newest version published for every architecture (not the x86_64-only v20260714), pinned by its alias in the manifest', () => {
    const r = run(nodeClass('al2023@v20260505', { amis: ['ami-0a505', 'ami-0b505'], claims: ['ami-0a505', 'ami-0old1', 'ami-0old2'] }));
    expect(r).toMatchObject({
      status: 'drift',
      nodeKind: 'karpenter',
      pinKey: 'alias',
      kind: 'karpenter',
      releaseVersion: 'v20260505',
      latestReleaseVersion: 'v20260625',
    });
    expect(r.nodeClass).toMatchObject({
      targetAlias: 'al2023@v20260625',
      required: ['x86_64/standard', 'arm64/standard'],
      missing: [],
      nodes: 3,
      onOlderImage: 2,
      selector: 'alias al2023@v20260505',
    });
    expect(r.reason).toContain('al2023@v20260505 → al2023@v20260625');
    expect(r.reason).toContain("proposed in the cluster's pull request");
    expect(r.reason).toContain('2 of 3 node(s) still on an older image than the class resolves');
  });

  it('moves to v20260714 when its NodePools allow only amd64', () => {
    const r = run(nodeClass('al2023@v20260505', { pools: [pool('p', 'default', [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }])] }));
    expect(r.status).toBe('drift');
    expect(r.nodeClass?.targetAlias).toBe('al2023@v20260714');
  });

  it('says a pin that does not exist for the cluster minor fails the node class (al2023@v20251108 was never published for 1.35)', () => {
    const r = run(nodeClass('al2023@v20251108'));
    expect(r.status).toBe('drift');
    expect(r.reason).toContain('al2023@v20251108 does not resolve for Kubernetes 1.35');
    expect(r.reason).toContain('launches no node from it');
    expect(r.nodeClass?.missing).toEqual(['x86_64/standard', 'arm64/standard']);
  });

  it('waits, naming arm64, when the pin is published for x86_64 only: Karpenter skips arm64 and those nodes cannot launch', () => {
    const r = run(nodeClass('al2023@v20260714'));
    expect(r.status).toBe('waiting');
    expect(r.reason).toContain('al2023@v20260714 is not published for arm64/standard at 1.35');
    expect(r.nodeClass?.missing).toEqual(['arm64/standard']);
  });

  it('is up-to-date on the newest version every architecture has', () => {
    expect(run(nodeClass('al2023@v20260625')).status).toBe('up-to-date');
  });

  it('is soaking while that version is younger than min-release-age', () => {
    const r = run(nodeClass('al2023@v20260505'), ssm, 60);
    expect(r.status).toBe('soaking');
    expect(r.reason).toContain('under min-release-age');
  });

  it("reports @latest with what it resolves to today and Karpenter's warning, and counts its nodes not yet replaced", () => {
    const r = run(nodeClass('al2023@latest', { amis: ['ami-0a714', 'ami-0b625'], claims: ['ami-0a714', 'ami-0a625'] }));
    expect(r.status).toBe('tracks-latest');
    expect(r.reason).toContain('al2023@latest resolves today to al2023@v20260625 for Kubernetes 1.35');
    expect(r.reason).toContain('Karpenter heavily recommends against @latest in production');
    expect(r.nodeClass?.onOlderImage).toBe(1);
  });

  it('is custom for id, name or tag selectors, and unsupported on AL2', () => {
    const ng = nodeClass('x');
    ng.nodeClass!.terms = [{ tags: { team: 'ml' } }];
    ng.nodeClass!.amis = [{ id: 'ami-0custom', name: 'ml', deprecated: false, requirements: [] }];
    const custom = run(ng);
    expect(custom.status).toBe('custom');
    expect(custom.reason).toContain('selected by tags team=ml');
    expect(run(nodeClass('al2@v20251209')).status).toBe('unsupported');
  });

  it('compares a Bottlerocket pin by its OS version', () => {
    const br = '/aws/service/bottlerocket/aws-k8s-1.35';
    const latest = {
      [`${br}/x86_64/latest/image_version`]: found('1.34.0-18d04e52', 30),
      [`${br}/arm64/latest/image_version`]: found('1.34.0-18d04e52', 30),
      [`${br}/x86_64/1.34.0/image_id`]: image('ami-0br1'),
      [`${br}/arm64/1.34.0/image_id`]: image('ami-0br2'),
    };
    expect(
      kindOf(nodeClass('bottlerocket@v1.34.0'))
        .targetParameters(nodeClass('bottlerocket@v1.34.0'))
        .map((r) => r.parameter),
    ).toEqual([`${br}/x86_64/latest/image_version`, `${br}/arm64/latest/image_version`, `${br}/x86_64/1.34.0/image_id`, `${br}/arm64/1.34.0/image_id`]);
    expect(run(nodeClass('bottlerocket@v1.34.0'), latest).status).toBe('up-to-date');
  });
});

describe('the architectures and variants a node class must resolve for', () => {
  it("follows kubernetes.io/arch and the GPU and accelerator count requirements, as Karpenter's variants do", () => {
    const text = (pools: NodePoolRead[]) => requiredFlavours('al2023', pools).map((f) => `${f.arch}/${f.variant}`);
    expect(text([])).toEqual(['x86_64/standard']);
    expect(text([pool('p', 'c', [{ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] }])])).toEqual(['arm64/standard']);
    expect(
      text([
        pool('gpu', 'c', [
          { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
          { key: 'karpenter.k8s.aws/instance-gpu-count', operator: 'Exists', values: [] },
        ]),
      ]),
    ).toEqual(['x86_64/nvidia']);
    // no requirement at all: both architectures, standard instances
    expect(text([pool('any', 'c')])).toEqual(['x86_64/standard', 'arm64/standard']);
  });
});

describe('an EKS Auto Mode NodePool in the check', () => {
  it('reports node ages against its expiry and the 21-day limit, and its budgets; nothing pinned', () => {
    const ng: NodegroupState = {
      name: 'general-purpose',
      kind: 'auto-mode',
      version: '1.35',
      autoModePool: {
        pool: {
          name: 'general-purpose',
          nodeClassRef: { group: 'eks.amazonaws.com', kind: 'NodeClass', name: 'default' },
          requirements: [],
          expireAfter: '336h',
          budgets: [{ nodes: '0', schedule: '0 9 * * mon-fri', duration: '8h', reasons: ['Drifted'] }],
        },
        nodes: [
          { name: 'a', createdAt: new Date(NOW.getTime() - 3 * DAY).toISOString() },
          { name: 'b', createdAt: new Date(NOW.getTime() - 12 * DAY).toISOString() },
        ],
      },
    };
    const r = run(ng);
    expect(r).toMatchObject({ status: 'auto-mode', pinKey: null, nodeKind: 'auto-mode', nodes: 2 });
    expect(r.autoMode).toMatchObject({ expireAfter: '336h', maxLifetimeDays: 21, nodeAgesDays: [12, 3], nodeClass: 'default' });
    expect(r.reason).toContain('the oldest 12 days old, replaced within 2 days');
    expect(r.reason).toContain('expireAfter 336h (14 days)');
    expect(r.reason).toContain('21 days at the latest');
    expect(r.reason).toContain('0 node(s) from "0 9 * * mon-fri" for 8h for Drifted');
    ng.autoModePool!.pool.budgets = [];
    expect(run(ng).reason).toContain("Karpenter's default, 10% of the nodes");
  });
});

describe("reading a cluster's Karpenter objects", () => {
  const nodeClassObject = {
    metadata: { name: 'default' },
    spec: { amiSelectorTerms: [{ alias: 'al2023@v20260505' }] },
    status: { amis: [{ id: 'ami-0a505', requirements: [] }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
  const poolObject = {
    metadata: { name: 'general' },
    spec: {
      template: { spec: { nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'default' }, requirements: bothArchs, expireAfter: '720h' } },
      disruption: { budgets: [{ nodes: '10%' }, { nodes: '0', schedule: '0 9 * * *', duration: '8h', reasons: ['Drifted'] }] },
    },
  };
  const claimObject = (name: string, imageID?: string) => ({
    metadata: { name, labels: { 'karpenter.sh/nodepool': 'general' } },
    spec: { nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'default' } },
    status: imageID ? { imageID, nodeName: `${name}.node` } : {},
  });
  function fakeKube(served: Record<string, object[] | number>) {
    const calls: string[] = [];
    return {
      calls,
      kube: {
        listClusterObjects: async (_group: string, _version: string, plural: string) => {
          calls.push(plural);
          const answer = served[plural] ?? 404;
          if (typeof answer === 'number') throw Object.assign(new Error(`HTTP ${answer}`), { code: answer });
          return answer;
        },
        listNodes: async (selector: string) => {
          calls.push(`nodes ${selector}`);
          return [] as never[];
        },
      },
    };
  }

  it('reads nothing more where Karpenter is not installed (404), and throws a refusal (403) for the caller to report', async () => {
    const none = fakeKube({});
    await expect(readKarpenter(none.kube, cluster)).resolves.toEqual([]);
    expect(none.calls).toEqual(['ec2nodeclasses']);
    await expect(readKarpenter(fakeKube({ ec2nodeclasses: 403 }).kube, cluster)).rejects.toMatchObject({ code: 403 });
  });

  it('links NodePools and NodeClaims to their node class, and a NodeClaim still launching (no image yet) is not counted as drifted', async () => {
    const { kube, calls } = fakeKube({
      ec2nodeclasses: [nodeClassObject],
      nodepools: [poolObject],
      nodeclaims: [claimObject('a', 'ami-0a505'), claimObject('b', 'ami-0old'), claimObject('c')],
    });
    const [entry] = await readKarpenter(kube, cluster);
    expect(calls.sort()).toEqual(['ec2nodeclasses', 'nodeclaims', 'nodepools']);
    expect(entry).toMatchObject({ name: 'default', kind: 'karpenter', version: '1.35' });
    expect(entry!.nodeClass!.nodePools[0]!.budgets).toEqual([
      { nodes: '10%', schedule: null, duration: null, reasons: null },
      { nodes: '0', schedule: '0 9 * * *', duration: '8h', reasons: ['Drifted'] },
    ]);
    const r = run(entry!);
    expect(r.nodeClass).toMatchObject({ nodes: 3, onOlderImage: 1, nodePools: ['general'] });
  });

  it('in an Auto Mode cluster, reads its NodePools on eks.amazonaws.com NodeClasses and their nodes by label', async () => {
    const autoPool = {
      metadata: { name: 'general-purpose' },
      spec: { template: { spec: { nodeClassRef: { group: 'eks.amazonaws.com', kind: 'NodeClass', name: 'default' } } } },
    };
    const { kube, calls } = fakeKube({ nodepools: [autoPool] });
    const entries = await readKarpenter(kube, { ...cluster, autoMode: true });
    expect(entries.map((e) => [e.name, e.kind])).toEqual([['general-purpose', 'auto-mode']]);
    expect(calls.sort()).toEqual(['ec2nodeclasses', 'nodepools', 'nodes eks.amazonaws.com/compute-type=auto']);
  });
});
