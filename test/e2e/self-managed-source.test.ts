import { afterEach, describe, expect, it } from '@jest/globals';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { ExecutorContext, PreflightCheck } from '../../src/effects/executor.js';
import { decodeRecord } from '../../src/effects/self-managed-record.js';
import { selfManagedExecutor, undoSelfManaged } from '../../src/effects/self-managed-roll.js';
import { eksKubeApi, eksToken } from '../../src/fleet/kube-client.js';
import type { ClusterState } from '../../src/model/fleet.js';
import type { PlanItem } from '../../src/model/plan.js';
import type { UpgradeSettings } from '../../src/model/settings.js';
import type { Faults, FleetSpec, SimSelfManaged } from '../sim/fleet.js';
import { awsImageName } from '../sim/images.js';
import { placePods } from '../sim/pods.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { startSimulator, type Simulator } from '../sim/server.js';

/*
 * Where a self-managed group's instances come from, as the executor changes it and its undo puts it
 * back (src/effects/self-managed-source.ts, self-managed-change.ts), against the simulator's live Auto
 * Scaling group: a group following `$Latest` or `$Default`, a mixed instances policy whose templates run
 * two architectures, a launch configuration group.
 */

const credentials = { accessKeyId: 'AKIASIMULATOR0000000', secretAccessKey: 'simulator-secret-key-not-real-0000000000' };
const releases = releasesOf('AL2023_x86_64_STANDARD', '1.33');
const [oldRelease, newRelease] = [releases.at(-2)!.releaseVersion, releases.at(-1)!.releaseVersion];
const MINUTE = 60_000;
const x86 = (release: string) => ({ aws: awsImageName('AL2023_x86_64_STANDARD', '1.33', release) });
const arm = (release: string) => ({ aws: awsImageName('AL2023_ARM_64_STANDARD', '1.33', release) });

const settings: UpgradeSettings = {
  dryRun: false,
  force: false,
  releaseVersion: null,
  followControlPlane: false,
  pauseClusterAutoscaler: true,
  clusterAutoscaler: 'auto',
  maxParallel: 1,
  waitTimeoutMs: 20 * MINUTE,
  pollIntervalMs: 10_000,
  healthTimeoutMs: 10 * MINUTE,
};

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** The simulator with one live four-instance group `workers` as given, two web pods per node under a budget allowing one disruption. */
async function start(
  group: Omit<SimSelfManaged, 'name' | 'desiredSize'>,
  faults: Faults = {},
  unpublished: FleetSpec['unpublished'] = [],
  others: SimSelfManaged[] = [],
) {
  sim = await startSimulator(
    {
      clusters: [
        {
          name: 'prod',
          region: 'us-east-1',
          version: '1.33',
          nodegroups: [],
          selfManaged: [{ name: 'workers', desiredSize: 4, live: { min: 2, max: 4 }, ...group }, ...others],
          pdbs: [{ name: 'web', namespace: 'shop', matchLabels: { app: 'web' }, maxUnavailable: 1 }],
        },
      ],
      parameters: amazonLinuxParameters(),
      unpublished,
    },
    { faults },
  );
  const s = sim;
  const state = s.world.kubeOf(s.world.fleet.clusters[0]!);
  const clock = s.world.clock;
  const image = s.world.images.resolve('us-east-1', x86(newRelease)).id;
  const client = { region: 'us-east-1', endpoint: s.url, credentials, maxAttempts: 1 };
  const autoscaling = new AutoScalingClient(client);
  const ec2 = new EC2Client(client);
  const ssm = new SSMClient(client);
  const kube = eksKubeApi('prod', { server: `${s.url}/k8s/us-east-1/prod` }, () => eksToken('prod', 'us-east-1', async () => credentials));
  // Two web pods (a ReplicaSet's) on each of the four nodes, Running and Ready for an hour.
  placePods(state, clock, { namespace: 'shop', name: 'web' }, 8, [...state.nodes.keys()].sort());
  const log: string[] = [];
  const ctx = (over: { autoscaling?: AutoScalingClient; ec2?: EC2Client } = {}): ExecutorContext => ({
    cluster: { name: 'prod', region: 'us-east-1' } as ClusterState,
    clients: { eks: {} as EKSClient, ssm, autoscaling: over.autoscaling ?? autoscaling, ec2: over.ec2 ?? ec2 },
    kube,
    settings,
    deps: {
      clientsFor: () => {
        throw new Error('not used');
      },
      kubeFor: () => kube,
      sha: 'abc',
      now: () => clock.now(),
      sleep: async (ms: number) => {
        clock.advance(ms);
        await new Promise((r) => setImmediate(r));
      },
      log: (line) => log.push(line),
      warn: (line) => log.push(`warning: ${line}`),
      recordPause: () => undefined,
    },
    watchPause: async () => undefined,
  });
  const item: PlanItem = {
    cluster: 'prod',
    region: 'us-east-1',
    nodegroup: 'workers',
    nodeKind: 'self-managed',
    amiType: 'AL2023_x86_64_STANDARD',
    nodes: 4,
    current: { version: '1.33', releaseVersion: oldRelease },
    target: { version: '1.33', releaseVersion: newRelease, imageId: image },
    source: 'manifest',
    action: 'update',
    reason: 'test',
  };
  const check = (): PreflightCheck => ({ item, failedAttempts: 0, blockers: [], problems: [] });
  const run = async (c = ctx()) => {
    const k = check();
    await selfManagedExecutor.preflight(k, c);
    expect(k.problems).toEqual([]);
    return selfManagedExecutor.roll(k, c);
  };
  const live = () => s.world.groupOf('us-east-1', 'workers')!;
  const record = async () =>
    decodeRecord((await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['workers'] }))).AutoScalingGroups![0]!.Tags);
  const template = (id: string) => s.world.images.templates.get(id)!;
  const imageOf = (spec: { aws: string }) => s.world.images.resolve('us-east-1', spec).id;
  return { sim: s, image, ctx, check, run, live, record, template, imageOf, log, autoscaling, ec2, state };
}

type Client = { send: (cmd: never) => Promise<unknown> };
/** A client whose `n`th call of a command throws, as a killed runner would stop there. */
function killedAt<T extends Client>(client: T, command: string, n = 1): T {
  let seen = 0;
  // Its prototype the real client, so the SDK's paginators accept it.
  const killed = Object.create(client) as T;
  killed.send = async (cmd: never) => {
    if ((cmd as { constructor: { name: string } }).constructor.name === command && ++seen === n) throw new Error(`killed before ${command}`);
    return client.send(cmd);
  };
  return killed;
}

/** Every instance still in the group runs `image`; capacity back; nothing suspended; no record. */
function expectDone(g: ReturnType<Awaited<ReturnType<typeof start>>['live']>, images: string[]) {
  const staying = g.instances.filter((i) => i.lifecycle !== 'Terminating');
  expect(staying.map((i) => i.imageId).sort()).toEqual([...images].sort());
  expect([g.desired, g.min, g.max]).toEqual([4, 2, 4]);
  expect([...g.suspended.keys()]).toEqual([]);
  expect([...g.tags.keys()].filter((k) => k.startsWith('eks-ami-drift/'))).toEqual([]);
}

const LT = 'lt-0workers000000001';

describe('a group that follows $Latest or $Default', () => {
  it('$Latest: the version made is the latest, so the group is not changed; the summary says so', async () => {
    const { run, live, template, image, imageOf, log } = await start({
      launchTemplate: { id: LT, name: 'workers', version: '$Latest', image: x86(oldRelease) },
    });
    const result = await run();
    expect(result.result).toBe('upgraded');
    expect(result.reason).toContain(
      `4 instance(s) replaced on ${image} (launch template ${LT} version 2 from version 1 with ImageId ${image}; ` +
        'the group follows $Latest, now version 2 (the group unchanged))',
    );
    expect(log).toContain(
      `prod/workers: launch template ${LT} version 2 from version 1 with ImageId ${image}; ` +
        'the group follows $Latest, now version 2 (the group unchanged) (the group named $Latest)',
    );
    expectDone(live(), [image, image, image, image]);
    expect(live().template).toEqual({ id: LT, name: 'workers', version: '$Latest' });
    const lt = template(LT);
    expect(lt.versions.map((v) => [v.number, v.imageId])).toEqual([
      [1, imageOf(x86(oldRelease))],
      [2, image],
    ]);
    expect(lt.defaultVersion).toBe(1);
  });

  const defaultGroup = {
    launchTemplate: {
      id: LT,
      name: 'workers',
      version: '$Default',
      image: x86(oldRelease),
      older: [{ version: 3, image: x86(releases.at(-3)!.releaseVersion) }],
    },
  };

  it('$Default: the template’s default version is set to the version made, the group not changed; the summary names both', async () => {
    const { run, live, template, image, imageOf } = await start(defaultGroup);
    const result = await run();
    expect(result.result).toBe('upgraded');
    expect(result.reason).toContain(
      `launch template ${LT} version 4 from version 1 with ImageId ${image}; its default version 1 → 4 (the group follows $Default, unchanged)`,
    );
    expectDone(live(), [image, image, image, image]);
    expect(live().template).toEqual({ id: LT, name: 'workers', version: '$Default' });
    const lt = template(LT);
    expect(lt.defaultVersion).toBe(4);
    expect(lt.versions.map((v) => [v.number, v.imageId])).toEqual([
      [1, imageOf(x86(oldRelease))],
      [3, imageOf(x86(releases.at(-3)!.releaseVersion))],
      [4, image],
    ]);
  });

  it('warns of another group of the cluster that follows $Latest of the same template: it launches the new image without a roll', async () => {
    const other = { name: 'batch', desiredSize: 1, launchTemplate: { id: LT, name: 'workers', version: '$Latest', image: x86(oldRelease) } };
    const { run, log } = await start(defaultGroup, {}, [], [other]);
    expect((await run()).result).toBe('upgraded');
    expect(log).toContain(
      `warning: prod/workers: batch ($Latest of ${LT}) follow the same launch template: they launch the new image from the template step on, ` +
        'without a roll of their own',
    );
  });

  for (const version of ['$Latest', '$Default'])
    it(`${version}, instances showing the version number they were launched from (the other answer): the same roll`, async () => {
      const { run, live, image } = await start({
        launchTemplate: { id: LT, name: 'workers', version, image: x86(oldRelease) },
        live: { min: 2, max: 4, instancesShowNumber: true },
      });
      expect(live().instances.map((i) => i.template?.version)).toEqual(['1', '1', '1', '1']);
      const result = await run();
      expect(result.result).toBe('upgraded');
      expect(result.reason).toContain('health gate passed');
      expectDone(live(), [image, image, image, image]);
      expect(
        live()
          .instances.filter((i) => i.lifecycle !== 'Terminating')
          .map((i) => i.template?.version),
      ).toEqual(['2', '2', '2', '2']);
      expect(live().template?.version).toBe(version);
    });

  it('$Default killed before the default version is set: the re-run sets it from the record, one version made', async () => {
    const { run, ctx, ec2, live, template, record, image } = await start(defaultGroup);
    const first = await run(ctx({ ec2: killedAt(ec2, 'ModifyLaunchTemplateCommand', 2) }));
    expect(first.result).toBe('failed');
    expect(first.reason).toContain('killed before ModifyLaunchTemplateCommand');
    expect(await record()).toMatchObject({ step: 'template', template: { id: LT, from: '1', version: '4', alias: '$Default', defaultFrom: '1' } });
    expect(template(LT).defaultVersion).toBe(1);
    const second = await run();
    expect(second.result).toBe('upgraded');
    expect(template(LT).defaultVersion).toBe(4);
    expect(template(LT).versions.map((v) => v.number)).toEqual([1, 3, 4]);
    expectDone(live(), [image, image, image, image]);
  });

  it('undo puts back exactly what was there: the default version, and the version made deleted', async () => {
    const { run, ctx, autoscaling, live, template, record, imageOf } = await start(defaultGroup);
    const before = structuredClone(template(LT));
    const first = await run(ctx({ autoscaling: killedAt(autoscaling, 'DescribeScalingActivitiesCommand') }));
    expect(first.result).toBe('failed');
    expect(template(LT).defaultVersion).toBe(4);
    const message = await undoSelfManaged(ctx(), 'workers', (await record())!);
    expect(message).toContain(`launch template ${LT} default version back to 1, launch template ${LT} version 4 deleted`);
    expect(template(LT)).toEqual(before);
    expect(live().template).toEqual({ id: LT, name: 'workers', version: '$Default' });
    expect(await record()).toBeUndefined();
    // The surge's instances are kept (on the new image); what launches next is version 1's image again.
    expect([live().desired, [...live().suspended.keys()]]).toEqual([4, []]);
    expect(imageOf(x86(oldRelease))).toBe(before.versions[0]!.imageId);
  });

  it('$Latest undone: the version made deleted, so $Latest names the version it named before', async () => {
    const { run, ctx, autoscaling, template, record } = await start({
      launchTemplate: { id: LT, name: 'workers', version: '$Latest', image: x86(oldRelease) },
    });
    const before = structuredClone(template(LT));
    await run(ctx({ autoscaling: killedAt(autoscaling, 'DescribeScalingActivitiesCommand') }));
    expect(template(LT).versions).toHaveLength(2);
    const message = await undoSelfManaged(ctx(), 'workers', (await record())!);
    expect(message).toContain(`launch template ${LT} version 2 deleted`);
    expect(template(LT)).toEqual(before);
  });

  it('$Default without ec2:ModifyLaunchTemplate: the pre-flight names the permission, nothing changed', async () => {
    const allow = [
      'autoscaling:DescribeAutoScalingGroups',
      'autoscaling:DescribeInstanceRefreshes',
      'ec2:DescribeLaunchTemplateVersions',
      'ec2:CreateLaunchTemplateVersion',
      'ec2:DescribeImages',
    ];
    const { check, ctx, template, live } = await start(defaultGroup, { allow });
    const k = check();
    await selfManagedExecutor.preflight(k, ctx());
    expect(k.problems).toEqual([`not allowed to set the default version of launch template ${LT}: grant ec2:ModifyLaunchTemplate`]);
    expect(template(LT).versions.map((v) => v.number)).toEqual([1, 3]);
    expect([...live().tags.keys()]).toEqual([]);
  });
});

const ARM = 'lt-0workersarm000001';
/** A mixed instances policy: its own template (x86_64) for m5.large, an override's own template (arm64) for m6g.large. */
const mixedGroup = {
  launchTemplate: { id: LT, name: 'workers', version: '3', image: x86(oldRelease), mixed: true },
  overrides: [
    { instanceType: 'm5.large' },
    { instanceType: 'm6g.large', launchTemplate: { id: ARM, name: 'workers-arm', version: '2', image: arm(oldRelease) } },
  ],
};

describe('a group with a mixed instances policy', () => {
  it('gives each template a version with the image of its architecture, and the policy only the new versions', async () => {
    const { run, live, template, image, imageOf, state, log } = await start(mixedGroup);
    const armImage = imageOf(arm(newRelease));
    const distribution = { ...live().instancesDistribution };
    expect(
      live()
        .instances.map((i) => i.imageId)
        .sort(),
    ).toEqual([imageOf(x86(oldRelease)), imageOf(x86(oldRelease)), imageOf(arm(oldRelease)), imageOf(arm(oldRelease))].sort());
    const result = await run();
    expect(result.result).toBe('upgraded');
    expect(result.reason).toContain(
      `launch template ${LT} version 4 from version 3 with ImageId ${image}; the group's Version 3 → 4; ` +
        `launch template ${ARM} version 3 from version 2 with ImageId ${armImage}; the group's Version 2 → 3`,
    );
    expect(log.some((l) => l.includes(`launch template ${ARM} version 3 from version 2 with ImageId ${armImage}`))).toBe(true);
    expectDone(live(), [image, image, armImage, armImage]);
    // The arm64 instances' nodes say so (the kubelet's kubernetes.io/arch label).
    const arches = live()
      .instances.filter((i) => i.lifecycle !== 'Terminating')
      .map((i) => [i.instanceType, (state.nodes.get(i.node)!.metadata.labels as Record<string, string>)['kubernetes.io/arch']]);
    expect(arches.sort()).toEqual([
      ['m5.large', 'amd64'],
      ['m5.large', 'amd64'],
      ['m6g.large', 'arm64'],
      ['m6g.large', 'arm64'],
    ]);
    expect(live().mixed).toEqual({
      main: { id: LT, name: 'workers', version: '4' },
      overrides: [{ instanceType: 'm5.large' }, { instanceType: 'm6g.large', template: { id: ARM, name: 'workers-arm', version: '3' } }],
    });
    expect(live().instancesDistribution).toEqual(distribution);
    expect(template(LT).versions.map((v) => [v.number, v.imageId])).toEqual([
      [3, imageOf(x86(oldRelease))],
      [4, image],
    ]);
    expect(template(ARM).versions.map((v) => [v.number, v.imageId])).toEqual([
      [2, imageOf(arm(oldRelease))],
      [3, armImage],
    ]);
  });

  it('killed before the policy is updated, the re-run finds both versions it made and finishes', async () => {
    const { run, ctx, autoscaling, live, template, record, image, imageOf } = await start(mixedGroup);
    const first = await run(ctx({ autoscaling: killedAt(autoscaling, 'UpdateAutoScalingGroupCommand') }));
    expect(first.result).toBe('failed');
    expect(await record()).toMatchObject({
      step: 'template',
      mixed: true,
      template: { id: LT, from: '3', version: '4' },
      specs: [{ id: ARM, from: '2', version: '3', image: imageOf(arm(newRelease)) }],
    });
    const second = await run();
    expect(second.result).toBe('upgraded');
    expect(template(LT).versions.map((v) => v.number)).toEqual([3, 4]);
    expect(template(ARM).versions.map((v) => v.number)).toEqual([2, 3]);
    expectDone(live(), [image, image, imageOf(arm(newRelease)), imageOf(arm(newRelease))]);
  });

  it('undo puts the policy back exactly (its versions, its distribution) and deletes the versions made', async () => {
    const { run, ctx, autoscaling, live, template, record } = await start(mixedGroup);
    const before = {
      mixed: structuredClone(live().mixed),
      distribution: { ...live().instancesDistribution },
      lt: structuredClone(template(LT)),
      arm: structuredClone(template(ARM)),
    };
    await run(ctx({ autoscaling: killedAt(autoscaling, 'DescribeScalingActivitiesCommand') }));
    expect(live().mixed?.main.version).toBe('4');
    const message = await undoSelfManaged(ctx(), 'workers', (await record())!);
    expect(message).toContain(
      `its mixed instances policy back to the versions it named, launch template ${LT} version 4 deleted, launch template ${ARM} version 3 deleted`,
    );
    expect({ mixed: live().mixed, distribution: live().instancesDistribution, lt: template(LT), arm: template(ARM) }).toEqual(before);
    expect(await record()).toBeUndefined();
  });

  it('stops in the pre-flight, before any change, when an architecture has no image of the target release', async () => {
    const { check, ctx, live, template, imageOf } = await start(mixedGroup, {}, [{ image: arm(newRelease).aws, regions: ['us-east-1'] }]);
    const k = check();
    await selfManagedExecutor.preflight(k, ctx());
    const date = newRelease.split('-').at(-1);
    expect(k.problems).toEqual([
      `launch template ${ARM} version 2 runs arm64 (${imageOf(arm(oldRelease))}): no arm64 image of release v${date} in us-east-1 ` +
        `(SSM parameter /aws/service/eks/optimized-ami/1.33/amazon-linux-2023/arm64/standard/${arm(newRelease).aws}/image_id: ` +
        'ParameterNotFound: not published in this region)',
    ]);
    expect([template(LT).versions.length, template(ARM).versions.length, [...live().tags.keys()]]).toEqual([1, 1, []]);
  });
});

describe('a group on a launch configuration', () => {
  const lcGroup = { launchConfiguration: { name: 'workers-lc', image: x86(oldRelease) } };

  it('gets a copy of its configuration with the new image (every other field kept), and is moved to it', async () => {
    const { run, live, image, sim } = await start(lcGroup);
    const copy = `workers-lc-eks-ami-drift-${image}`;
    const result = await run();
    expect(result.result).toBe('upgraded');
    expect(result.reason).toContain(
      `4 instance(s) replaced on ${image} (launch configuration ${copy} copied from workers-lc with ImageId ${image}; ` +
        `the group's LaunchConfigurationName workers-lc → ${copy})`,
    );
    expectDone(live(), [image, image, image, image]);
    expect(live().launchConfiguration).toBe(copy);
    const configs = sim.world.launchConfigurations;
    const { LaunchConfigurationName: _a, ImageId: _b, ...original } = configs.get('us-east-1/workers-lc')!;
    const { LaunchConfigurationName: name, ImageId: copied, ...kept } = configs.get(`us-east-1/${copy}`)!;
    expect([name, copied]).toEqual([copy, image]);
    expect(kept).toEqual(original);
  });

  it('killed before the group is moved, the re-run finds the copy it made and finishes', async () => {
    const { run, ctx, autoscaling, live, image, record, sim } = await start(lcGroup);
    const copy = `workers-lc-eks-ami-drift-${image}`;
    const first = await run(ctx({ autoscaling: killedAt(autoscaling, 'UpdateAutoScalingGroupCommand') }));
    expect(first.result).toBe('failed');
    expect(await record()).toMatchObject({ step: 'template', lc: { from: 'workers-lc', to: copy } });
    expect(live().launchConfiguration).toBe('workers-lc');
    const second = await run();
    expect(second.result).toBe('upgraded');
    expectDone(live(), [image, image, image, image]);
    expect([...sim.world.launchConfigurations.keys()].sort()).toEqual(['us-east-1/workers-lc', `us-east-1/${copy}`]);
  });

  it('undo moves the group back to its configuration and deletes the copy', async () => {
    const { run, ctx, autoscaling, live, image, record, sim } = await start(lcGroup);
    await run(ctx({ autoscaling: killedAt(autoscaling, 'DescribeScalingActivitiesCommand') }));
    const message = await undoSelfManaged(ctx(), 'workers', (await record())!);
    expect(message).toContain(`LaunchConfigurationName back to workers-lc, the copy workers-lc-eks-ami-drift-${image} deleted`);
    expect(live().launchConfiguration).toBe('workers-lc');
    expect([...sim.world.launchConfigurations.keys()]).toEqual(['us-east-1/workers-lc']);
    expect([live().desired, [...live().suspended.keys()], await record()]).toEqual([4, [], undefined]);
  });

  it('an account that can no longer create launch configurations is told to migrate to a launch template; nothing changed', async () => {
    const { run, live, imageOf, sim } = await start(lcGroup, { noLaunchConfigurations: true });
    const result = await run();
    expect(result.result).toBe('failed');
    expect(result.reason).toBe(
      'this account cannot create launch configurations (UnsupportedOperation: The Launch Configuration creation operation is not available ' +
        'in your account. Use launch templates to create configuration templates for your Auto Scaling groups.): migrate workers from its ' +
        'launch configuration workers-lc to a launch template (Auto Scaling user guide, "Migrate your Auto Scaling groups to launch templates"), ' +
        'then run again. Nothing was changed',
    );
    const old = imageOf(x86(oldRelease));
    expectDone(live(), [old, old, old, old]);
    expect(live().launchConfiguration).toBe('workers-lc');
    expect([...sim.world.launchConfigurations.keys()]).toEqual(['us-east-1/workers-lc']);
  });
});
