import { fromWebToken } from '@aws-sdk/credential-provider-web-identity';
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { STSClient } from '@aws-sdk/client-sts';
import type { RoleSettings } from '../model/settings.js';
import type { CredentialOutlook } from '../model/settings.js';

export interface CredentialDeps {
  /** `core.getIDToken`: a fresh OIDC token of the job (it masks the token itself). */
  getIdToken: (audience: string) => Promise<string>;
  /** `core.setSecret`. */
  mask: (secret: string) => void;
  region: string;
}

/**
 * Credentials that last as long as the job: each time the SDK finds them expiring (within five
 * minutes, @smithy/core's EXPIRATION_MS), a fresh OIDC token from the runner is exchanged for new
 * session credentials with STS AssumeRoleWithWebIdentity. One provider is shared by every client and
 * by the EKS token signer, so they renew together.
 *
 * Sources: the runner's OIDC tokens are short-lived and can be requested at any time of the job
 * (`core.getIDToken`, needs `permissions: id-token: write`; the runner gives every action step
 * ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN, actions/runner#1234 and #1270: UNVERIFIED for post steps
 * specifically, where a failure to get a token makes the restore a warning with the manual command);
 * AssumeRoleWithWebIdentity's sessions
 * last `DurationSeconds` (900 s up to the role's MaxSessionDuration, default 3600 s; STS API
 * reference). The SDK refreshes a provider whose identity carries `expiration`
 * (@smithy/core memoizeIdentityProvider).
 */
export function assumeRoleProvider(role: RoleSettings, deps: CredentialDeps): AwsCredentialIdentityProvider {
  const assume = async (): Promise<AwsCredentialIdentity> => {
    const token = await deps.getIdToken(role.audience);
    const credentials = await fromWebToken({
      roleArn: role.roleArn,
      roleSessionName: role.sessionName,
      webIdentityToken: token,
      durationSeconds: role.durationSeconds,
      clientConfig: { region: deps.region },
    })();
    // Masked the moment they exist, as aws-actions/configure-aws-credentials does.
    deps.mask(credentials.secretAccessKey);
    if (credentials.sessionToken) deps.mask(credentials.sessionToken);
    return credentials;
  };
  return memoizeIdentityProvider(assume, isIdentityExpired, doesIdentityRequireRefresh) as AwsCredentialIdentityProvider;
}

/**
 * A member account's credentials (the `accounts` input): STS AssumeRole of `roleArn`, signed with the
 * job's own credentials (`base`: the role-to-assume provider, or undefined: the SDK's default chain).
 * The session is assumed on first use, reused while it lasts, and assumed again when the SDK finds it
 * within five minutes of its expiry (@smithy/core memoizeIdentityProvider, EXPIRATION_MS); its secret
 * key and session token are masked the moment they exist.
 *
 * Sources: STS API reference, AssumeRole (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html):
 * DurationSeconds is 900 s up to the role's MaxSessionDuration, and "if you assume a role using role
 * chaining and provide a DurationSeconds parameter value greater than one hour, the operation fails"
 * (ValidationError "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by
 * role chaining.", AWS knowledge center iam-role-chaining-limit). IAM user guide, "Roles terms and
 * concepts", role chaining: credentials of one role used to assume another are limited to one hour.
 * The job's credentials are usually a role's session, so `durationSeconds` is 3600 (../inputs/accounts.ts).
 * A refusal (the hub's policy or the member role's trust policy) rejects with STS's AccessDenied, whose
 * message names the role ("... is not authorized to perform: sts:AssumeRole on resource: <role>").
 * The STS client is loaded on first use, so a run without `accounts` never loads it.
 */
export function memberRoleProvider(
  base: AwsCredentialIdentityProvider | undefined,
  roleArn: string,
  sessionName: string,
  durationSeconds: number,
  deps: { mask(secret: string): void; region: string },
): AwsCredentialIdentityProvider {
  let client: STSClient | undefined;
  const assume = async (): Promise<AwsCredentialIdentity> => {
    const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/client-sts');
    client ??= new STSClient({ region: deps.region, ...(base ? { credentials: base } : {}) });
    const { Credentials: c } = await client.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: durationSeconds }));
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`STS AssumeRole of ${roleArn} answered without credentials`);
    // Masked the moment they exist, before anything can log them.
    deps.mask(c.SecretAccessKey);
    if (c.SessionToken) deps.mask(c.SessionToken);
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
    };
  };
  return memoizeIdentityProvider(assume, isIdentityExpired, doesIdentityRequireRefresh) as AwsCredentialIdentityProvider;
}

/** What the run can count on from its credentials, for the plan's warning. */
/**
 * What the AWS credentials can be counted on for, from what a source states, never a guess:
 * - role-to-assume: the action renews them itself;
 * - otherwise the SDK resolves the identity the clients use, and its `expiration` is the one a source
 *   stated: SSO and credential_process (their `Expiration`), assumed roles, container and instance
 *   credentials, and environment keys with AWS_CREDENTIAL_EXPIRATION (the SDK's fromEnv reads it);
 * - session keys with no stated expiry (aws-actions/configure-aws-credentials exports the key, secret
 *   and token only, `exportCredentials`; the expiry is its `aws-expiration` step output): unknown;
 * - long-term keys do not expire.
 * A provider that can fetch again (SSO while its session lasts, a container or instance role) may
 * renew what it gave: UNVERIFIED per provider, so a stated expiry before the plan's end is warned of.
 */
export async function credentialOutlook(
  role: RoleSettings | null,
  env: NodeJS.ProcessEnv,
  identity: () => Promise<AwsCredentialIdentity>,
): Promise<CredentialOutlook> {
  if (role) return { renewable: true, expiresAt: null, source: `role ${role.roleArn}, renewed by the action` };
  const where = env.AWS_ACCESS_KEY_ID
    ? 'session credentials in the environment'
    : env.AWS_PROFILE
      ? `the credentials of profile ${env.AWS_PROFILE}`
      : "the credentials of the SDK's default chain";
  let resolved: AwsCredentialIdentity;
  try {
    resolved = await identity();
  } catch {
    // No credentials at all: the first AWS call says so, with the SDK's reason.
    return { renewable: true, expiresAt: null, source: where };
  }
  if (resolved.expiration) {
    return { renewable: false, expiresAt: resolved.expiration.getTime(), source: `${where}, expiring ${resolved.expiration.toISOString()}` };
  }
  if (resolved.sessionToken) return { renewable: false, expiresAt: null, source: `${where}, whose expiry no source states` };
  return { renewable: true, expiresAt: null, source: env.AWS_ACCESS_KEY_ID ? 'long-term access keys' : where };
}
