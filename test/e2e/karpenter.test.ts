import { afterEach, describe, expect, it } from '@jest/globals';
import { readmeRbacRules } from './readme.js';
import { amazonLinuxParameters, bottlerocketParameter, notPublishedFor } from '../sim/releases.js';
import { awsImageName } from '../sim/images.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import { runAction } from '../sim/run-action.js';
import type { FleetSpec, SimCluster } from '../sim/fleet.js';
import type { CheckReport } from '../../src/model/check-report.js';

/** The check of Karpenter node classes and EKS Auto Mode node pools, `node dist/index.js` against the simulator. */
let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function check(fleet: FleetSpec, options: Parameters<typeof startSimulator>[1] = {}) {
  sim = await startSimulator(fleet, options);
  const run = await runAction({ inputs: { regions: 'us-east-1' }, env: { ...sim.env(), AWS_REGION: 'us-east-1' } });
  const report = run.outputs.report ? (JSON.parse(run.outputs.report) as CheckReport) : undefined;
  return { run, report, sim };
}

const rows = (report: CheckReport | undefined) => Object.fromEntries((report?.nodegroups ?? []).map((n) => [`${n.cluster}/${n.nodegroup}`, n.status]));

// v20260714 was published for x86_64 at 1.35 and (in this fleet) never for arm64: arm64's newest is v20260625.
const arm64Gap = notPublishedFor('AL2023_ARM_64_STANDARD', '1.35', 'v20260714', awsImageName('AL2023_ARM_64_STANDARD', '1.35', '1.35.6-20260714'), [
  'us-east-1',
]);

/** A 1.35 cluster with one managed node group and three EC2NodeClasses: AL2023 pinned old, Bottlerocket pinned current, AL2023 @latest. */
function karpenterFleet(): FleetSpec {
  const cluster: SimCluster = {
    name: 'kp',
    region: 'us-east-1',
    version: '1.35',
    nodegroups: [{ name: 'system', amiType: 'AL2023_x86_64_STANDARD', version: '1.35', releaseVersion: '1.35.6-20260714', desiredSize: 2 }],
    karpenter: {
      nodeClasses: [
        { name: 'al2023-pinned', alias: 'al2023@v20260505' },
        { name: 'bottlerocket', alias: 'bottlerocket@v1.34.0' },
        { name: 'al2023-latest', alias: 'al2023@latest' },
      ],
      nodePools: [
        {
          name: 'general',
          nodeClass: 'al2023-pinned',
          requirements: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] }],
          nodes: [
            { count: 2, arch: 'amd64' },
            { count: 1, arch: 'arm64', image: 'older' },
          ],
        },
        { name: 'secure', nodeClass: 'bottlerocket', requirements: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }], nodes: [{ count: 1 }] },
        {
          name: 'batch',
          nodeClass: 'al2023-latest',
          requirements: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }],
          nodes: [{ count: 1 }, { count: 1, image: 'older' }],
        },
      ],
    },
  };
  return {
    clusters: [cluster],
    parameters: [
      ...arm64Gap.parameters,
      ...amazonLinuxParameters(),
      bottlerocketParameter('1.35', 'x86_64', '1.34.0-18d04e52', '2026-08-01T00:00:00Z'),
      bottlerocketParameter('1.35', 'arm64', '1.34.0-18d04e52', '2026-08-01T00:00:00Z'),
    ],
    unpublished: arm64Gap.unpublished,
  };
}

describe('check of Karpenter node classes, as the bundled action', () => {
  it('gives one report with the managed node group and three node classes: the old pin drifts to a version every architecture has', async () => {
    const kubeAllow = [...readmeRbacRules(), ...readmeRbacRules('rbac:check')];
    const { run, report, sim: s } = await check(karpenterFleet(), { faults: { kubeAllow } });
    expect(run.code).toBe(0);
    expect(rows(report)).toEqual({
      'kp/al2023-latest': 'tracks-latest',
      'kp/al2023-pinned': 'drift',
      'kp/bottlerocket': 'up-to-date',
      'kp/system': 'up-to-date',
    });
    expect(report?.nodeClassesUnchecked).toBeUndefined();
    const pinned = report!.nodegroups.find((n) => n.nodegroup === 'al2023-pinned')!;
    // v20260714 is not published for arm64 at 1.35, which the NodePool allows: v20260625 is the version to move to
    expect(pinned).toMatchObject({ kind: 'karpenter', pinKey: 'alias', releaseVersion: 'v20260505', latestReleaseVersion: 'v20260625' });
    expect(pinned.nodeClass).toMatchObject({ targetAlias: 'al2023@v20260625', required: ['x86_64/standard', 'arm64/standard'], nodes: 3, onOlderImage: 1 });
    expect(pinned.reason).toContain("proposed in the cluster's pull request");
    const latest = report!.nodegroups.find((n) => n.nodegroup === 'al2023-latest')!;
    expect(latest.reason).toContain('al2023@latest resolves today to al2023@v20260714 for Kubernetes 1.35');
    expect(latest.reason).toContain('Karpenter heavily recommends against @latest in production');
    expect(latest.nodeClass?.onOlderImage).toBe(1);
    expect(report?.counts).toMatchObject({ drift: 1, 'up-to-date': 2, 'tracks-latest': 1 });
    expect(report?.clusters[0]).toMatchObject({ nodegroups: 1, nodeClasses: 3 });
    expect(run.summary).toContain('al2023-pinned · _Karpenter EC2NodeClass_');
    expect(run.summary).toContain('🎯 1 tracks-latest');
    // read-only, and the Kubernetes reads bounded: EC2NodeClasses, NodePools, NodeClaims, once each
    expect(s.kubeLog.every((c) => c.method === 'GET')).toBe(true);
    const karpenterReads = s.kubeLog.filter((c) => /\/apis\/karpenter\./.test(c.path)).map((c) => c.path.replace(/^\/k8s\/[^/]+\/[^/]+/, ''));
    expect(karpenterReads.sort()).toEqual(['/apis/karpenter.k8s.aws/v1/ec2nodeclasses', '/apis/karpenter.sh/v1/nodeclaims', '/apis/karpenter.sh/v1/nodepools']);
  });

  it('says which clusters it could not look at when the RBAC lacks the node classes, and checks the node groups', async () => {
    const { run, report } = await check(karpenterFleet(), { faults: { kubeAllow: readmeRbacRules() } });
    expect(run.code).toBe(0);
    expect(rows(report)).toEqual({ 'kp/system': 'up-to-date' });
    expect(report?.nodeClassesUnchecked).toEqual([expect.stringMatching(/^kp \(us-east-1\): .*ec2nodeclasses.*forbidden/)]);
    expect(run.summary).toContain('Karpenter node classes not looked at in 1 cluster(s)');
  });

  it('reports a node class whose pin was never published for the cluster minor, which Karpenter cannot resolve', async () => {
    const fleet = karpenterFleet();
    fleet.clusters[0]!.karpenter!.nodeClasses[0]!.alias = 'al2023@v20251108';
    const { run, report } = await check(fleet);
    expect(run.code).toBe(0);
    const pinned = report!.nodegroups.find((n) => n.nodegroup === 'al2023-pinned')!;
    expect(pinned.status).toBe('drift');
    expect(pinned.nodeClass?.resolved).toEqual([]);
    expect(pinned.reason).toContain('al2023@v20251108 does not resolve for Kubernetes 1.35');
    // as Karpenter itself says on the node class (pkg/controllers/nodeclass/ami.go)
    expect(pinned.reason).toContain('Karpenter reports the node class not Ready');
  });
});

describe('check of an EKS Auto Mode cluster, as the bundled action', () => {
  it('reports its node pools with node ages, expiry and the 21-day limit, and budgets, without error and nothing to propose', async () => {
    const fleet: FleetSpec = {
      clusters: [
        {
          name: 'auto',
          region: 'us-east-1',
          version: '1.35',
          nodegroups: [],
          autoscaler: null,
          autoMode: {
            nodePools: [
              {
                name: 'general-purpose',
                nodeClass: 'default',
                expireAfter: '336h',
                nodes: [
                  { count: 1, ageDays: 3 },
                  { count: 1, ageDays: 12 },
                ],
              },
              {
                name: 'system',
                nodeClass: 'default',
                expireAfter: '336h',
                budgets: [{ nodes: '0', schedule: '0 9 * * mon-fri', duration: '8h', reasons: ['Drifted'] }],
                nodes: [{ count: 1, arch: 'arm64', ageDays: 1 }],
              },
            ],
          },
        },
      ],
      parameters: amazonLinuxParameters(),
    };
    const { run, report, sim: s } = await check(fleet, { faults: { kubeAllow: [...readmeRbacRules(), ...readmeRbacRules('rbac:check')] } });
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('::error');
    expect(rows(report)).toEqual({ 'auto/general-purpose': 'auto-mode', 'auto/system': 'auto-mode' });
    expect(report?.clusters[0]).toMatchObject({ autoMode: true, nodegroups: 0 });
    expect(report?.drift).toBe(false);
    const general = report!.nodegroups.find((n) => n.nodegroup === 'general-purpose')!;
    expect(general).toMatchObject({ pinKey: null, nodes: 2 });
    expect(general.autoMode).toMatchObject({ expireAfter: '336h', maxLifetimeDays: 21 });
    expect(general.autoMode!.nodeAgesDays.map(Math.round)).toEqual([12, 3]);
    expect(general.reason).toContain('21 days at the latest');
    const system = report!.nodegroups.find((n) => n.nodegroup === 'system')!;
    expect(system.reason).toContain('0 node(s) from "0 9 * * mon-fri" for 8h for Drifted');
    expect(run.summary).toContain('general-purpose · _EKS Auto Mode NodePool_');
    // no EC2NodeClass CRD in Auto Mode (404, not an error); its NodePools and its nodes, once each
    const reads = s.kubeLog.map((c) => c.path.replace(/^\/k8s\/[^/]+\/[^/]+/, '')).filter((p) => /karpenter|nodes\?|nodes$/.test(p));
    expect(reads.filter((p) => p.includes('ec2nodeclasses'))).toHaveLength(1);
    expect(reads.filter((p) => p.includes('nodepools'))).toHaveLength(1);
  });
});
