import { afterEach, describe, expect, it } from '@jest/globals';
import { DescribeClusterCommand, EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { assumeRoleProvider, memberRoleProvider } from '../../src/fleet/credentials.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import { generatedFleet } from '../sim/example-fleet.js';
import type { FleetSpec } from '../sim/fleet.js';
import type { TrustPolicy } from '../sim/members.js';
import { markedBlock, readmePolicyActions } from './readme.js';

/*
 * docs/accounts.md's IAM blocks as the simulator's allow-lists: the hub's policy (`iam-policy:hub`) is
 * what the hub's session may do, the member role's trust policy (`iam-trust:member`) whom the member role
 * trusts. The hub is a role the job assumes with its OIDC token (role-to-assume), as the docs' example.
 */
const HUB = '111111111111';
const A = '222222222222';
const HUB_ROLE = `arn:aws:iam::${HUB}:role/eks-ami-drift-hub`;

interface Policy {
  Statement: { Action: string | string[]; Resource: string | string[] }[];
}

const hubPolicy = () => JSON.parse(markedBlock('iam-policy:hub')) as Policy;
const memberTrust = () => JSON.parse(markedBlock('iam-trust:member')) as TrustPolicy;

/** A policy as the simulator's `allow` and `allowResources`. */
function allowList(policy: Policy): { allow: string[]; allowResources: Record<string, string[]> } {
  const allow: string[] = [];
  const allowResources: Record<string, string[]> = {};
  for (const s of policy.Statement) {
    for (const action of [s.Action].flat()) {
      allow.push(action);
      (allowResources[action] ??= []).push(...[s.Resource].flat());
    }
  }
  return { allow, allowResources };
}

function fleetOf(cluster: string): FleetSpec {
  return { clusters: generatedFleet(1).clusters.map((c) => ({ ...c, name: cluster })), parameters: [] };
}

let sim: Simulator | undefined;
const saved = { ...process.env };
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  process.env = { ...saved };
});

async function start(policy: Policy, trust: TrustPolicy, roleName = 'eks-ami-drift'): Promise<Simulator> {
  sim = await startSimulator(
    { clusters: [], parameters: generatedFleet(1).parameters, accountId: HUB },
    {
      identity: { role: { arn: HUB_ROLE } },
      faults: allowList(policy),
      // The member role's permissions: the documented check policy.
      members: [{ accountId: A, fleet: fleetOf('payments-prod'), role: { name: roleName, trustPolicy: trust }, allow: readmePolicyActions('check') }],
    },
  );
  Object.assign(process.env, sim.env(), { AWS_REGION: 'us-east-1' });
  return sim;
}

/** The member provider chained from the hub's role-to-assume provider, as the action makes them. */
function memberCredentials(s: Simulator, roleArn = `arn:aws:iam::${A}:role/eks-ami-drift`) {
  const deps = { mask: () => undefined, region: 'us-east-1' };
  const hub = assumeRoleProvider(
    { roleArn: HUB_ROLE, sessionName: 'eks-ami-drift', durationSeconds: 3600, audience: 'sts.amazonaws.com' },
    { ...deps, getIdToken: async (audience) => s.identity.issueOidcToken(audience) },
  );
  return memberRoleProvider(hub, roleArn, 'eks-ami-drift', 3600, deps);
}

describe("docs/accounts.md's IAM, enforced by the simulator", () => {
  it("the documented hub policy and member trust policy: the member role is assumed, chained, and its session reads the member's clusters", async () => {
    const s = await start(hubPolicy(), memberTrust());
    const eks = new EKSClient({ region: 'us-east-1', endpoint: s.url, credentials: memberCredentials(s), maxAttempts: 1 });
    expect((await eks.send(new ListClustersCommand({}))).clusters).toEqual(['payments-prod']);
    expect((await eks.send(new DescribeClusterCommand({ name: 'payments-prod' }))).cluster?.endpoint).toBe(`${s.url}/k8s/${A}/us-east-1/payments-prod`);
    expect(s.identity.assumedRoles).toEqual([expect.objectContaining({ account: A, durationSeconds: 3600, chained: true })]);
  });

  it("the hub's policy is needed: without its statement, AssumeRole is refused naming sts:AssumeRole, the hub's session and the role", async () => {
    const s = await start({ Statement: [] }, memberTrust());
    await expect(memberCredentials(s)()).rejects.toThrow(
      `User: arn:aws:sts::${HUB}:assumed-role/eks-ami-drift-hub/eks-ami-drift is not authorized to perform: sts:AssumeRole on resource: ` +
        `arn:aws:iam::${A}:role/eks-ami-drift`,
    );
    expect(s.identity.assumedRoles).toEqual([]);
  });

  it("the hub's policy names the role: a member role of another name is refused", async () => {
    const s = await start(hubPolicy(), memberTrust(), 'drift-reader');
    await expect(memberCredentials(s, `arn:aws:iam::${A}:role/drift-reader`)()).rejects.toThrow(
      `is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${A}:role/drift-reader`,
    );
  });

  it("the member's trust policy is needed: naming another principal, the hub is refused", async () => {
    const trust = memberTrust();
    for (const s of trust.Statement) s.Principal = { AWS: `arn:aws:iam::${HUB}:role/someone-else` };
    const s = await start(hubPolicy(), trust);
    await expect(memberCredentials(s)()).rejects.toThrow(`is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${A}:role/eks-ami-drift`);
  });
});
