import { afterEach, describe, expect, it } from '@jest/globals';
import { exampleFleet } from '../sim/example-fleet.js';
import type { FleetSpec } from '../sim/fleet.js';
import { awsImageName } from '../sim/images.js';
import { amazonLinuxParameters, bottlerocketParameter, releasesOf } from '../sim/releases.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import { runAction } from '../sim/run-action.js';
import type { CheckReport, NodegroupReport } from '../../src/model/check-report.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function check(fleet: FleetSpec, inputs: Record<string, string> = {}) {
  sim = await startSimulator(fleet, {});
  const run = await runAction({ inputs: { regions: 'us-east-1', ...inputs }, env: { ...sim.env(), AWS_REGION: 'us-east-1' } });
  const report = JSON.parse(run.outputs.report ?? '{}') as CheckReport;
  const byName = (name: string) => report.nodegroups.find((n) => n.nodegroup === name) as NodegroupReport;
  return { run, report, byName, sim };
}

const al = (minor: string, back: number) => releasesOf('AL2023_x86_64_STANDARD', minor).at(-1 - back)!.releaseVersion;
const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();

describe('node groups whose AMI is named by id, as the bundled action checks them', () => {
  it('compares a launch template naming AWS’s image, and reports self-managed groups, changing nothing', async () => {
    const { run, byName, report, sim } = await check(exampleFleet());
    expect(run.code).toBe(0);

    const bespoke = byName('bespoke');
    const newest132 = al('1.32', 0);
    expect(bespoke).toMatchObject({
      kind: 'managed',
      amiType: 'CUSTOM',
      status: 'drift',
      launchTemplate: { id: 'lt-0bespoke000000001', name: 'prod-search-bespoke', version: '3' },
      imageName: awsImageName('AL2023_x86_64_STANDARD', '1.32', al('1.32', 2)),
      releaseVersion: `v${al('1.32', 2).split('-')[1]}`,
      latestReleaseVersion: newest132,
      latestReleaseParameter: '/aws/service/eks/optimized-ami/1.32/amazon-linux-2023/x86_64/standard/recommended/release_version',
    });
    // the ids are the region's: what the template names now, and what AWS recommends in us-east-1
    expect(bespoke.imageId).toBe(sim.world.images.templates.get('lt-0bespoke000000001')!.versions[0]!.imageId);
    expect(bespoke.latestImageId).toBe(sim.world.images.aws('us-east-1', awsImageName('AL2023_x86_64_STANDARD', '1.32', newest132)).id);
    expect(bespoke.reason).toContain(`→ ${newest132} (${bespoke.latestImageId})`);

    expect(byName('prod-payments-batch')).toMatchObject({
      kind: 'self-managed',
      amiType: 'AL2023_x86_64_STANDARD',
      status: 'up-to-date',
      launchTemplate: null,
    });
    const ingress = byName('prod-search-ingress');
    expect(ingress).toMatchObject({
      kind: 'self-managed',
      status: 'custom',
      imageName: 'ingress-hardened-2026.05',
      launchTemplate: { id: 'lt-0ingress00000001', version: '$Latest' },
    });
    expect(ingress.reason).toMatch(/private image \(owner 123456789012\), created \d{4}-\d{2}-\d{2} \(200d( \d+h)? ago\), deprecated since \d{4}-\d{2}-\d{2}/);
    // the managed node groups' own Auto Scaling groups are not reported twice
    expect(report.nodegroups.filter((n) => n.kind === 'self-managed').map((n) => n.nodegroup)).toEqual(['prod-payments-batch', 'prod-search-ingress']);
    expect(report.clusters.find((c) => c.cluster === 'prod-search')).toMatchObject({ nodegroups: 3, selfManagedGroups: 1 });

    // the summary shows them in their cluster's table
    expect(run.summary).toMatch(/\| prod-search-ingress · _self-managed_ \| — \| — \| ami-[0-9a-f]{17} \| — \| ➖ custom \|/);
    expect(run.summary).toMatch(/\| bespoke \| CUSTOM \| 1\.32 \| v\d{8} \| 1\.32\.\d+-\d{8} \| ⬆️ drift \|/);
    // read-only: every call a Describe, List or Get
    expect(sim.log.filter((l) => !/^(Describe|List|Get)/.test(l.operation))).toEqual([]);
  });

  it('reads Bottlerocket images, deprecated AWS images, templates named by name and images that no longer exist', async () => {
    const fleet: FleetSpec = {
      clusters: [
        {
          name: 'edge',
          region: 'us-east-1',
          version: '1.33',
          nodegroups: [
            {
              name: 'br',
              amiType: 'CUSTOM',
              version: '1.33',
              releaseVersion: '',
              launchTemplate: { id: 'lt-0br', name: 'edge-br', version: '1', image: { aws: awsImageName('BOTTLEROCKET_x86_64', '1.33', '1.26.0-85f0d68c') } },
            },
            {
              name: 'old',
              amiType: 'CUSTOM',
              version: '1.32',
              releaseVersion: '',
              launchTemplate: {
                id: 'lt-0old',
                name: 'edge-old',
                version: '2',
                image: { aws: awsImageName('AL2023_x86_64_STANDARD', '1.32', al('1.32', 30)), deprecatedAt: daysAgo(3) },
              },
            },
            {
              name: 'gone',
              amiType: 'CUSTOM',
              version: '1.33',
              releaseVersion: '',
              launchTemplate: { id: 'lt-0gone', name: 'edge-gone', version: '1', image: { private: 'deleted-image', createdAt: daysAgo(400) } },
            },
          ],
          selfManaged: [
            {
              name: 'edge-workers',
              desiredSize: 2,
              launchTemplate: {
                id: 'lt-0workers',
                name: 'edge-workers',
                version: '$Default',
                byName: true,
                image: { aws: awsImageName('AL2023_x86_64_STANDARD', '1.33', al('1.33', 0)) },
              },
            },
          ],
        },
      ],
      parameters: [...amazonLinuxParameters(), bottlerocketParameter('1.33', 'x86_64', '1.34.0-18d04e52', daysAgo(9))],
    };
    sim = await startSimulator(fleet, {});
    // the image the `gone` template names was deregistered since
    const gone = sim.world.images.templates.get('lt-0gone')!.versions[0]!.imageId!;
    sim.world.images.images.delete(gone);
    const run = await runAction({ inputs: { regions: 'us-east-1' }, env: { ...sim.env(), AWS_REGION: 'us-east-1' } });
    const report = JSON.parse(run.outputs.report ?? '{}') as CheckReport;
    const byName = (name: string) => report.nodegroups.find((n) => n.nodegroup === name) as NodegroupReport;

    expect(byName('br')).toMatchObject({ status: 'drift', releaseVersion: '1.26.0-85f0d68c', latestReleaseVersion: '1.34.0-18d04e52' });
    expect(byName('br').latestImageId).toMatch(/^ami-/);
    // a node group on 1.32 under a 1.33 control plane lags it, whatever the image's age
    expect(byName('old').status).toBe('behind-control-plane');
    expect(byName('old').reason).toContain('image deprecated since');
    expect(byName('edge-workers')).toMatchObject({
      kind: 'self-managed',
      status: 'up-to-date',
      launchTemplate: { id: 'lt-0workers', name: 'edge-workers', version: '$Default' },
    });
    expect(byName('gone')).toMatchObject({ status: 'error', imageId: gone });
    expect(byName('gone').reason).toContain(`The image id '[${gone}]' does not exist`);
    // one failed image does not hide the others; the step fails on the error
    expect(run.code).toBe(1);
  });
});

describe('self-managed groups, judged by what their instances run (issue 23)', () => {
  const X86 = '/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/recommended';
  const arm = (back: number) => releasesOf('AL2023_ARM_64_STANDARD', '1.33').at(-1 - back)!.releaseVersion;
  const x86Image = (back: number) => ({ aws: awsImageName('AL2023_x86_64_STANDARD', '1.33', al('1.33', back)) });
  const fleet = (): FleetSpec => ({
    clusters: [
      {
        name: 'edge',
        region: 'us-east-1',
        version: '1.33',
        nodegroups: [{ name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: al('1.33', 0), desiredSize: 2 }],
        selfManaged: [
          {
            // the template was bumped to the latest image; three instances were never refreshed
            name: 'unrefreshed',
            desiredSize: 4,
            launchTemplate: { id: 'lt-0unrefreshed', name: 'unrefreshed', version: '3', image: x86Image(0), older: [{ version: 2, image: x86Image(3) }] },
            instances: [{ count: 1 }, { count: 3, version: '2' }],
          },
          {
            // a mixed instances group whose arm64 types launch from a template of their own, on an old image
            name: 'mixed',
            desiredSize: 3,
            launchTemplate: { id: 'lt-0mixed', name: 'mixed', version: '1', mixed: true, image: x86Image(0) },
            overrides: [
              { instanceType: 'm6i.large' },
              {
                instanceType: 'm7g.large',
                launchTemplate: { id: 'lt-0mixedarm', name: 'mixed-arm', version: '1', image: { aws: awsImageName('AL2023_ARM_64_STANDARD', '1.33', arm(2)) } },
              },
            ],
            instances: [
              { count: 2, instanceType: 'm6i.large' },
              { count: 1, instanceType: 'm7g.large', template: 'lt-0mixedarm' },
            ],
          },
          {
            // a launch configuration group: two instances still run the configuration it had before
            name: 'legacy',
            desiredSize: 3,
            launchConfiguration: { name: 'legacy-v8', image: x86Image(0), older: [{ name: 'legacy-v7', image: x86Image(5) }] },
            instances: [{ count: 1 }, { count: 2, launchConfiguration: 'legacy-v7' }],
          },
          {
            // instances on a template version deleted since (DeleteLaunchTemplateVersions), beside one on the current
            name: 'version-gone',
            desiredSize: 2,
            launchTemplate: { id: 'lt-0gone', name: 'version-gone', version: '2', image: x86Image(0), older: [{ version: 1, image: x86Image(4) }] },
            instances: [{ count: 1 }, { count: 1, version: '1' }],
          },
          {
            name: 'by-parameter',
            desiredSize: 2,
            launchTemplate: { id: 'lt-0ssm', name: 'by-parameter', version: '1', image: x86Image(0), ssmParameter: `${X86}/image_id` },
          },
          {
            name: 'parameter-gone',
            desiredSize: 1,
            launchTemplate: { id: 'lt-0ssmgone', name: 'parameter-gone', version: '1', image: x86Image(0), ssmParameter: '/golden/ami/deleted' },
          },
          {
            name: 'golden',
            desiredSize: 1,
            launchTemplate: {
              id: 'lt-0golden',
              name: 'golden',
              version: '1',
              image: { private: 'golden-2025.10', createdAt: daysAgo(60), disabled: true },
            },
          },
        ],
      },
    ],
    parameters: amazonLinuxParameters(),
  });

  it('finds unrefreshed instances, an arm64 override on an old image, resolves resolve:ssm:, and fails no group for another’s error', async () => {
    const s = (sim = await startSimulator(fleet(), {}));
    const gone = s.world.images.templates.get('lt-0gone')!;
    gone.versions = gone.versions.filter((v) => v.number !== 1);
    const run = await runAction({ inputs: { regions: 'us-east-1' }, env: { ...s.env(), AWS_REGION: 'us-east-1' } });
    const report = JSON.parse(run.outputs.report ?? '{}') as CheckReport;
    const byName = (name: string) => report.nodegroups.find((n) => n.nodegroup === name) as NodegroupReport;
    const latestX86 = s.world.images.aws('us-east-1', awsImageName('AL2023_x86_64_STANDARD', '1.33', al('1.33', 0))).id;
    const oldX86 = s.world.images.aws('us-east-1', awsImageName('AL2023_x86_64_STANDARD', '1.33', al('1.33', 3))).id;

    const unrefreshed = byName('unrefreshed');
    expect(unrefreshed).toMatchObject({ kind: 'self-managed', status: 'drift', imageId: oldX86, latestImageId: latestX86 });
    expect(unrefreshed.reason).toContain('3 of 4 instances on an older or other image: 3 instances (m5.large) from launch template lt-0unrefreshed version 2');
    expect(unrefreshed.reason).not.toContain('reported only');

    const legacy = byName('legacy');
    expect(legacy).toMatchObject({ status: 'drift', releaseVersion: `v${al('1.33', 5).split('-')[1]}`, latestImageId: latestX86 });
    expect(legacy.reason).toContain('2 of 3 instances on an older or other image: 2 instances (m5.large) from launch configuration legacy-v7');

    const mixed = byName('mixed');
    expect(mixed).toMatchObject({
      status: 'drift',
      amiType: 'AL2023_ARM_64_STANDARD',
      releaseVersion: `v${arm(2).split('-')[1]}`,
      latestReleaseVersion: arm(0),
    });
    expect(mixed.reason).toContain('1 of 3 instances on an older or other image');
    expect(mixed.reason).toContain('override launch template lt-0mixedarm version 1 for (m7g.large)');

    // resolve:ssm: is compared by the image the parameter names now, and said so
    const byParameter = byName('by-parameter');
    expect(byParameter).toMatchObject({ status: 'up-to-date', imageId: latestX86 });
    expect(byParameter.reason).toContain(`the template names resolve:ssm:${X86}/image_id`);
    // a parameter that no longer exists is that group's error, and only that group's
    expect(byName('parameter-gone')).toMatchObject({ status: 'error' });
    expect(byName('parameter-gone').reason).toContain('names resolve:ssm:/golden/ami/deleted, which EC2 did not resolve to an image id');
    expect(byName('general').status).toBe('up-to-date');
    // instances on a deleted version: that group's error, naming the version; its template's current version still read
    expect(byName('version-gone').status).toBe('error');
    expect(byName('version-gone').reason).toMatch(
      /^1 instance \(m5\.large\) from launch template lt-0gone version 1: launch template lt-0gone has no version 1; new instances get/,
    );
    // no resolve:ssm: id is ever sent to DescribeImages
    expect(s.log.filter((l) => l.operation === 'DescribeImages' && JSON.stringify(l.params).includes('resolve:ssm'))).toEqual([]);

    const golden = byName('golden');
    expect(golden.status).toBe('custom');
    expect(golden.reason).toContain(`image ${golden.imageId} is disabled: no instance can launch from it`);

    // batched: one DescribeAutoScalingGroups for the region (4 pages of the simulator's 2: 8 groups, their instances
    // included), one DescribeLaunchTemplateVersions per template (7; one more for each of the 2 templates naming
    // resolve:ssm:, and each version alone for the template with a deleted one: 2), one DescribeLaunchConfigurations
    // for both configurations, one DescribeImages for every image of the region
    const calls = (op: string) => s.log.filter((l) => l.operation === op).length;
    expect(
      ['DescribeAutoScalingGroups', 'DescribeLaunchTemplateVersions', 'DescribeLaunchConfigurations', 'DescribeImages'].map((op) => [op, calls(op)]),
    ).toEqual([
      ['DescribeAutoScalingGroups', 4],
      ['DescribeLaunchTemplateVersions', 7 + 2 + 2],
      ['DescribeLaunchConfigurations', 1],
      ['DescribeImages', 1],
    ]);
    expect(s.log.filter((l) => !/^(Describe|List|Get)/.test(l.operation))).toEqual([]);
    expect(run.code).toBe(1);
    expect(run.summary).toMatch(
      /\| unrefreshed · _self-managed_ \| AL2023_x86_64_STANDARD \| 1\.33 \| v\d{8} \| 1\.33\.\d+-\d{8} \| ⬆️ drift \| 3 of 4 instances/,
    );
  });
});

describe('a launch-template node group (CUSTOM) on AWS’s image, proposed and upgraded', () => {
  const PATH = '.github/eks-ami-drift/us-east-1/prod.yaml';
  const from = al('1.33', 2);
  const to = al('1.33', 0);
  const fleet = (): FleetSpec => ({
    clusters: [
      {
        name: 'prod',
        region: 'us-east-1',
        version: '1.33',
        nodegroups: [
          {
            name: 'bespoke',
            amiType: 'CUSTOM',
            version: '1.33',
            releaseVersion: '',
            desiredSize: 2,
            launchTemplate: { id: 'lt-0bespoke', name: 'prod-bespoke', version: '3', image: { aws: awsImageName('AL2023_x86_64_STANDARD', '1.33', from) } },
          },
          { name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: to, desiredSize: 2 },
        ],
        selfManaged: [
          {
            name: 'prod-ingress',
            desiredSize: 2,
            // on the latest image already: pinned at it, never touched
            launchTemplate: { id: 'lt-0ingress', name: 'prod-ingress', version: '1', image: { aws: awsImageName('AL2023_x86_64_STANDARD', '1.33', to) } },
          },
        ],
        autoscaler: { namespace: 'kube-system', name: 'cluster-autoscaler', labels: { app: 'cluster-autoscaler' }, replicas: 2 },
      },
    ],
    parameters: amazonLinuxParameters(),
  });

  it('pins the new imageId; the merge makes one template version and updates the node group through it; a re-run makes nothing more', async () => {
    const s = (sim = await startSimulator(fleet(), { clockSpeed: 300 }));
    const env = (sha?: string) => ({ ...s.env(), AWS_REGION: 'us-east-1', ...(sha ? { GITHUB_SHA: sha } : {}) });
    const latestId = s.world.images.aws('us-east-1', awsImageName('AL2023_x86_64_STANDARD', '1.33', to)).id;
    const oldId = s.world.fleet.clusters[0]!.nodegroups[0]!.releaseVersion;

    const checked = await runAction({ inputs: { regions: 'us-east-1', 'on-drift': 'pull-request', 'min-release-age': '0' }, env: env() });
    expect(checked.code).toBe(0);
    const pr = s.github.pulls()[0]!;
    const pinned = s.github.filesAt(pr.pull!.headSha).get(PATH)!;
    // the CUSTOM node group is pinned by image, with the release it is; the self-managed group, up to date, at its image
    expect(pinned).toContain(`imageId: ${latestId} # ${to}: AWS's EKS-optimized AMI in us-east-1`);
    expect(pinned).toContain(`releaseVersion: ${to}`);
    expect(pinned).toMatch(new RegExp(`prod-ingress:\\n\\s+kubernetesVersion: "1.33"\\n\\s+imageId: ${latestId}`));

    const sha = s.github.merge(pr.number);
    const run = await runAction({ inputs: { command: 'upgrade', regions: 'us-east-1', 'poll-interval': '100ms' }, env: env(sha), eventName: 'push' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const r = JSON.parse(run.outputs.upgrades!) as { nodegroups: { nodegroup: string; result: string; to: { releaseVersion: string } | null }[] };
    expect(r.nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([
      ['bespoke', 'upgraded'],
      ['general', 'up-to-date'],
      ['prod-ingress', 'up-to-date'],
    ]);
    // one new template version: a copy of version 3 with only the image changed; the default stays 3
    const template = s.world.images.templates.get('lt-0bespoke')!;
    expect(s.world.images.created).toEqual([expect.objectContaining({ templateId: 'lt-0bespoke', version: 4, imageId: latestId })]);
    expect(template.defaultVersion).toBe(3);
    expect(template.versions.find((v) => v.number === 4)).toMatchObject({
      userData: template.versions[0]!.userData,
      description: 'eks-ami-drift: ' + latestId + ' for prod/bespoke',
    });
    // the update went through the template, without version or releaseVersion
    const update = s.world.updates.at(-1)!;
    expect(update.params).toEqual(expect.arrayContaining([{ type: 'LaunchTemplateVersion', value: '4' }]));
    expect(s.world.fleet.clusters[0]!.nodegroups[0]!.launchTemplate!.version).toBe('4');
    expect(s.world.nodesOf(s.world.fleet.clusters[0]!, 'bespoke').every((n) => n.metadata.labels?.['eks.amazonaws.com/nodegroup-image'] === latestId)).toBe(
      true,
    );
    expect(update.autoscalerReplicas.every((n) => n === 0)).toBe(true);
    expect([...s.world.kubeOf(s.world.fleet.clusters[0]!).deployments.values()][0]!.spec?.replicas).toBe(2);
    expect(run.stdout).toContain(
      `prod/bespoke: launch template lt-0bespoke version 4 names ${latestId} (new, from version 3; the default version is unchanged)`,
    );
    expect(oldId).not.toBe(latestId);

    // a re-run of the same merge: nothing more is made or started
    const again = await runAction({ inputs: { command: 'upgrade', regions: 'us-east-1', 'poll-interval': '100ms' }, env: env(sha), eventName: 'push' });
    expect(again.code).toBe(0);
    expect((JSON.parse(again.outputs.upgrades!) as { nodegroups: { result: string }[] }).nodegroups.map((n) => n.result)).toEqual([
      'up-to-date',
      'up-to-date',
      'up-to-date',
    ]);
    expect(s.world.images.created).toHaveLength(1);
    expect(s.world.updates).toHaveLength(1);
    // the self-managed group was never touched
    expect(s.log.filter((l) => l.operation === 'CreateLaunchTemplateVersion' && String(l.params?.LaunchTemplateId) === 'lt-0ingress')).toEqual([]);
  }, 90_000);

  it('refuses a releaseVersion pin for a CUSTOM node group, naming the line, before anything changes', async () => {
    const s = (sim = await startSimulator(fleet(), { clockSpeed: 300, github: { files: {} } }));
    const text = `cluster: prod\nregion: us-east-1\nnodegroups:\n  bespoke:\n    kubernetesVersion: "1.33"\n    releaseVersion: ${to}\n`;
    const sha = s.github.push('main', { [PATH]: text });
    const run = await runAction({
      inputs: { command: 'upgrade', regions: 'us-east-1' },
      env: { ...s.env(), AWS_REGION: 'us-east-1', GITHUB_SHA: sha },
      eventName: 'push',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${PATH}:6: bespoke: its AMI is named by its launch template (CUSTOM): pin it with imageId, not releaseVersion`);
    expect(s.world.updates).toEqual([]);
  });
});
