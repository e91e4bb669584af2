import { afterEach, describe, expect, it } from '@jest/globals';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DescribeClusterCommand, EKSClient, ListClustersCommand, ResourceNotFoundException } from '@aws-sdk/client-eks';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { AwsCredentialIdentity } from '@smithy/types';
import { startSimulator, type Simulator } from '../sim/server.js';
import { generatedFleet } from '../sim/example-fleet.js';
import type { FleetSpec, SimOptions } from '../sim/fleet.js';
import { eksToken } from '../../src/fleet/kube-client.js';

/*
 * The simulator's member accounts (SimOptions.members): STS AssumeRole from the hub's credentials into
 * each member's role, and every request signed with a member session served by that member's own
 * account, through the real SDK clients.
 */
const HUB = '111111111111';
const A = '222222222222';
const B = '333333333333';
const HUB_KEYS = { accessKeyId: 'AKIASIMULATOR0000000', secretAccessKey: 'simulator-secret-key-not-real-0000000000' };

/** One cluster named for its account, and no parameters of its own (AWS's public ones come from the hub's fleet). */
function fleetOf(cluster: string): FleetSpec {
  const fleet = generatedFleet(1);
  return { clusters: fleet.clusters.map((c) => ({ ...c, name: cluster })), parameters: [] };
}

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: SimOptions = {}): Promise<Simulator> {
  sim = await startSimulator(
    { ...fleetOf('hub-prod'), accountId: HUB, parameters: generatedFleet(1).parameters },
    {
      members: [
        { accountId: A, fleet: fleetOf('payments-prod'), role: { name: 'eks-ami-drift', maxSessionSeconds: 43200 } },
        { accountId: B, fleet: fleetOf('search-prod'), role: { name: 'eks-ami-drift', trusts: 'nobody' } },
      ],
      ...options,
    },
  );
  return sim;
}

const client = <T>(make: new (c: object) => T, s: Simulator, credentials: AwsCredentialIdentity): T =>
  new make({ region: 'us-east-1', endpoint: s.url, credentials, maxAttempts: 1 });

async function assume(s: Simulator, caller: AwsCredentialIdentity, roleArn: string, durationSeconds?: number) {
  const out = await client(STSClient, s, caller).send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'eks-ami-drift', ...(durationSeconds ? { DurationSeconds: durationSeconds } : {}) }),
  );
  const c = out.Credentials!;
  return { out, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } };
}

describe('the simulator: member accounts', () => {
  it('AssumeRole from the hub: the member session sees the member account only, and the hub its own', async () => {
    const s = await start();
    const { out, credentials } = await assume(s, HUB_KEYS, `arn:aws:iam::${A}:role/eks-ami-drift`);
    expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${A}:assumed-role/eks-ami-drift/eks-ami-drift`);
    expect(out.Credentials?.Expiration?.getTime()).toBe(s.identity.assumedRoles[0]!.at + 3600_000);
    expect(s.identity.assumedRoles).toEqual([
      { at: expect.any(Number), roleArn: `arn:aws:iam::${A}:role/eks-ami-drift`, account: A, durationSeconds: 3600, chained: false },
    ]);

    const memberEks = client(EKSClient, s, credentials);
    expect((await memberEks.send(new ListClustersCommand({}))).clusters).toEqual(['payments-prod']);
    const { cluster } = await memberEks.send(new DescribeClusterCommand({ name: 'payments-prod' }));
    expect(cluster?.endpoint).toBe(`${s.url}/k8s/${A}/us-east-1/payments-prod`);
    expect(cluster?.arn).toContain(`:${A}:`);
    await expect(memberEks.send(new DescribeClusterCommand({ name: 'hub-prod' }))).rejects.toBeInstanceOf(ResourceNotFoundException);

    const hubEks = client(EKSClient, s, HUB_KEYS);
    expect((await hubEks.send(new ListClustersCommand({}))).clusters).toEqual(['hub-prod']);
    expect((await hubEks.send(new DescribeClusterCommand({ name: 'hub-prod' }))).cluster?.endpoint).toBe(`${s.url}/k8s/us-east-1/hub-prod`);
    await expect(hubEks.send(new DescribeClusterCommand({ name: 'payments-prod' }))).rejects.toBeInstanceOf(ResourceNotFoundException);

    // AWS's public parameters are there in the member's region too.
    const ssm = client(SSMClient, s, credentials);
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: '/aws/service/bottlerocket/aws-k8s-1.33/x86_64/latest/image_version' }));
    expect(Parameter?.Value).toBe('1.34.0-18d04e52');

    // Each call is logged with the account that served it, and counted per account.
    expect(s.log.map((l) => `${l.account} ${l.service}:${l.operation}`)).toEqual([
      `${HUB} sts:AssumeRole`,
      `${A} eks:ListClusters`,
      `${A} eks:DescribeCluster`,
      `${A} eks:DescribeCluster`,
      `${HUB} eks:ListClusters`,
      `${HUB} eks:DescribeCluster`,
      `${HUB} eks:DescribeCluster`,
      `${A} ssm:GetParameter`,
    ]);
    expect(s.countsByAccount()[A]).toEqual({ 'eks:ListClusters': 1, 'eks:DescribeCluster': 2, 'ssm:GetParameter': 1 });
    // One virtual clock for every account.
    expect(s.members.get(A)?.world.clock).toBe(s.world.clock);
  });

  it('a role that trusts nobody the run has, an unknown role, a member session: STS AccessDenied naming the caller and the role', async () => {
    const s = await start();
    const denied = (role: string, caller = `arn:aws:iam::${HUB}:user/eks-ami-drift`) =>
      `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${role}`;
    const refused = await assume(s, HUB_KEYS, `arn:aws:iam::${B}:role/eks-ami-drift`).catch(
      (e: unknown) => e as Error & { $metadata: { httpStatusCode: number } },
    );
    expect(refused).toMatchObject({ name: 'AccessDenied', message: denied(`arn:aws:iam::${B}:role/eks-ami-drift`), $metadata: { httpStatusCode: 403 } });
    await expect(assume(s, HUB_KEYS, 'arn:aws:iam::444444444444:role/eks-ami-drift')).rejects.toThrow(denied('arn:aws:iam::444444444444:role/eks-ami-drift'));
    // A member's session cannot hop to another member (the member roles trust the hub only).
    const { credentials } = await assume(s, HUB_KEYS, `arn:aws:iam::${A}:role/eks-ami-drift`);
    await expect(assume(s, credentials, `arn:aws:iam::${A}:role/eks-ami-drift`)).rejects.toThrow(
      denied(`arn:aws:iam::${A}:role/eks-ami-drift`, `arn:aws:sts::${A}:assumed-role/eks-ami-drift/eks-ami-drift`),
    );
    expect(s.identity.assumedRoles.map((r) => r.account)).toEqual([A]);
  });

  it('DurationSeconds: a chained session gets at most one hour, whatever the role allows; long-term keys get up to the role maximum', async () => {
    // The hub's credentials are a session (as aws-actions/configure-aws-credentials exports): chaining.
    const s = await start({ identity: { staticSessionSeconds: 3600 } });
    const session = s.identity.staticCredentials;
    const hubSession = { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken! };
    const role = `arn:aws:iam::${A}:role/eks-ami-drift`;
    const chained = await assume(s, hubSession, role, 7200).catch((e: unknown) => e as Error);
    expect(chained).toMatchObject({
      name: 'ValidationError',
      message: 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    });
    await assume(s, hubSession, role, 3600);
    await expect(assume(s, hubSession, role, 899)).rejects.toThrow("Value '899' at 'durationSeconds' failed to satisfy constraint");
    expect(s.identity.assumedRoles).toEqual([expect.objectContaining({ durationSeconds: 3600, chained: true })]);
  });

  it('DurationSeconds from long-term keys: up to the role maximum, and past it refused', async () => {
    const s = await start({
      members: [
        { accountId: A, fleet: fleetOf('payments-prod'), role: { name: 'eks-ami-drift', maxSessionSeconds: 43200 } },
        { accountId: B, fleet: fleetOf('search-prod'), role: { name: 'drift', path: '/automation/' } },
      ],
    });
    const { out } = await assume(s, HUB_KEYS, `arn:aws:iam::${A}:role/eks-ami-drift`, 7200);
    expect(out.Credentials?.Expiration?.getTime()).toBe(s.identity.assumedRoles[0]!.at + 7200_000);
    await expect(assume(s, HUB_KEYS, `arn:aws:iam::${B}:role/automation/drift`, 7200)).rejects.toThrow(
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );
    // A role with a path: its session's ARN names the role without the path.
    expect((await assume(s, HUB_KEYS, `arn:aws:iam::${B}:role/automation/drift`)).out.AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::${B}:assumed-role/drift/eks-ami-drift`,
    );
  });

  it("a member cluster's API server accepts that member's sessions only: the hub's token is 401, and the hub's cluster refuses a member's", async () => {
    const s = await start();
    const { credentials } = await assume(s, HUB_KEYS, `arn:aws:iam::${A}:role/eks-ami-drift`);
    const get = async (url: string, creds: AwsCredentialIdentity, cluster: string) =>
      (await fetch(`${url}/api/v1/nodes`, { headers: { authorization: `Bearer ${(await eksToken(cluster, 'us-east-1', async () => creds)).token}` } })).status;
    const member = `${s.url}/k8s/${A}/us-east-1/payments-prod`;
    expect(await get(member, credentials, 'payments-prod')).toBe(200);
    expect(await get(member, HUB_KEYS, 'payments-prod')).toBe(401);
    const hub = `${s.url}/k8s/us-east-1/hub-prod`;
    expect(await get(hub, HUB_KEYS, 'hub-prod')).toBe(200);
    expect(await get(hub, credentials, 'hub-prod')).toBe(401);
  });

  it("the hub's policy: without sts:AssumeRole, or on other resources, AccessDenied; the member role's allow-list governs the member's calls", async () => {
    const s = await start({ faults: { allow: ['eks:ListClusters'] } });
    const role = `arn:aws:iam::${A}:role/eks-ami-drift`;
    await expect(assume(s, HUB_KEYS, role)).rejects.toThrow(`is not authorized to perform: sts:AssumeRole on resource: ${role}`);
    s.setFaults({ allow: ['sts:AssumeRole'], allowResources: { 'sts:AssumeRole': ['arn:aws:iam::*:role/other-role'] } });
    await expect(assume(s, HUB_KEYS, role)).rejects.toThrow('sts:AssumeRole');
    s.setFaults({ allow: ['sts:AssumeRole'], allowResources: { 'sts:AssumeRole': ['arn:aws:iam::*:role/eks-ami-drift'] } });
    const { credentials } = await assume(s, HUB_KEYS, role);
    // The hub's allow-list does not govern the member session: the member role's does (all, here).
    expect((await client(EKSClient, s, credentials).send(new ListClustersCommand({}))).clusters).toEqual(['payments-prod']);
  });

  it("a member role's allow-list refuses what it lacks, naming the member session", async () => {
    const s = await start({
      members: [{ accountId: A, fleet: fleetOf('payments-prod'), role: { name: 'eks-ami-drift' }, allow: ['eks:ListClusters'] }],
    });
    const { credentials } = await assume(s, HUB_KEYS, `arn:aws:iam::${A}:role/eks-ami-drift`);
    const eks = client(EKSClient, s, credentials);
    expect((await eks.send(new ListClustersCommand({}))).clusters).toEqual(['payments-prod']);
    await expect(eks.send(new DescribeClusterCommand({ name: 'payments-prod' }))).rejects.toThrow(
      `User: arn:aws:sts::${A}:assumed-role/eks-ami-drift/eks-ami-drift is not authorized to perform: eks:DescribeCluster`,
    );
  });
});
