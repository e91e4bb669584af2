import { fromWebToken } from '@aws-sdk/credential-provider-web-identity';
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
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

/** What the run can count on from its credentials, for the plan's warning. */
export const DEFAULT_SESSION_MS = 3600_000;

/**
 * Static session credentials in the environment (what aws-actions/configure-aws-credentials exports:
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) cannot be renewed by anyone in the
 * job. Their expiry is in AWS_CREDENTIAL_EXPIRATION when the exporter sets it (the SDK's fromEnv
 * reads that variable); UNVERIFIED whether configure-aws-credentials sets it, so without it the
 * default one-hour session is assumed. Long-term keys do not expire; any other source (instance
 * role, container role, a web identity token file) is one the SDK's own chain refreshes.
 */
export function credentialOutlook(role: RoleSettings | null, env: NodeJS.ProcessEnv, startedAt: number): CredentialOutlook {
  if (role) return { renewable: true, expiresAt: null, source: `role ${role.roleArn}, renewed by the action` };
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SESSION_TOKEN) {
    const stated = env.AWS_CREDENTIAL_EXPIRATION ? Date.parse(env.AWS_CREDENTIAL_EXPIRATION) : NaN;
    return {
      renewable: false,
      expiresAt: Number.isFinite(stated) ? stated : startedAt + DEFAULT_SESSION_MS,
      source: Number.isFinite(stated)
        ? `session credentials in the environment, expiring ${new Date(stated).toISOString()}`
        : 'session credentials in the environment (aws-actions/configure-aws-credentials; one hour unless role-duration-seconds says otherwise)',
    };
  }
  return { renewable: true, expiresAt: null, source: env.AWS_ACCESS_KEY_ID ? 'long-term access keys' : "the SDK's default credential chain" };
}
