import { AwsState } from './aws.js';
import type { FleetSpec, SimCluster, SimOptions } from './fleet.js';
import type { Identity, Session } from './identity.js';
import { World, type Clock } from './world.js';

/**
 * A member account of a multi-account run (the `accounts` input): its own fleet, and the role the hub
 * (the simulator's own account, `fleet.accountId`) assumes in it with STS AssumeRole.
 */
export interface MemberAccountSpec {
  accountId: string;
  /** Its clusters and parameters; AWS's public parameters (/aws/service/...) of the hub's fleet are added where it lacks them. */
  fleet: FleetSpec;
  role: {
    name: string;
    /** The role's MaxSessionDuration, seconds (IAM default 3600, up to 43200). */
    maxSessionSeconds?: number;
    /** `hub` (default): the trust policy names the hub account; `nobody`: it names no principal the run has (every AssumeRole refused). */
    trusts?: 'hub' | 'nobody';
    /** A trust policy document (as parsed from JSON) that replaces `trusts`: its Allow statements for sts:AssumeRole and their AWS principals. */
    trustPolicy?: TrustPolicy;
    /** The role's path (`/automation/`); `/` when absent. */
    path?: string;
  };
  /** The member role's IAM allow-list, as Faults.allow: absent, all allowed. */
  allow?: string[];
}

export interface TrustPolicy {
  Statement: { Effect: string; Principal?: { AWS?: string | string[] }; Action: string | string[] }[];
}

/** A member account as the simulator serves it. */
export interface MemberAccount {
  accountId: string;
  world: World;
  aws: AwsState;
  roleArn: string;
  /** Whether the member role's policy allows an action. */
  allowed: (action: string) => boolean;
}

/** IAM's wildcards in an ARN of a policy's Resource or Principal: `*` any run of characters, `?` one (IAM user guide, "IAM JSON policy elements: Resource"). */
export function arnMatches(pattern: string, arn: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(arn);
}

/**
 * Whether a trust policy lets `caller` assume the role: an Allow statement for sts:AssumeRole whose AWS
 * principal is the caller's role ARN (a role is named by its ARN, and the policy then trusts that role's
 * sessions), the caller's own ARN, or the caller's account root (`arn:aws:iam::<id>:root`: every principal
 * of the account its own policies allow). IAM user guide, "AWS JSON policy elements: Principal".
 */
export function trustPolicyAllows(policy: TrustPolicy, caller: Session, callerAccount: string): boolean {
  return policy.Statement.some((s) => {
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    const principals = s.Principal?.AWS === undefined ? [] : Array.isArray(s.Principal.AWS) ? s.Principal.AWS : [s.Principal.AWS];
    if (s.Effect !== 'Allow' || !actions.includes('sts:AssumeRole')) return false;
    return principals.some((p) => p === caller.roleArn || p === caller.arn || p === `arn:aws:iam::${callerAccount}:root`);
  });
}

/**
 * The member accounts: each its own World (on the hub's clock) and AwsState, its role registered with the
 * one STS. The hub's faults (throttling, errors, latency, update failures) apply to every account; its
 * `allow` only to the hub's sessions (a member's is `MemberAccountSpec.allow`); `kubeHang` only to the hub's clusters.
 */
export function memberAccounts(
  hubFleet: FleetSpec,
  options: SimOptions,
  clock: Clock,
  identity: Identity,
  kubeEndpoint: (account: string, cluster: SimCluster) => string,
): Map<string, MemberAccount> {
  const members = new Map<string, MemberAccount>();
  const hub = identity.hubAccount;
  for (const spec of options.members ?? []) {
    // AWS's public parameters exist in every account's region (they are AWS's, readable by any account).
    const own = new Set(spec.fleet.parameters.map((p) => p.name));
    const parameters = [...spec.fleet.parameters, ...hubFleet.parameters.filter((p) => p.name.startsWith('/aws/service/') && !own.has(p.name))];
    const fleet: FleetSpec = { ...spec.fleet, accountId: spec.accountId, parameters };
    const world = new World(fleet, options, clock);
    const allowed = (action: string) => !spec.allow || spec.allow.includes(action);
    const aws = new AwsState(fleet, options, world, (c) => kubeEndpoint(spec.accountId, c), identity, allowed);
    const roleArn = `arn:aws:iam::${spec.accountId}:role${spec.role.path ?? '/'}${spec.role.name}`;
    const trusts = (caller: Session): boolean => {
      // Only the hub's principals are ever trusted here: a member's session assuming another member's role is refused.
      if (caller.account !== undefined) return false;
      if (spec.role.trustPolicy) return trustPolicyAllows(spec.role.trustPolicy, caller, hub);
      return (spec.role.trusts ?? 'hub') === 'hub';
    };
    identity.memberRoles.set(roleArn, { arn: roleArn, account: spec.accountId, maxSessionSeconds: spec.role.maxSessionSeconds ?? 3600, trusts });
    members.set(spec.accountId, { accountId: spec.accountId, world, aws, roleArn, allowed });
  }
  return members;
}

/** STS AssumeRole's XML reply (STS API reference, AssumeRole: Credentials, AssumedRoleUser). */
export function assumeRoleXml(s: Session & { sessionName: string }, requestId: string): { xml: string } {
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return {
    xml:
      '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>' +
      `<Credentials><AccessKeyId>${s.accessKeyId}</AccessKeyId><SecretAccessKey>${esc(s.secretAccessKey)}</SecretAccessKey>` +
      `<SessionToken>${esc(s.sessionToken ?? '')}</SessionToken><Expiration>${new Date(s.expiresAt as number).toISOString()}</Expiration></Credentials>` +
      `<AssumedRoleUser><Arn>${esc(s.arn ?? '')}</Arn><AssumedRoleId>AROASIMULATOR${s.account ?? ''}:${esc(s.sessionName)}</AssumedRoleId></AssumedRoleUser>` +
      `</AssumeRoleResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
  };
}
