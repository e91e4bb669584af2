import { afterEach, describe, expect, it } from '@jest/globals';
import type { FleetSpec, SimCluster } from '../sim/fleet.js';
import { awsImageName } from '../sim/images.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { runAction } from '../sim/run-action.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import type { CheckReport } from '../../src/model/check-report.js';
import type { UpgradeReport } from '../../src/model/upgrade-report.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const [older, newest] = releasesOf('AL2023_x86_64_STANDARD', '1.33')
  .slice(-2)
  .map((r) => r.releaseVersion) as [string, string];
const NEWEST_IMAGE = awsImageName('AL2023_x86_64_STANDARD', '1.33', newest);
const OWN_PARAMETER = `/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/${NEWEST_IMAGE}/image_id`;

const cluster = (name: string, region: string, extra: Partial<SimCluster> = {}): SimCluster => ({
  name,
  region,
  version: '1.33',
  nodegroups: [{ name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: older, desiredSize: 3 }],
  ...extra,
});

async function start(fleet: FleetSpec) {
  sim = await startSimulator(fleet, { clockSpeed: 300 });
  return sim;
}

const env = (s: Simulator) => ({ ...s.env(), AWS_REGION: 'us-east-1' });
const checkReport = (outputs: Record<string, string>) => JSON.parse(outputs.report ?? '{}') as CheckReport;

describe('a release not yet in every region (awslabs/amazon-eks-ami#2673)', () => {
  // SSM's recommended parameter already names the newest release everywhere, but its image was not
  // copied to us-east-1: there the release's own image_id parameter does not exist.
  const fleet = (): FleetSpec => ({
    clusters: [cluster('east', 'us-east-1'), cluster('west', 'us-west-2')],
    parameters: amazonLinuxParameters(),
    unpublished: [{ image: NEWEST_IMAGE, regions: ['us-east-1'] }],
  });

  it('is not proposed where its image is missing: that node group waits with the reason, the other region gets its pull request', async () => {
    const s = await start(fleet());
    const run = await runAction({ inputs: { regions: 'us-east-1,us-west-2', 'min-release-age': '0', 'on-drift': 'pull-request' }, env: env(s) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = checkReport(run.outputs);
    const east = report.nodegroups.find((n) => n.cluster === 'east')!;
    const west = report.nodegroups.find((n) => n.cluster === 'west')!;
    expect(west).toMatchObject({ status: 'drift', latestReleaseVersion: newest });
    expect(east).toMatchObject({ status: 'waiting', latestReleaseVersion: newest });
    expect(east.reason).toContain(`${newest} has no image in us-east-1 yet`);
    expect(east.reason).toContain(OWN_PARAMETER);
    expect(report.counts).toMatchObject({ drift: 1, waiting: 1 });
    // One pull request, for west; nothing pinned for east.
    expect(report.proposals.map((p) => [p.cluster, p.result])).toEqual([
      ['east', 'none'],
      ['west', 'created'],
    ]);
    expect(s.github.pulls().map((p) => p.pull?.head)).toEqual(['eks-ami-drift/us-west-2/west']);
    expect(run.summary).toContain(`🚦 waiting | ${newest} has no image in us-east-1 yet`);
    // The release's own parameter is read once per region, in that region.
    const own = s.log.filter((l) => l.operation === 'GetParameters' && JSON.stringify(l.params).includes(NEWEST_IMAGE));
    expect(own.map((l) => l.region).sort()).toEqual(['us-east-1', 'us-west-2']);
  });

  it('keeps an open pull request as it is while the newer release has no image in its region, rather than closing it', async () => {
    const [a, b, c] = releasesOf('AL2023_x86_64_STANDARD', '1.33')
      .slice(-3)
      .map((r) => r.releaseVersion) as [string, string, string];
    const s = await start({
      clusters: [cluster('east', 'us-east-1', { nodegroups: [{ ...cluster('x', 'us-east-1').nodegroups[0]!, releaseVersion: a }] })],
      parameters: amazonLinuxParameters(),
    });
    const parameter = s.world.fleet.parameters.find((x) => x.name.includes('/1.33/amazon-linux-2023/x86_64/standard/'))!;
    parameter.value = b;
    const inputs = { regions: 'us-east-1', 'min-release-age': '0', 'on-drift': 'pull-request' };
    const first = await runAction({ inputs, env: env(s) });
    expect(checkReport(first.outputs).proposals.map((p) => p.result)).toEqual(['created']);
    // AWS moves the recommendation to c before c's image reaches us-east-1.
    parameter.value = c;
    s.world.fleet.unpublished = [{ image: awsImageName('AL2023_x86_64_STANDARD', '1.33', c), regions: ['us-east-1'] }];
    const second = await runAction({ inputs, env: env(s) });
    const report = checkReport(second.outputs);
    expect(report.nodegroups[0]).toMatchObject({ status: 'waiting', latestReleaseVersion: c });
    expect(report.proposals).toEqual([
      expect.objectContaining({ result: 'unchanged', reason: 'a newer release has no image in us-east-1 yet: the pull request is kept as it is', open: true }),
    ]);
    expect(s.github.pulls()[0]!.state).toBe('open');
  });

  it('is not rolled where its image is missing: the upgrade skips that node group with the reason and changes nothing there', async () => {
    const s = await start(fleet());
    const run = await runAction({ inputs: { command: 'upgrade', regions: 'us-east-1', clusters: 'east', 'poll-interval': '100ms' }, env: env(s) });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.outputs.upgrades ?? '{}') as UpgradeReport;
    expect(report.plan).toEqual([expect.objectContaining({ nodegroup: 'general', action: 'skip' })]);
    expect(report.plan[0]!.reason).toContain(`${newest} has no image in us-east-1 yet`);
    expect(report.nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([['general', 'skipped']]);
    expect(s.counts()['eks:UpdateNodegroupVersion']).toBeUndefined();
    expect(s.world.fleet.clusters[0]!.nodegroups[0]!.releaseVersion).toBe(older);
  });

  it('is rolled once its image is published in the region', async () => {
    const s = await start({ ...fleet(), unpublished: [] });
    const run = await runAction({ inputs: { command: 'upgrade', regions: 'us-east-1', clusters: 'east', 'poll-interval': '100ms' }, env: env(s) });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.outputs.upgrades ?? '{}') as UpgradeReport;
    expect(report.nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([['general', 'upgraded']]);
    expect(s.world.fleet.clusters[0]!.nodegroups[0]!.releaseVersion).toBe(newest);
  });
});

describe('how the update will roll, before it rolls', () => {
  const [gpuOld, gpuNew] = releasesOf('AL2023_x86_64_NVIDIA', '1.33')
    .slice(-2)
    .map((r) => r.releaseVersion) as [string, string];
  const gpuCluster = (): SimCluster =>
    cluster('ml', 'us-east-1', {
      nodegroups: [
        {
          name: 'train',
          amiType: 'AL2023_x86_64_NVIDIA',
          version: '1.33',
          releaseVersion: gpuOld,
          desiredSize: 6,
          updateConfig: { maxUnavailable: 2, updateStrategy: 'MINIMAL' },
          nodeRepair: true,
        },
        { name: 'reserved', amiType: 'AL2023_x86_64_NVIDIA', version: '1.33', releaseVersion: gpuOld, desiredSize: 2, capacityType: 'CAPACITY_BLOCK' },
      ],
    });
  const fleet = (): FleetSpec => ({ clusters: [gpuCluster()], parameters: amazonLinuxParameters() });
  const MINIMAL_TEXT =
    'MINIMAL: terminates 2 old node(s) before it launches their replacements (maxUnavailable 2), so the node group runs 2 short in each of 3 round(s)';
  const HELD = 'held: a Capacity Block node group is updated only at desired size 0';

  it('shows each node group’s strategy, parallelism, Capacity Block hold and node auto repair in the check and the pull request', async () => {
    const s = await start(fleet());
    const run = await runAction({ inputs: { regions: 'us-east-1', 'min-release-age': '0', 'on-drift': 'pull-request' }, env: env(s) });
    expect(run.code).toBe(0);
    const report = checkReport(run.outputs);
    expect(report.nodegroups.find((n) => n.nodegroup === 'train')).toMatchObject({
      status: 'drift',
      updateSettings: { maxUnavailable: 2, maxUnavailablePercentage: null, strategy: 'MINIMAL', capacityType: 'ON_DEMAND', nodeRepair: true },
    });
    expect(run.summary).toContain(MINIMAL_TEXT);
    expect(run.summary).toContain('node auto repair on: EKS also replaces unhealthy nodes on its own');
    expect(run.summary).toContain(HELD);
    const body = s.github.pulls()[0]!.body;
    // 6 nodes, 2 at a time: 3 rounds, ~10 + 3 × 4 = 22 minutes; the Capacity Block's 2 nodes one at a time: ~18.
    expect(body).toMatch(
      new RegExp(
        `\\| train \\| AL2023_x86_64_NVIDIA \\| 1\\.33 \\| ${gpuOld} \\| .* \\| 6 \\| ~22 min \\| ` +
          `${MINIMAL_TEXT.replace(/[()]/g, '\\$&')}; node auto repair on`,
      ),
    );
    expect(body).toMatch(/\| reserved \| .* \| 2 \| ~18 min \| ⏸️ held: a Capacity Block node group is updated only at desired size 0/);
  });

  it('rolls a MINIMAL node group without surge, and holds a Capacity Block node group while it has nodes, with EKS’s reason', async () => {
    const s = await start(fleet());
    const run = await runAction({ inputs: { command: 'upgrade', regions: 'us-east-1', clusters: 'ml', 'poll-interval': '100ms' }, env: env(s) });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.outputs.upgrades ?? '{}') as UpgradeReport;
    expect(report.nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([
      ['train', 'upgraded'],
      ['reserved', 'skipped'],
    ]);
    expect(report.nodegroups[1]!.reason).toContain(HELD);
    expect(run.stdout).toContain(`plan: ml/train: update: ${gpuOld} → ${gpuNew} (rolls: ${MINIMAL_TEXT}`);
    expect(run.summary).toContain('How the updates roll');
    // EKS got one update, for train, and it launched no extra node first (MINIMAL).
    expect(s.world.updates.map((u) => [u.ng.name, u.surge])).toEqual([['train', 0]]);
    expect(s.world.fleet.clusters[0]!.nodegroups.map((n) => n.releaseVersion)).toEqual([gpuNew, gpuOld]);
  });

  it('updates a Capacity Block node group at desired size 0', async () => {
    const f = fleet();
    f.clusters[0]!.nodegroups[1]!.desiredSize = 0;
    f.clusters[0]!.nodegroups[1]!.minSize = 0;
    const s = await start(f);
    const run = await runAction({
      inputs: { command: 'upgrade', regions: 'us-east-1', clusters: 'ml', nodegroups: 'reserved', 'poll-interval': '100ms' },
      env: env(s),
    });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.outputs.upgrades ?? '{}') as UpgradeReport;
    expect(report.nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([['reserved', 'upgraded']]);
  });
});

describe('the calendar', () => {
  const DAY = 86_400_000;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const today = Date.parse(`${day(Date.now())}T00:00:00Z`);
  // A Windows release is named by its date (1.33-YYYY.MM.DD); its AMI goes private about 120 days after it (docs/check.md).
  const windowsRelease = (daysAgo: number) => `1.33-${day(today - daysAgo * DAY).replaceAll('-', '.')}`;
  const privateOn = (daysAgo: number) => day(today - daysAgo * DAY + 120 * DAY);

  it('warns a Windows node group within 30 days of its AMI going private, and proposes one past it with the date', async () => {
    const latest = windowsRelease(10);
    const s = await start({
      clusters: [
        cluster('win', 'us-east-1', {
          nodegroups: [
            { name: 'soaked', amiType: 'WINDOWS_CORE_2022_x86_64', version: '1.33', releaseVersion: windowsRelease(100), desiredSize: 2 },
            { name: 'stale', amiType: 'WINDOWS_CORE_2022_x86_64', version: '1.33', releaseVersion: windowsRelease(130), desiredSize: 2 },
            { name: 'fresh', amiType: 'WINDOWS_CORE_2022_x86_64', version: '1.33', releaseVersion: latest, desiredSize: 2 },
          ],
        }),
      ],
      parameters: [
        {
          name: '/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.33',
          value: JSON.stringify({ release_version: latest, image_id: 'ami-0win000000000001' }),
          lastModified: new Date(today - 10 * DAY).toISOString(),
        },
      ],
    });
    const run = await runAction({ inputs: { regions: 'us-east-1', 'min-release-age': '0' }, env: env(s) });
    expect(run.code).toBe(0);
    const report = checkReport(run.outputs);
    const entry = (name: string) => report.nodegroups.find((n) => n.nodegroup === name)!;
    expect(entry('soaked').status).toBe('drift');
    expect(entry('soaked').reason).toContain(`its Windows AMI release ${windowsRelease(100)} goes private on ${privateOn(100)}, in 20 day(s)`);
    // Past the date with a newer release published: drift (proposed, soak and stages applying), the date in its reason.
    expect(entry('stale').status).toBe('drift');
    expect(entry('stale').reason).toContain(`${windowsRelease(130)} → ${latest}`);
    expect(entry('stale').reason).toContain(`⛔ its Windows AMI release ${windowsRelease(130)} went private on ${privateOn(130)}`);
    expect(run.outputs.drift).toBe('true');
    expect(entry('fresh')).toMatchObject({ status: 'up-to-date', reason: 'on the latest release' });
    expect(run.summary).toContain(`goes private on ${privateOn(100)}`);
  });

  it('moves a Windows node group off a release about to go private; EKS (simulated) refuses a release already private', async () => {
    const latest = windowsRelease(10);
    const fleet = (): FleetSpec => ({
      clusters: [
        cluster('win', 'us-east-1', {
          nodegroups: [
            { name: 'soaked', amiType: 'WINDOWS_CORE_2022_x86_64', version: '1.33', releaseVersion: windowsRelease(100), desiredSize: 2 },
            { name: 'ancient', amiType: 'WINDOWS_CORE_2022_x86_64', version: '1.33', releaseVersion: windowsRelease(200), desiredSize: 2 },
          ],
        }),
      ],
      parameters: [
        {
          name: '/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.33',
          value: JSON.stringify({ release_version: latest, image_id: 'ami-0win000000000001' }),
          lastModified: new Date(today - 10 * DAY).toISOString(),
        },
      ],
    });
    const s = await start(fleet());
    const upgrade = { command: 'upgrade', regions: 'us-east-1', clusters: 'win', 'poll-interval': '100ms' };
    const moved = await runAction({ inputs: { ...upgrade, nodegroups: 'soaked' }, env: env(s) });
    expect(moved.code).toBe(0);
    expect((JSON.parse(moved.outputs.upgrades ?? '{}') as UpgradeReport).nodegroups).toEqual([
      expect.objectContaining({ nodegroup: 'soaked', result: 'upgraded', to: expect.objectContaining({ releaseVersion: latest }) }),
    ]);
    const refused = await runAction({ inputs: { ...upgrade, nodegroups: 'ancient', 'release-version': windowsRelease(130) }, env: env(s) });
    expect(refused.code).toBe(1);
    const result = (JSON.parse(refused.outputs.upgrades ?? '{}') as UpgradeReport).nodegroups[0]!;
    expect(result.result).toBe('failed');
    expect(result.reason).toContain(`EKS refused ${windowsRelease(130)}`);
  });

  it('names the clusters within 90 days of the end of standard or extended support, from DescribeClusterVersions read once per region', async () => {
    const s = await start({
      clusters: [cluster('near', 'us-east-1'), cluster('far', 'us-east-1', { version: '1.34' }), cluster('old', 'us-east-1', { version: '1.29' })],
      parameters: amazonLinuxParameters(),
      clusterVersions: [
        { version: '1.29', endOfStandardSupport: day(today - 500 * DAY), endOfExtendedSupport: day(today - 135 * DAY) },
        { version: '1.33', endOfStandardSupport: day(today + 45 * DAY), endOfExtendedSupport: day(today + 410 * DAY) },
        { version: '1.34', endOfStandardSupport: day(today + 200 * DAY), endOfExtendedSupport: day(today + 565 * DAY) },
      ],
    });
    const run = await runAction({ inputs: { regions: 'us-east-1', 'min-release-age': '0' }, env: env(s) });
    const report = checkReport(run.outputs);
    const cluster_ = (name: string) => report.clusters.find((c) => c.cluster === name)!;
    expect(cluster_('near').kubernetesSupport).toEqual({
      endOfStandardSupport: day(today + 45 * DAY),
      endOfExtendedSupport: day(today + 410 * DAY),
      notice:
        `Kubernetes 1.33 reaches the end of standard support on ${day(today + 45 * DAY)}, in 45 day(s): ` +
        `extended support then costs more per cluster hour, until ${day(today + 410 * DAY)}`,
    });
    expect(cluster_('far').kubernetesSupport?.notice).toBeNull();
    expect(cluster_('old').kubernetesSupport?.notice).toContain(`past the end of extended support (${day(today - 135 * DAY)})`);
    expect(run.summary).toContain('### Kubernetes support calendar');
    expect(run.summary).toContain(`⏰ **near** (us-east-1): Kubernetes 1.33 reaches the end of standard support on ${day(today + 45 * DAY)}`);
    expect(run.summary).not.toContain('**far**');
    // One read for the region, every page: 3 versions in the simulator's pages of 2.
    expect(s.counts()['eks:DescribeClusterVersions']).toBe(2);
    const asked = s.log.find((l) => l.operation === 'DescribeClusterVersions')!.params.clusterVersions;
    expect(asked).toEqual(['1.29', '1.33', '1.34']);
  });
});
