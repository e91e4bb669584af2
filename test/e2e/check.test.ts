import { afterEach, describe, expect, it } from '@jest/globals';
import { readmePolicyActions } from './readme.js';
import { exampleFleet, generatedFleet } from '../sim/example-fleet.js';
import { amazonLinuxParameters, amazonLinuxReleases, bottlerocketParameter } from '../sim/releases.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import { runAction } from '../sim/run-action.js';
import type { CheckReport } from '../../src/model/check-report.js';

/** `node dist/index.js` run the way a runner runs it, against the simulator. */
let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function check(inputs: Record<string, string>, fleet = exampleFleet(), options: Parameters<typeof startSimulator>[1] = {}) {
  sim = await startSimulator(fleet, options);
  const run = await runAction({ inputs, env: { ...sim.env(), AWS_REGION: 'us-east-1' } });
  const report = run.outputs.report ? (JSON.parse(run.outputs.report) as CheckReport) : undefined;
  return { run, report, sim };
}

const statusOf = (report: CheckReport | undefined) =>
  Object.fromEntries((report?.nodegroups ?? []).map((n) => [`${n.cluster}/${n.nodegroup ?? '*'}`, n.status]));

describe('check, as the bundled action', () => {
  it('keeps the summary under 1 MiB and the report output under 1 MB for 5,000 node groups, with the whole report in report-file', async () => {
    const { run, sim: s } = await check({ regions: 'us-east-1' }, generatedFleet(1000), { pageSize: 100 });
    expect(run.code).toBe(0);
    expect(Buffer.byteLength(run.summary)).toBeLessThan(1024 * 1024);
    expect(run.summary).toContain("Shortened to stay under GitHub's 1 MiB job summary limit");
    expect(Buffer.byteLength(run.outputs.report!)).toBeLessThan(1_000_000);
    const whole = JSON.parse(run.reportFile!) as CheckReport;
    expect(whole.nodegroups).toHaveLength(5000);
    expect(whole.clusters).toHaveLength(1000);
    expect(run.outputs['report-file']).toMatch(/eks-ami-drift\/report-.*\.json$/);
    const output = JSON.parse(run.outputs.report!) as CheckReport & { truncated?: { nodegroups: number; kept: number } };
    expect(output.truncated).toMatchObject({ nodegroups: 5000 });
    expect(output.nodegroups.every((n) => n.status !== 'up-to-date')).toBe(true);
    expect(s.counts()['eks:DescribeNodegroup']).toBe(5000);
  }, 120_000);

  it('reports an AL2 node group on 1.31 as unsupported with its end-of-support date, and reads a Bottlerocket commit of digits as a commit', async () => {
    const fleet = {
      clusters: [
        {
          name: 'legacy',
          region: 'us-east-1',
          version: '1.31',
          nodegroups: [
            {
              name: 'al2',
              amiType: 'AL2_x86_64',
              version: '1.31',
              releaseVersion: amazonLinuxReleases()
                .filter((r) => r.amiType === 'AL2_x86_64' && r.minor === '1.31')
                .at(-1)!.releaseVersion,
            },
            { name: 'br', amiType: 'BOTTLEROCKET_x86_64', version: '1.31', releaseVersion: '1.4.0-42360701' },
          ],
        },
      ],
      parameters: [...amazonLinuxParameters(), bottlerocketParameter('1.31', 'x86_64', '1.4.0-42360701', '2026-10-01T00:00:00Z')],
    };
    const { run, report } = await check({ regions: 'us-east-1' }, fleet);
    expect(run.code).toBe(0);
    expect(report?.nodegroups.map((n) => [n.nodegroup, n.status])).toEqual([
      ['al2', 'unsupported'],
      ['br', 'up-to-date'],
    ]);
    expect(report?.nodegroups[0]!.reason).toContain('Amazon Linux 2 AMIs reached end of support on 2025-11-26');
    expect(run.summary).toContain('migrate to AL2023 or Bottlerocket');
  });

  it('reports every node group of the example fleet, with outputs and a job summary', async () => {
    const { run, report } = await check({ regions: 'us-east-1,eu-west-1', 'min-release-age': '36h' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(statusOf(report)).toEqual({
      'prod-payments/general': 'drift',
      'prod-payments/gpu': 'up-to-date',
      'prod-payments/legacy': 'unsupported',
      'prod-payments/prod-payments-batch': 'up-to-date',
      'prod-search/bespoke': 'drift',
      'prod-search/indexers': 'behind-control-plane',
      'prod-search/prod-search-ingress': 'custom',
      'prod-search/system': 'drift',
      'staging/arm': 'soaking',
      'staging/general': 'up-to-date',
    });
    expect(report?.nodegroups.find((n) => n.nodegroup === 'general' && n.cluster === 'prod-payments')).toMatchObject({
      region: 'us-east-1',
      amiType: 'AL2023_x86_64_STANDARD',
      kubernetesVersion: '1.33',
      controlPlaneVersion: '1.33',
      releaseVersion: '1.33.12-20260610',
      latestReleaseVersion: '1.33.13-20260714',
      nodes: 6,
    });
    expect(run.outputs.drift).toBe('true');
    expect(JSON.parse(run.outputs.matrix ?? '')).toEqual({
      include: [
        { cluster: 'staging', region: 'eu-west-1' },
        { cluster: 'prod-payments', region: 'us-east-1' },
        { cluster: 'prod-search', region: 'us-east-1' },
      ],
    });
    expect(run.summary).toContain('## EKS AMI drift');
    expect(run.summary).toContain('4 of 10 node groups should be upgraded');
    expect(run.summary).toMatch(/\| general \| AL2023_x86_64_STANDARD \| 1\.33 \| 1\.33\.12-20260610 \| 1\.33\.13-20260714 \| ⬆️ drift \|/);
    expect(run.summary).toContain('migrate to AL2023');
    expect(run.stdout).toContain('prod-payments/general: drift');
  });

  it('sees Bottlerocket nodes updated in place (not drift), and a CUSTOM node group on an older minor’s image as behind-control-plane', async () => {
    // Issue 23 items 3 and 4: brupop moved the nodes of `system` from 1.26.0 to 1.34.0, the latest
    // release; `old-image` is a CUSTOM node group whose launch template names an AL2023 1.32 image.
    const fleet = {
      clusters: [
        {
          name: 'brupop',
          region: 'us-east-1',
          version: '1.33',
          nodegroups: [
            { name: 'system', amiType: 'BOTTLEROCKET_x86_64', version: '1.33', releaseVersion: '1.26.0-85f0d68c', desiredSize: 2, inPlace: '1.34.0' },
            { name: 'stale', amiType: 'BOTTLEROCKET_x86_64', version: '1.33', releaseVersion: '1.26.0-85f0d68c', desiredSize: 1 },
            {
              name: 'old-image',
              amiType: 'CUSTOM',
              version: '1.33',
              releaseVersion: '',
              launchTemplate: { id: 'lt-0old', name: 'old-image', version: '1', image: { aws: 'amazon-eks-node-al2023-x86_64-standard-1.32-v20260714' } },
            },
          ],
        },
      ],
      parameters: [...amazonLinuxParameters(), bottlerocketParameter('1.33', 'x86_64', '1.34.0-18d04e52', '2026-11-01T00:00:00Z')],
    };
    const { run, report, sim: s } = await check({ regions: 'us-east-1' }, fleet);
    expect(run.code).toBe(0);
    expect(statusOf(report)).toEqual({ 'brupop/system': 'up-to-date', 'brupop/stale': 'drift', 'brupop/old-image': 'behind-control-plane' });
    const system = report?.nodegroups.find((n) => n.nodegroup === 'system');
    expect(system?.inPlace).toEqual({ nodes: 2, updatedInPlace: 2, osVersions: ['1.34.0'], newest: '1.34.0' });
    expect(system?.reason).toContain("updated in place: all 2 node(s) run Bottlerocket 1.34.0 (latest release 1.34.0-18d04e52); the node group's own release");
    expect(report?.nodegroups.find((n) => n.nodegroup === 'old-image')?.reason).toContain("the image's Kubernetes 1.32");
    expect(report?.nodesUnchecked).toEqual([]);
    expect(run.summary).toContain('🔄 nodes run 1.34.0 (updated in place)');
    // One list of the cluster's nodes, by the node group label, and nothing but reads.
    const nodeLists = s.kubeLog.filter((c) => c.path.includes('/api/v1/nodes'));
    expect(nodeLists).toHaveLength(1);
    expect(s.kubeLog.every((c) => c.method === 'GET')).toBe(true);
  });

  it('compares by the release alone where the nodes cannot be read, and says so without failing', async () => {
    const fleet = {
      clusters: [
        {
          name: 'brupop',
          region: 'us-east-1',
          version: '1.33',
          nodegroups: [{ name: 'system', amiType: 'BOTTLEROCKET_x86_64', version: '1.33', releaseVersion: '1.26.0-85f0d68c', inPlace: '1.34.0' }],
        },
      ],
      parameters: [bottlerocketParameter('1.33', 'x86_64', '1.34.0-18d04e52', '2026-11-01T00:00:00Z')],
    };
    const { run, report } = await check({ regions: 'us-east-1' }, fleet, { faults: { kubeAllow: ['list deployments'] } });
    expect(run.code).toBe(0);
    expect(statusOf(report)).toEqual({ 'brupop/system': 'drift' });
    expect(report?.nodegroups[0]?.inPlace).toBeNull();
    expect(report?.nodesUnchecked).toEqual([expect.stringMatching(/^brupop \(us-east-1\): .*nodes.*forbidden/)]);
    expect(run.summary).toContain('Nodes not looked at in 1 cluster(s)');
  });

  it('bounds the look at the nodes of a cluster whose API never answers by kube-timeout, beside the pause look, and checks the rest', async () => {
    const bottlerocket = (name: string) => ({
      name,
      region: 'us-east-1',
      version: '1.33',
      nodegroups: [{ name: 'system', amiType: 'BOTTLEROCKET_x86_64', version: '1.33', releaseVersion: '1.26.0-85f0d68c', inPlace: '1.34.0' }],
    });
    const fleet = {
      clusters: [bottlerocket('hung'), bottlerocket('fine')],
      parameters: [bottlerocketParameter('1.33', 'x86_64', '1.34.0-18d04e52', '2026-11-01T00:00:00Z')],
    };
    const { run, report, sim: s } = await check({ regions: 'us-east-1', 'kube-timeout': '2s' }, fleet, { faults: { kubeHang: ['hung'] } });
    expect(run.code).toBe(0);
    expect(statusOf(report)).toEqual({ 'fine/system': 'up-to-date', 'hung/system': 'drift' });
    expect(report?.nodesUnchecked).toEqual([
      expect.stringMatching(/^hung \(us-east-1\): http:\/\/127\.0\.0\.1:\d+\/k8s\/us-east-1\/hung did not answer within 2 s \(kube-timeout\)$/),
    ]);
    expect(run.stdout).toContain('nodes not looked at (updates in place not seen) in hung (us-east-1): ');
    // The node list and the pause look each waited once, and each connection was closed at the deadline.
    expect(s.kubeHangLog.filter((c) => c.path?.includes('/api/v1/nodes'))).toHaveLength(1);
    for (const c of s.kubeHangLog) expect(c.closedAt! - c.at).toBeLessThan(2000 + 1000);
  });

  it('makes only the calls the report needs: one page walk, one describe each, GetParameters of up to 10 names, one GetParametersByPath', async () => {
    const { run, report, sim } = await check({}, generatedFleet(20), { pageSize: 3 });
    expect(run.code).toBe(0);
    expect(report?.nodegroups).toHaveLength(100);
    // 20 clusters of 5 node groups, pages of 3: 7 ListClusters pages, 2 ListNodegroups pages a cluster.
    // The 5 node groups have the same AMI types and minors in every cluster (AL2023 x86_64 1.33, AL2023
    // ARM 1.32, AL2023 NVIDIA 1.33, AL2 1.32, Bottlerocket x86_64 1.33): at most 5 parameters, one call.
    expect(sim.counts()).toEqual({
      'eks:ListClusters': 7,
      'eks:DescribeCluster': 20,
      'eks:ListNodegroups': 40,
      'eks:DescribeNodegroup': 100,
      // the Kubernetes support calendar of the one version they run (1.33): once for the region
      'eks:DescribeClusterVersions': 1,
      // the 5 latest-release parameters in one call; then, in a second, the own image parameter of
      // each drifted release (AL2023 x86_64 1.33, NVIDIA 1.33, Bottlerocket 1.34.0): is it in us-east-1?
      'ssm:GetParameters': 2,
      // the health gate's marks of the whole region: one paginated call (none written here, so one page)
      'ssm:GetParametersByPath': 1,
      // one tag-key filter for the 20 clusters; the pages hold every tagged group (here the 100
      // managed node groups' own, which are then left out): 34 pages of 3
      'autoscaling:DescribeAutoScalingGroups': 34,
    });
    expect(sim.log.filter((l) => l.status !== 200)).toEqual([]);
  });

  it('reports a cluster that does not exist, still checks the others, then fails the step', async () => {
    const { run, report } = await check({ clusters: 'ghost, prod-payments' });
    expect(run.code).toBe(1);
    expect(report?.nodegroups.find((n) => n.cluster === 'ghost')).toMatchObject({
      nodegroup: null,
      status: 'error',
      reason: 'ResourceNotFoundException: No cluster found for name: ghost.',
    });
    expect(statusOf(report)['prod-payments/general']).toBe('drift');
    expect(run.stdout).toContain('::error::1 could not be checked (ghost)');
    expect(run.summary).toContain('❌ 1 could not be checked');
    expect((JSON.parse(run.outputs.matrix ?? '') as { include: unknown }).include).toEqual([{ cluster: 'prod-payments', region: 'us-east-1' }]);
  });

  it('reports access denied with the AWS message naming the missing permission', async () => {
    const allow = ['eks:ListClusters', 'eks:DescribeCluster', 'eks:ListNodegroups', 'eks:DescribeNodegroup'];
    const { run, report } = await check({ clusters: 'prod-payments' }, exampleFleet(), { faults: { allow } });
    expect(run.code).toBe(1);
    const general = report?.nodegroups.find((n) => n.nodegroup === 'general');
    expect(general?.status).toBe('error');
    expect(general?.reason).toContain('AccessDeniedException');
    expect(general?.reason).toContain('ssm:GetParameters');
  });

  it('fails on drift only when asked, after writing the report', async () => {
    const { run } = await check({ clusters: 'prod-payments', 'fail-on-drift': 'true' });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('::error::1 node group(s) should be upgraded, and fail-on-drift is true.');
    expect(run.outputs.drift).toBe('true');
    expect(run.summary).toContain('should be upgraded');

    await sim?.close();
    const clean = await check({ clusters: 'staging', regions: 'eu-west-1', 'fail-on-drift': 'true', 'min-release-age': '7d' });
    expect(clean.run.code).toBe(0);
    expect(clean.run.outputs.drift).toBe('false');
  });

  it.each([
    [{ command: 'upgrade-everything' }, "Input 'command'"],
    [{ 'min-release-age': 'a week' }, "Input 'min-release-age'"],
    [{ clusters: 'prod; curl evil.example' }, "Input 'clusters'"],
    [{ regions: 'moon-1' }, "Input 'regions'"],
    [{ kubeconfig: '/nonexistent/kubeconfig' }, "Input 'kubeconfig'"],
  ])('rejects bad input %j before any AWS call', async (inputs, message) => {
    const { run, sim } = await check(inputs);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`::error::${message}`);
    expect(sim.log).toEqual([]);
    expect(run.outputs).toEqual({});
  });

  it('keeps the job summary readable at 500 node groups: one collapsible table per cluster', async () => {
    const { run, report } = await check({ 'min-release-age': '0' }, generatedFleet(100));
    expect(report?.nodegroups).toHaveLength(500);
    expect(run.summary.match(/<details/g)).toHaveLength(100);
    expect(run.summary.match(/^\| ng-\d \|/gm)).toHaveLength(500);
    // Per cluster of generatedFleet (control plane 1.33): ng-0 and ng-2 one release behind in every
    // other cluster (drift in 50 clusters each), ng-1 on 1.32 (behind-control-plane in all 100), ng-3 on
    // AL2 (unsupported), ng-4 on Bottlerocket 1.26.0 against 1.34.0 (drift in all 100): 300 to upgrade.
    expect(report?.counts).toMatchObject({ drift: 200, 'behind-control-plane': 100, unsupported: 100, 'up-to-date': 100 });
    expect(run.summary).toContain('300 of 500 node groups should be upgraded');
    expect(Buffer.byteLength(run.summary)).toBeLessThan(1024 * 1024);
  });
});

describe("the README's IAM policy for the check", () => {
  const allow = readmePolicyActions('check');

  it('lets the whole check pass', async () => {
    const { run, report } = await check({ regions: 'us-east-1,eu-west-1' }, exampleFleet(), { faults: { allow } });
    expect(run.code).toBe(0);
    expect(report?.counts.error).toBe(0);
  });

  // ssm:GetParametersByPath reads the health gate's marks: without it the check warns and goes on (health.test.ts);
  // eks:DescribeClusterVersions reads the Kubernetes support calendar: without it, too (below).
  const warnsWithout = ['ssm:GetParametersByPath', 'eks:DescribeClusterVersions'];
  it.each(allow.filter((a) => !warnsWithout.includes(a)))('fails with a clear access-denied message without %s', async (action) => {
    const { run, report } = await check({ regions: 'us-east-1' }, exampleFleet(), { faults: { allow: allow.filter((a) => a !== action) } });
    expect(run.code).toBe(1);
    const errors = report?.nodegroups.filter((n) => n.status === 'error') ?? [];
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e.reason).toContain(`not authorized to perform: ${action}`);
  });

  it('warns, names the permission and still checks every node group without eks:DescribeClusterVersions (an older policy)', async () => {
    const { run, report } = await check({ regions: 'us-east-1' }, exampleFleet(), {
      faults: { allow: allow.filter((a) => a !== 'eks:DescribeClusterVersions') },
    });
    expect(run.code).toBe(0);
    expect(report?.counts.error).toBe(0);
    expect(report?.warnings).toEqual([
      expect.stringMatching(
        /^us-east-1: the Kubernetes support calendar could not be read \(DescribeClusterVersions: .*not authorized to perform: eks:DescribeClusterVersions/,
      ),
    ]);
    expect(report?.warnings?.[0]).toContain("add eks:DescribeClusterVersions to the check's policy");
    expect(run.summary).toContain('the Kubernetes support calendar could not be read');
  });
});
