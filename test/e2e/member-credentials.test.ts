import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import type { AwsCredentialIdentity } from '@smithy/types';
import { memberRoleProvider } from '../../src/fleet/credentials.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import { generatedFleet } from '../sim/example-fleet.js';
import type { FleetSpec, SimOptions } from '../sim/fleet.js';

/*
 * The member-role credential provider (src/fleet/credentials.ts memberRoleProvider), in-process against
 * the simulator's member accounts: the STS client it loads finds the simulator through AWS_ENDPOINT_URL.
 */
const HUB = '111111111111';
const A = '222222222222';
const ROLE_A = `arn:aws:iam::${A}:role/eks-ami-drift`;
const MINUTE = 60_000;

function fleetOf(cluster: string): FleetSpec {
  return { clusters: generatedFleet(1).clusters.map((c) => ({ ...c, name: cluster })), parameters: [] };
}

let sim: Simulator | undefined;
const saved = { ...process.env };
beforeEach(() => {
  // Only Date is faked (the simulator's clock and the SDK's expiry checks read it): timers and I/O run as usual.
  jest.useFakeTimers({
    now: Date.now(),
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
});
afterEach(async () => {
  jest.useRealTimers();
  await sim?.close();
  sim = undefined;
  process.env = { ...saved };
});

async function start(options: SimOptions = {}): Promise<Simulator> {
  sim = await startSimulator(
    { ...fleetOf('hub-prod'), accountId: HUB, parameters: generatedFleet(1).parameters },
    {
      sharedClock: true,
      members: [
        { accountId: A, fleet: fleetOf('payments-prod'), role: { name: 'eks-ami-drift', maxSessionSeconds: 43200 } },
        { accountId: '333333333333', fleet: fleetOf('search-prod'), role: { name: 'eks-ami-drift', trusts: 'nobody' } },
      ],
      ...options,
    },
  );
  Object.assign(process.env, sim.env(), { AWS_REGION: 'us-east-1' });
  return sim;
}

/** The hub's own credentials as a provider: the static keys (or session) the simulator's environment gives. */
const hubProvider = (s: Simulator) => async (): Promise<AwsCredentialIdentity> => {
  const c = s.identity.staticCredentials;
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) };
};

const clusters = async (s: Simulator, credentials: AwsCredentialIdentity) =>
  (await new EKSClient({ region: 'us-east-1', endpoint: s.url, credentials, maxAttempts: 1 }).send(new ListClustersCommand({}))).clusters;

describe('memberRoleProvider', () => {
  it("assumes the member role once, reuses the session, masks its secret and token, and the session sees the member's clusters", async () => {
    const s = await start();
    const masked: string[] = [];
    const provider = memberRoleProvider(hubProvider(s), ROLE_A, 'eks-ami-drift', 3600, { mask: (x) => masked.push(x), region: 'us-east-1' });
    const [first, second] = await Promise.all([provider(), provider()]);
    const third = await provider();
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(s.identity.assumedRoles).toEqual([{ at: Date.now(), roleArn: ROLE_A, account: A, durationSeconds: 3600, chained: false }]);
    const session = s.identity.sessions.get(first.accessKeyId);
    expect(session?.account).toBe(A);
    expect(masked).toEqual([session?.secretAccessKey, session?.sessionToken]);
    expect(first.expiration?.getTime()).toBe(Date.now() + 3600_000);
    expect(await clusters(s, first)).toEqual(['payments-prod']);
  });

  it('the default credential chain when no base provider is given (the environment keys, here)', async () => {
    const s = await start();
    const provider = memberRoleProvider(undefined, ROLE_A, 'eks-ami-drift', 3600, { mask: () => undefined, region: 'us-east-1' });
    expect(await clusters(s, await provider())).toEqual(['payments-prod']);
    expect(s.log.filter((l) => l.operation === 'AssumeRole').map((l) => l.account)).toEqual([HUB]);
  });

  it('renews the session five minutes before it ends on the virtual clock, before the old one expires', async () => {
    const s = await start();
    const start0 = Date.now();
    const provider = memberRoleProvider(hubProvider(s), ROLE_A, 'eks-ami-drift', 3600, { mask: () => undefined, region: 'us-east-1' });
    const first = await provider();
    jest.setSystemTime(start0 + 54 * MINUTE);
    expect(await provider()).toBe(first);
    expect(s.identity.assumedRoles).toHaveLength(1);
    jest.setSystemTime(start0 + 56 * MINUTE);
    const renewed = await provider();
    expect(renewed.accessKeyId).not.toBe(first.accessKeyId);
    expect(s.identity.assumedRoles.map((r) => r.at)).toEqual([start0, start0 + 56 * MINUTE]);
    // Past the first session's hour, only the renewed one works.
    jest.setSystemTime(start0 + 61 * MINUTE);
    await expect(clusters(s, first)).rejects.toThrow('The security token included in the request is expired');
    expect(await clusters(s, renewed)).toEqual(['payments-prod']);
  });

  it("a refusal rejects with STS's AccessDenied naming the role; nothing is assumed or masked", async () => {
    const s = await start();
    const masked: string[] = [];
    const role = 'arn:aws:iam::333333333333:role/eks-ami-drift';
    const provider = memberRoleProvider(hubProvider(s), role, 'eks-ami-drift', 3600, { mask: (x) => masked.push(x), region: 'us-east-1' });
    const error = await provider().catch((e: unknown) => e as Error);
    expect(error).toMatchObject({
      name: 'AccessDenied',
      message: `User: arn:aws:iam::${HUB}:user/eks-ami-drift is not authorized to perform: sts:AssumeRole on resource: ${role}`,
    });
    expect(s.identity.assumedRoles).toEqual([]);
    expect(masked).toEqual([]);
  });

  it('chained from a session, more than an hour is refused with STS chaining error; one hour is given', async () => {
    const s = await start({ identity: { staticSessionSeconds: 3600 } });
    const long = memberRoleProvider(hubProvider(s), ROLE_A, 'eks-ami-drift', 7200, { mask: () => undefined, region: 'us-east-1' });
    await expect(long()).rejects.toThrow('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    const hour = memberRoleProvider(hubProvider(s), ROLE_A, 'eks-ami-drift', 3600, { mask: () => undefined, region: 'us-east-1' });
    expect((await hour()).expiration?.getTime()).toBe(Date.now() + 3600_000);
    expect(s.identity.assumedRoles).toEqual([expect.objectContaining({ chained: true, durationSeconds: 3600 })]);
  });
});
