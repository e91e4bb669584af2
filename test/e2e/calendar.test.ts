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
