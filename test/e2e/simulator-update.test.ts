import { afterEach, describe, expect, it } from '@jest/globals';
import {
  DescribeClusterCommand,
  paginateListUpdates,
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  EKSClient,
  InvalidParameterException,
  ListUpdatesCommand,
  ResourceInUseException,
  UpdateNodegroupVersionCommand,
} from '@aws-sdk/client-eks';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { eksKubeApi, eksToken } from '../../src/fleet/kube-client.js';
import { verifyToken } from '../sim/kube.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import type { FleetSpec } from '../sim/fleet.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';

const credentials = { accessKeyId: 'AKIASIMULATOR0000000', secretAccessKey: 'simulator-secret-key-not-real-0000000000' };
const [older, newer] = releasesOf('AL2023_x86_64_STANDARD', '1.33')
  .slice(-2)
  .map((r) => r.releaseVersion) as [string, string];

function fleet(extra: Partial<FleetSpec['clusters'][number]> = {}): FleetSpec {
  return {
    clusters: [
      {
        name: 'prod',
        region: 'us-east-1',
        version: '1.33',
        nodegroups: [{ name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: older, desiredSize: 3 }],
        workloads: [{ name: 'api', namespace: 'shop', labels: { app: 'api' }, nodegroup: 'general', replicas: 3 }],
        ...extra,
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

async function start(spec: FleetSpec, options: Parameters<typeof startSimulator>[1] = {}) {
  sim = await startSimulator(spec, { clockSpeed: 600, ...options });
  const config = { region: 'us-east-1', endpoint: sim.url, credentials, maxAttempts: 1 };
  const kube = eksKubeApi('prod', { server: `${sim.url}/k8s/us-east-1/prod` }, () => eksToken('prod', 'us-east-1', async () => credentials));
  return { sim, eks: new EKSClient(config), asg: new AutoScalingClient(config), kube };
}

async function waitFor(eks: EKSClient, updateId: string) {
  for (;;) {
    const { update } = await eks.send(new DescribeUpdateCommand({ name: 'prod', nodegroupName: 'general', updateId }));
    if (update?.status !== 'InProgress') return update;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the simulated Kubernetes API', () => {
  it('accepts an EKS token for its own cluster only, as EKS checks it', async () => {
    const sessions = (id: string) => (id === credentials.accessKeyId ? { ...credentials, expiresAt: null } : undefined);
    const prod = { name: 'prod', region: 'us-east-1' };
    const token = `Bearer ${(await eksToken('prod', 'us-east-1', async () => credentials)).token}`;
    expect(await verifyToken(token, prod, sessions)).toEqual({ ok: true });
    expect((await verifyToken(token, { name: 'staging', region: 'us-east-1' }, sessions)).reason).toBe('the signature does not match cluster staging');
    const old = `Bearer ${(await eksToken('prod', 'us-east-1', async () => credentials, new Date(Date.now() - 16 * 60_000))).token}`;
    expect((await verifyToken(old, prod, sessions)).reason).toBe('the token has expired');
    expect((await verifyToken('Bearer abc', prod, sessions)).ok).toBe(false);
    // a session that STS no longer accepts makes the token worthless, however fresh the token is
    const expired = (id: string) => (id === credentials.accessKeyId ? { ...credentials, expiresAt: Date.now() - 1 } : undefined);
    expect((await verifyToken(token, prod, expired)).reason).toBe('the security token included in the request is expired');
    // China: the token must be presigned for the partition's own STS domain
    const china = `Bearer ${(await eksToken('prod', 'cn-north-1', async () => credentials)).token}`;
    expect(Buffer.from(china.slice('Bearer k8s-aws-v1.'.length), 'base64url').toString()).toMatch(/^https:\/\/sts\.cn-north-1\.amazonaws\.com\.cn\/\?/);
    expect(await verifyToken(china, { name: 'prod', region: 'cn-north-1' }, sessions)).toEqual({ ok: true });
    expect((await verifyToken(token, { name: 'prod', region: 'cn-north-1' }, sessions)).reason).toBe(
      'unexpected host sts.us-east-1.amazonaws.com (expected sts.cn-north-1.amazonaws.com.cn)',
    );
  });

  it('serves nodes with the EKS labels, pods, budgets and deployments to the real client', async () => {
    const { kube } = await start(fleet({ pdbs: [{ name: 'api', namespace: 'shop', matchLabels: { app: 'api' }, minAvailable: 3 }] }));
    const nodes = await kube.listNodes('eks.amazonaws.com/nodegroup=general');
    expect(nodes).toHaveLength(3);
    expect(nodes[0]?.metadata?.labels?.['eks.amazonaws.com/nodegroup-image']).toMatch(/^ami-/);
    const pods = await kube.listPods(`spec.nodeName=${nodes[0]?.metadata?.name}`);
    // a Deployment's pod, named and owned through its ReplicaSet as Kubernetes does
    expect(pods.map((p) => [p.metadata?.name, p.metadata?.ownerReferences?.[0]?.kind])).toEqual([
      [expect.stringMatching(/^api-[0-9a-f]{10}-[0-9a-f]{5}$/), 'ReplicaSet'],
    ]);
    expect(pods[0]?.status?.conditions).toEqual([{ type: 'Ready', status: 'True' }]);
    const [pdb] = await kube.listPodDisruptionBudgets();
    expect(pdb?.status?.disruptionsAllowed).toBe(0);
    const ca = (await kube.listAllDeployments()).find((d) => d.metadata?.labels?.app === 'cluster-autoscaler');
    expect(ca?.spec?.replicas).toBe(1);
    const patched = await kube.patchDeployment('kube-system', 'cluster-autoscaler', [
      { op: 'test', path: '/metadata/resourceVersion', value: ca?.metadata?.resourceVersion },
      { op: 'replace', path: '/spec/replicas', value: 0 },
    ]);
    expect(patched.spec?.replicas).toBe(0);
    await expect(
      kube.patchDeployment('kube-system', 'cluster-autoscaler', [{ op: 'test', path: '/metadata/resourceVersion', value: '1' }]),
    ).rejects.toMatchObject({ code: 422 });
    await expect(kube.readDeployment('kube-system', 'nope')).rejects.toMatchObject({ code: 404 });
  });

  it('gets a new token before the old one expires, during long waits', async () => {
    const { sim } = await start(fleet());
    let clock = Date.now();
    let tokens = 0;
    const kube = eksKubeApi(
      'prod',
      { server: `${sim.url}/k8s/us-east-1/prod` },
      async () => {
        tokens++;
        return eksToken('prod', 'us-east-1', async () => credentials);
      },
      { now: () => clock },
    );
    await Promise.all([kube.listNodes(''), kube.listPods(''), kube.listPodDisruptionBudgets()]);
    expect(tokens).toBe(1);
    clock += 9 * 60_000;
    await kube.listNodes('');
    expect(tokens).toBe(1);
    clock += 2 * 60_000; // 11 minutes: renewed, well before the 15-minute expiry
    await kube.listNodes('');
    expect(tokens).toBe(2);
  });

  it('refuses what the RBAC allow-list does not grant', async () => {
    const { kube } = await start(fleet(), { faults: { kubeAllow: ['list nodes'] } });
    await expect(kube.listNodes('')).resolves.toHaveLength(3);
    await expect(kube.listAllDeployments()).rejects.toMatchObject({ code: 403 });
  });
});

describe('the simulated node group update', () => {
  it('goes through setup, scale up, upgrade and scale down, replacing every node', async () => {
    const { eks, asg, kube, sim } = await start(fleet({ autoscaler: null }));
    const oldImage = (await kube.listNodes('eks.amazonaws.com/nodegroup=general'))[0]?.metadata?.labels?.['eks.amazonaws.com/nodegroup-image'];
    const { update } = await eks.send(
      new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', version: '1.33', releaseVersion: newer }),
    );
    expect(update).toMatchObject({ status: 'InProgress', type: 'VersionUpdate' });
    expect((await eks.send(new DescribeNodegroupCommand({ clusterName: 'prod', nodegroupName: 'general' }))).nodegroup?.status).toBe('UPDATING');

    let sawSurge = false;
    for (;;) {
      const groups = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['eks-general-sim'] }));
      if ((groups.AutoScalingGroups?.[0]?.DesiredCapacity ?? 0) > 3) sawSurge = true;
      const { update: u } = await eks.send(new DescribeUpdateCommand({ name: 'prod', nodegroupName: 'general', updateId: update?.id }));
      if (u?.status !== 'InProgress') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(sawSurge).toBe(true);
    const u = sim.world.updates[0]!;
    expect(u.status).toBe('Successful');
    expect(u.phases.map((p) => p.phase)).toEqual(['setup', 'scale-up', 'upgrade', 'scale-down']);
    const { nodegroup } = await eks.send(new DescribeNodegroupCommand({ clusterName: 'prod', nodegroupName: 'general' }));
    expect(nodegroup).toMatchObject({ status: 'ACTIVE', releaseVersion: newer });
    const nodes = await kube.listNodes('eks.amazonaws.com/nodegroup=general');
    expect(nodes).toHaveLength(3);
    expect(nodes.every((n) => n.metadata?.labels?.['eks.amazonaws.com/nodegroup-image'] !== oldImage)).toBe(true);
    expect((await eks.send(new ListUpdatesCommand({ name: 'prod', nodegroupName: 'general' }))).updateIds).toEqual([update?.id]);
  });

  it('fails with PodEvictionFailure after 15 minutes when a budget allows no disruption, unless forced', async () => {
    const blocked = fleet({ autoscaler: null, pdbs: [{ name: 'api', namespace: 'shop', matchLabels: { app: 'api' }, minAvailable: 3 }] });
    const { eks, sim } = await start(blocked);
    const { update } = await eks.send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: newer }));
    const done = await waitFor(eks, update!.id!);
    expect(done).toMatchObject({ status: 'Failed', errors: [expect.objectContaining({ errorCode: 'PodEvictionFailure' })] });
    const u = sim.world.updates[0]!;
    expect((u.endedAt ?? 0) - u.phases.find((p) => p.phase === 'upgrade')!.at).toBeGreaterThanOrEqual(15 * 60_000);
    expect((await eks.send(new DescribeNodegroupCommand({ clusterName: 'prod', nodegroupName: 'general' }))).nodegroup).toMatchObject({
      status: 'ACTIVE',
      releaseVersion: older,
    });

    const forced = await eks.send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: newer, force: true }));
    expect(await waitFor(eks, forced.update!.id!)).toMatchObject({ status: 'Successful' });
  });

  it('evicts as the eviction API does: unready pods under AlwaysAllow, pods of a budget without a selector', async () => {
    // all three api pods unready (a degraded workload), under a budget that allows no disruption
    const degraded = fleet({
      autoscaler: null,
      workloads: [{ name: 'api', namespace: 'shop', labels: { app: 'api' }, nodegroup: 'general', replicas: 3, notReady: 3 }],
      pdbs: [
        { name: 'api', namespace: 'shop', matchLabels: { app: 'api' }, minAvailable: 3, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
        { name: 'nothing', namespace: 'shop', matchLabels: null, minAvailable: 3 },
      ],
    });
    const { eks, kube, sim } = await start(degraded);
    const budgets = await kube.listPodDisruptionBudgets();
    expect(
      budgets.map((b) => [b.metadata?.name, b.spec?.selector ?? null, b.status?.disruptionsAllowed, b.status?.currentHealthy, b.status?.desiredHealthy]),
    ).toEqual([
      ['api', { matchLabels: { app: 'api' } }, 0, 0, 3],
      ['nothing', null, 0, 0, 3],
    ]);
    const pods = [...sim.world.kubeOf(degraded.clusters[0]!).pods.values()];
    expect(pods.map((p) => sim.world.kubeOf(degraded.clusters[0]!).evictionRefusal(p))).toEqual([undefined, undefined, undefined]);
    const { update } = await eks.send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: newer }));
    expect(await waitFor(eks, update!.id!)).toMatchObject({ status: 'Successful' });
  });

  it('lets a running cluster-autoscaler scale the group during scale down, and then keeps the larger size', async () => {
    const { eks, asg } = await start(fleet());
    const { update } = await eks.send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: newer }));
    expect(await waitFor(eks, update!.id!)).toMatchObject({ status: 'Successful' });
    const groups = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['eks-general-sim'] }));
    expect(groups.AutoScalingGroups?.[0]?.DesiredCapacity).toBeGreaterThan(3);
  });

  it('refuses a second update, a release EKS does not offer, and repeats an update for the same token', async () => {
    const { eks, sim } = await start(fleet());
    const first = await eks.send(
      new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: newer, clientRequestToken: 'abc' }),
    );
    const again = await eks.send(
      new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: newer, clientRequestToken: 'abc' }),
    );
    expect(again.update?.id).toBe(first.update?.id);
    await expect(eks.send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: newer }))).rejects.toBeInstanceOf(
      ResourceInUseException,
    );
    await waitFor(eks, first.update!.id!);
    const invalid = await eks
      .send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: '1.33.99-20990101' }))
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(InvalidParameterException);
    // the current text (eksctl #7976), and the 2020 one that names the allowed release
    expect((invalid as Error).message).toBe('Requested release version 1.33.99-20990101 is not valid for kubernetes version 1.33.');
    sim.setFaults({ refusalText: '2020' });
    const invalid2020 = await eks
      .send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: '1.33.99-20990101' }))
      .catch((e: unknown) => e);
    expect((invalid2020 as Error).message).toBe(`Requested Nodegroup release version 1.33.99-20990101 is invalid. Allowed release version is ${newer}`);
    sim.setFaults({});
    const wrongMinor = await eks
      .send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: '1.31.14-20260714' }))
      .catch((e: unknown) => e);
    expect((wrongMinor as Error).message).toBe('Requested release version 1.31.14-20260714 is not valid for kubernetes version 1.33.');
    expect(sim.world.updates).toHaveLength(1);
  });

  it('fails an update with an injected error code', async () => {
    const { eks } = await start(fleet(), { faults: { updateFailures: { 'prod/general': { errorCode: 'NodeCreationFailure', phase: 'scale-up' } } } });
    const { update } = await eks.send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: newer }));
    expect(await waitFor(eks, update!.id!)).toMatchObject({ status: 'Failed', errors: [expect.objectContaining({ errorCode: 'NodeCreationFailure' })] });
  });

  it('lists a long update history in an order that is not the order of time (aws/containers-roadmap#1439), consistently across pages', async () => {
    const history = Array.from({ length: 30 }, (_, i) => ({ releaseVersion: older, status: 'Successful' as const, minutesAgo: (30 - i) * 60 }));
    const spec = fleet();
    spec.clusters[0]!.nodegroups[0]!.history = history;
    const { eks, sim } = await start(spec, { pageSize: 4 });
    const ids: string[] = [];
    for await (const page of paginateListUpdates({ client: eks }, { name: 'prod', nodegroupName: 'general' })) ids.push(...(page.updateIds ?? []));
    expect(new Set(ids).size).toBe(30);
    const byTime = [...sim.world.updates].sort((a, b) => a.createdAt - b.createdAt).map((u) => u.id);
    expect(ids).not.toEqual(byTime);
    expect([...ids].sort()).toEqual([...byTime].sort());
  });

  it('accepts an assumed session until it expires, and never with another session token', async () => {
    const { sim } = await start(fleet(), { identity: { role: { arn: 'arn:aws:iam::123456789012:role/r' } } });
    const token = sim.identity.issueOidcToken('sts.amazonaws.com');
    const session = sim.identity.assumeRoleWithWebIdentity({
      RoleArn: 'arn:aws:iam::123456789012:role/r',
      RoleSessionName: 's',
      WebIdentityToken: token,
      DurationSeconds: 900,
    });
    expect(sim.identity.check(session.accessKeyId, session.sessionToken).source).toBe('assumed');
    expect(() => sim.identity.check(session.accessKeyId, 'other')).toThrow('The security token included in the request is invalid.');
    expect(() =>
      sim.identity.assumeRoleWithWebIdentity({ RoleArn: 'arn:aws:iam::123456789012:role/r', WebIdentityToken: token, DurationSeconds: 7200 }),
    ).toThrow('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    expect(() =>
      sim.identity.assumeRoleWithWebIdentity({ RoleArn: 'arn:aws:iam::123456789012:role/r', WebIdentityToken: sim.identity.issueOidcToken('other') }),
    ).toThrow('Incorrect token audience');
    session.expiresAt = Date.now() - 1;
    sim.identity.sessions.set(session.accessKeyId, session);
    expect(() => sim.identity.check(session.accessKeyId, session.sessionToken)).toThrow('The security token included in the request is expired');
    const denied = await new EKSClient({
      region: 'us-east-1',
      endpoint: sim.url,
      credentials: { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken },
      maxAttempts: 1,
    })
      .send(new DescribeClusterCommand({ name: 'prod' }))
      .catch((e: unknown) => e);
    expect((denied as Error).name).toBe('ExpiredTokenException');
  });
});
