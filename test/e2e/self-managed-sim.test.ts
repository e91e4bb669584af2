import { afterEach, describe, expect, it } from '@jest/globals';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  ResumeProcessesCommand,
  SetDesiredCapacityCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { drainNode } from '../../src/effects/drain.js';
import { eksKubeApi, eksToken } from '../../src/fleet/kube-client.js';
import type { NodeTimings } from '../sim/asg.js';
import { KubeState } from '../sim/kube.js';
import type { Faults, FleetSpec } from '../sim/fleet.js';
import { awsImageName } from '../sim/images.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { startSimulator, type Simulator } from '../sim/server.js';

/*
 * The simulator's live self-managed Auto Scaling groups (test/sim/asg.ts), through the AWS SDK and the
 * Kubernetes client the action uses: instances joining as nodes, capacity changes, terminations with and
 * without decrementing the desired capacity, suspended processes, capacity errors, a node never Ready.
 */

const credentials = { accessKeyId: 'AKIASIMULATOR0000000', secretAccessKey: 'simulator-secret-key-not-real-0000000000' };
const release = releasesOf('AL2023_x86_64_STANDARD', '1.33').at(-1)!.releaseVersion;
/** `s` virtual seconds pass at once (the clock runs at wall speed otherwise, so no test depends on how long a request takes). */
const pass = (s: number) => sim!.world.clock.advance(s * 1000);

function fleet(timings?: Partial<NodeTimings>): FleetSpec {
  return {
    clusters: [
      {
        name: 'prod',
        region: 'us-east-1',
        version: '1.33',
        nodegroups: [],
        selfManaged: [
          {
            name: 'workers',
            desiredSize: 4,
            launchTemplate: {
              id: 'lt-0workers000000001',
              name: 'workers',
              version: '3',
              image: { aws: awsImageName('AL2023_x86_64_STANDARD', '1.33', release) },
            },
            live: { min: 2, max: 4, eksctl: true, ...(timings ? { timings } : {}) },
          },
        ],
      },
    ],
    parameters: amazonLinuxParameters(),
  };
}

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(faults: Faults = {}, timings?: Partial<NodeTimings>) {
  sim = await startSimulator(fleet(timings), { faults });
  const asg = new AutoScalingClient({ region: 'us-east-1', endpoint: sim.url, credentials, maxAttempts: 1 });
  const kube = eksKubeApi('prod', { server: `${sim.url}/k8s/us-east-1/prod` }, () => eksToken('prod', 'us-east-1', async () => credentials));
  const describe = async () => (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['workers'] }))).AutoScalingGroups![0]!;
  const ready = async () =>
    (await kube.listNodes('alpha.eksctl.io/nodegroup-name=workers')).filter((n) =>
      n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
  return { sim, asg, kube, describe, ready };
}

describe('live self-managed Auto Scaling groups in the simulator', () => {
  it('runs its instances as Ready nodes with a provider ID and the kubelet and eksctl labels', async () => {
    const { kube, describe } = await start();
    const group = await describe();
    expect(group.Instances).toHaveLength(4);
    expect(group.Instances!.map((i) => i.LaunchTemplate?.Version)).toEqual(['3', '3', '3', '3']);
    const nodes = await kube.listNodes('');
    expect(nodes).toHaveLength(4);
    const byInstance = new Map(nodes.map((n) => [n.spec?.providerID, n]));
    for (const i of group.Instances!) {
      const node = byInstance.get(`aws:///${i.AvailabilityZone}/${i.InstanceId}`);
      expect(node?.metadata?.labels).toEqual({
        'kubernetes.io/hostname': node?.metadata?.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'm5.large',
        'topology.kubernetes.io/region': 'us-east-1',
        'topology.kubernetes.io/zone': i.AvailabilityZone,
        'alpha.eksctl.io/cluster-name': 'prod',
        'alpha.eksctl.io/nodegroup-name': 'workers',
      });
      expect(node?.status?.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'True' })]);
    }
    // Spread over the two zones.
    expect(group.Instances!.filter((i) => i.AvailabilityZone === 'us-east-1a')).toHaveLength(2);
  });

  it('surges: a higher maximum and desired capacity launch instances whose nodes join, then become Ready', async () => {
    const { asg, describe, ready, kube } = await start();
    await expect(asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'workers', DesiredCapacity: 6 }))).rejects.toThrow(
      'New SetDesiredCapacity value 6 is above max value 4 for the AutoScalingGroup.',
    );
    await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'workers', MaxSize: 6 }));
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'workers', DesiredCapacity: 6 }));
    const g = await describe();
    expect([g.MaxSize, g.DesiredCapacity, g.Instances!.filter((i) => i.LifecycleState === 'Pending').length]).toEqual([6, 6, 2]);
    expect(await kube.listNodes('')).toHaveLength(4);
    pass(65);
    expect(await kube.listNodes('')).toHaveLength(6);
    expect(await ready()).toHaveLength(4);
    pass(30);
    expect(await ready()).toHaveLength(6);
  });

  it("takes a group's own launch-to-node times: slow nodes stay Pending, unregistered and NotReady until their time", async () => {
    const { asg, describe, ready, kube } = await start({}, { inServiceMs: 60_000, joinMs: 240_000, readyMs: 270_000 });
    await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'workers', MaxSize: 5, DesiredCapacity: 5 }));
    const fresh = async () =>
      (await describe()).Instances!.filter((i) => i.LaunchTemplate?.Version === '3').find((i) => i.InstanceId && !first.has(i.InstanceId));
    const first = new Set<string>();
    for (const i of (await describe()).Instances!) if (i.LifecycleState === 'InService') first.add(i.InstanceId!);
    expect(first.size).toBe(4);
    // The defaults would have it InService at 30 s, a node at 60 s, Ready at 90 s.
    pass(45);
    expect((await fresh())?.LifecycleState).toBe('Pending');
    pass(50);
    expect((await fresh())?.LifecycleState).toBe('InService');
    expect(await kube.listNodes('')).toHaveLength(4);
    pass(150);
    expect(await kube.listNodes('')).toHaveLength(5);
    expect(await ready()).toHaveLength(4);
    pass(30);
    expect(await ready()).toHaveLength(5);
  });

  it('terminates an instance: decrementing the desired capacity, or launching a replacement', async () => {
    const { asg, describe, kube, sim } = await start();
    const [first, second] = (await describe()).Instances!;
    await expect(
      asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: 'i-00000000000000000', ShouldDecrementDesiredCapacity: true })),
    ).rejects.toThrow('Instance Id not found');
    const { Activity } = await asg.send(
      new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: first!.InstanceId, ShouldDecrementDesiredCapacity: true }),
    );
    expect(Activity?.Description).toBe(`Terminating EC2 instance: ${first!.InstanceId}`);
    let g = await describe();
    expect(g.DesiredCapacity).toBe(3);
    expect(g.Instances!.find((i) => i.InstanceId === first!.InstanceId)?.LifecycleState).toBe('Terminating');
    pass(35);
    g = await describe();
    expect(g.Instances).toHaveLength(3);
    expect(await kube.listNodes('')).toHaveLength(3);
    // Without decrement: the desired capacity stays and a replacement launches.
    await asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: second!.InstanceId, ShouldDecrementDesiredCapacity: false }));
    g = await describe();
    expect(g.DesiredCapacity).toBe(3);
    expect(g.Instances!.filter((i) => i.LifecycleState === 'Pending')).toHaveLength(1);
    // Below the minimum it refuses to decrement.
    await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'workers', MinSize: 3 }));
    const third = (await describe()).Instances!.find((i) => i.LifecycleState === 'InService')!;
    await expect(
      asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: third.InstanceId, ShouldDecrementDesiredCapacity: true })),
    ).rejects.toThrow('Currently, desiredSize equals minSize (3).');
    expect(sim.world.groupOf('us-east-1', 'workers')!.activities.filter((a) => a.description.startsWith('Terminating'))).toHaveLength(2);
  });

  it('lists suspended processes, and Launch, Terminate and AZRebalance suspended stop what they name until resumed', async () => {
    const { asg, describe } = await start();
    await expect(asg.send(new SuspendProcessesCommand({ AutoScalingGroupName: 'workers', ScalingProcesses: ['Lunch'] }))).rejects.toThrow(
      'Unknown process type: Lunch',
    );
    await asg.send(new SuspendProcessesCommand({ AutoScalingGroupName: 'workers', ScalingProcesses: ['Launch', 'Terminate', 'AZRebalance'] }));
    let g = await describe();
    expect(g.SuspendedProcesses!.map((p) => p.ProcessName)).toEqual(['Launch', 'Terminate', 'AZRebalance']);
    expect(g.SuspendedProcesses![0]!.SuspensionReason).toMatch(/^User suspended at \d{4}-/);
    // Launch suspended: a termination without decrement is not replaced.
    const [a, b] = g.Instances!;
    await asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: a!.InstanceId, ShouldDecrementDesiredCapacity: false }));
    pass(35);
    g = await describe();
    expect([g.DesiredCapacity, g.Instances!.length]).toEqual([4, 3]);
    // Terminate suspended: a lower desired capacity removes nothing.
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'workers', DesiredCapacity: 2 }));
    g = await describe();
    expect(g.Instances!.filter((i) => i.LifecycleState !== 'Terminating')).toHaveLength(3);
    // Resumed (all, no list): scale-in to 2, in the zone with the most instances first.
    await asg.send(new ResumeProcessesCommand({ AutoScalingGroupName: 'workers' }));
    g = await describe();
    expect(g.SuspendedProcesses).toEqual([]);
    const staying = g.Instances!.filter((i) => i.LifecycleState !== 'Terminating');
    expect(staying).toHaveLength(2);
    expect(new Set(staying.map((i) => i.AvailabilityZone)).size).toBe(2);
    expect(b).toBeDefined();
  });

  it('rebalances zones after terminations with decrement unless AZRebalance is suspended', async () => {
    const { asg, describe } = await start();
    await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'workers', MinSize: 0 }));
    const inA = (await describe()).Instances!.filter((i) => i.AvailabilityZone === 'us-east-1a');
    await asg.send(new SuspendProcessesCommand({ AutoScalingGroupName: 'workers', ScalingProcesses: ['AZRebalance'] }));
    for (const i of inA) await asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: i.InstanceId, ShouldDecrementDesiredCapacity: true }));
    pass(35);
    let g = await describe();
    expect(g.Instances!.map((i) => i.AvailabilityZone)).toEqual(['us-east-1b', 'us-east-1b']);
    await asg.send(new ResumeProcessesCommand({ AutoScalingGroupName: 'workers', ScalingProcesses: ['AZRebalance'] }));
    g = await describe();
    // One launched in us-east-1a, one of us-east-1b's terminated.
    expect(g.Instances!.filter((i) => i.LifecycleState === 'Pending').map((i) => i.AvailabilityZone)).toEqual(['us-east-1a']);
    expect(g.Instances!.filter((i) => i.LifecycleState === 'Terminating').map((i) => i.AvailabilityZone)).toEqual(['us-east-1b']);
  });

  it('records InsufficientInstanceCapacity as a failed scaling activity when EC2 has no capacity', async () => {
    const { asg, describe } = await start({ asgCapacity: { workers: 5 } });
    await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'workers', MaxSize: 8, DesiredCapacity: 8 }));
    expect((await describe()).Instances).toHaveLength(5);
    const { Activities } = await asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'workers' }));
    expect(Activities![0]).toMatchObject({
      StatusCode: 'Failed',
      Description: expect.stringContaining('InsufficientInstanceCapacity'),
      StatusMessage: expect.stringContaining('We currently do not have sufficient m5.large capacity in the Availability Zone you requested'),
    });
    expect(Activities!.filter((a) => a.StatusCode === 'Successful').map((a) => a.Description)).toEqual([
      expect.stringMatching(/^Launching a new EC2 instance: i-/),
    ]);
  });

  it('a group whose new nodes never become Ready: they register NotReady and stay so', async () => {
    const { asg, kube, ready } = await start({ neverReadyGroups: ['workers'] });
    await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'workers', MaxSize: 5, DesiredCapacity: 5 }));
    pass(600);
    expect(await kube.listNodes('')).toHaveLength(5);
    expect(await ready()).toHaveLength(4);
    const notReady = (await kube.listNodes('')).find((n) => n.status?.conditions?.[0]?.status === 'False');
    expect(notReady?.status?.conditions).toEqual([{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }]);
  });

  it('a terminated instance takes its pods with it (not through the eviction API), unless its node was drained first', async () => {
    const { asg, kube, describe, sim } = await start();
    const state = sim.world.kubeOf(sim.world.fleet.clusters[0]!);
    const lifecycle = sim.world.podLifecycle(sim.world.fleet.clusters[0]!);
    const [first, second] = (await describe()).Instances!;
    const nodeOf = async (id: string) => (await kube.listNodes('')).find((n) => n.spec?.providerID?.endsWith(`/${id}`))!.metadata!.name!;
    // A ReplicaSet's pod on each of the two instances' nodes.
    for (const [i, id] of [first!.InstanceId!, second!.InstanceId!].entries()) {
      state.pods.set(KubeState.key('shop', `web-${i}`), {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `web-${i}`,
          namespace: 'shop',
          labels: { app: 'web' },
          ownerReferences: [{ kind: 'ReplicaSet', name: 'web-1', uid: 'u', controller: true }],
        },
        spec: { nodeName: await nodeOf(id) },
        status: { phase: 'Running' },
      });
    }
    // Terminated without a drain: its pod is gone with the node.
    await asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: first!.InstanceId, ShouldDecrementDesiredCapacity: true }));
    pass(35);
    await kube.listNodes('');
    expect(lifecycle.removals.map((r) => [r.pod, r.via])).toEqual([['shop/web-0', 'node-gone']]);
    // Drained first (the clock runs at wall speed: a short timeout and poll, the pod's grace period passed by hand), then terminated.
    const node = await nodeOf(second!.InstanceId!);
    const drained = drainNode(kube, node, { now: () => sim.world.clock.now(), sleep: async () => void pass(31), pollIntervalMs: 1000 });
    expect((await drained).evicted).toEqual(['shop/web-1']);
    await asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: second!.InstanceId, ShouldDecrementDesiredCapacity: true }));
    pass(35);
    await kube.listNodes('');
    expect(lifecycle.removals.map((r) => [r.pod, r.via])).toEqual([
      ['shop/web-0', 'node-gone'],
      ['shop/web-1', 'eviction'],
    ]);
    expect((await describe()).DesiredCapacity).toBe(2);
  });
});
