import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { AwsError } from './aws.js';

/** What the simulated account's credentials look like and how long they last. */
export interface IdentitySpec {
  /** A role the job may assume with its OIDC token (AssumeRoleWithWebIdentity). */
  role?: {
    arn: string;
    /** The role's MaxSessionDuration, seconds (IAM default 3600). */
    maxSessionSeconds?: number;
    /** The audience its trust policy expects (default sts.amazonaws.com). */
    audience?: string;
  };
  /** Lifetime of the runner's OIDC tokens, seconds (default 300). */
  oidcTokenSeconds?: number;
  /**
   * The environment's credentials are a session that expires this many seconds after the simulator
   * starts, as aws-actions/configure-aws-credentials exports them (one hour by default); absent:
   * long-term keys that never expire.
   */
  staticSessionSeconds?: number;
}

export interface Session {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Virtual ms; null: never. */
  expiresAt: number | null;
  source: 'static' | 'assumed';
  /** The account whose resources the session sees: a member's id, or absent: the hub (the simulator's own account). */
  account?: string;
  /** The principal as AWS names it in an error (`arn:aws:sts::<account>:assumed-role/<role>/<session>`); absent: the hub's default. */
  arn?: string;
  /** The role the session is of (`arn:aws:iam::<account>:role/<name>`): what a trust policy names; absent for long-term keys. */
  roleArn?: string;
}

/** A member account's role the hub assumes (STS AssumeRole): ./members.ts builds them from SimOptions.members. */
export interface MemberRole {
  arn: string;
  account: string;
  /** The role's MaxSessionDuration, seconds (IAM: 3600 by default, up to 43200). */
  maxSessionSeconds: number;
  /**
   * Whether the role's trust policy lets this principal assume it: a principal that is a role is named
   * by the role's ARN in a trust policy, and an account's root ARN trusts every principal of that account
   * its own policies allow (IAM user guide, "AWS JSON policy elements: Principal").
   */
  trusts: (caller: Session) => boolean;
}

/** One successful AssumeRole into a member account, for tests and the bench to count. */
export interface AssumedRole {
  at: number;
  roleArn: string;
  account: string;
  durationSeconds: number;
  /** The caller was itself an assumed-role session (role chaining). */
  chained: boolean;
}

/**
 * STS's answer to a refused AssumeRole, the same whether the caller's policy or the role's trust policy
 * refuses it: 403 AccessDenied, "User: <caller> is not authorized to perform: sts:AssumeRole on resource:
 * <role>" (as users quote it: Netflix/security_monkey#77, aws/karpenter-provider-aws#4680).
 */
export function assumeRoleDenied(caller: string, roleArn: string): AwsError {
  return new AwsError(403, 'AccessDenied', `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
}

/** The identity side of the account: static keys or a session, the OIDC issuer, STS's sessions. */
export class Identity {
  readonly sessions = new Map<string, Session>();
  readonly staticCredentials: Session;
  /** Every AssumeRoleWithWebIdentity that succeeded, with its virtual time. */
  readonly assumed: { at: number; sessionName: string; durationSeconds: number }[] = [];
  readonly oidcIssued: { at: number; audience: string }[] = [];
  /** Every AssumeRole into a member account that succeeded, with its virtual time. */
  readonly assumedRoles: AssumedRole[] = [];
  /** The member accounts' roles, by ARN. */
  readonly memberRoles = new Map<string, MemberRole>();
  /** The bearer the runner gives the action to ask for OIDC tokens (ACTIONS_ID_TOKEN_REQUEST_TOKEN). */
  readonly requestToken = `sim-oidc-request-${randomUUID()}`;
  private readonly signingKey = randomBytes(32);

  constructor(
    readonly spec: IdentitySpec,
    private readonly now: () => number,
    /** The simulator's own account: the hub. */
    readonly hubAccount = '123456789012',
  ) {
    this.staticCredentials = {
      accessKeyId: spec.staticSessionSeconds ? 'ASIASIMULATORSTATIC0' : 'AKIASIMULATOR0000000',
      secretAccessKey: 'simulator-secret-key-not-real-0000000000',
      ...(spec.staticSessionSeconds ? { sessionToken: `static-session-${randomUUID()}` } : {}),
      expiresAt: spec.staticSessionSeconds ? now() + spec.staticSessionSeconds * 1000 : null,
      source: 'static',
      // A session in the environment is an assumed role's (aws-actions/configure-aws-credentials);
      // long-term keys are an IAM user's.
      ...(spec.staticSessionSeconds
        ? { arn: `arn:aws:sts::${hubAccount}:assumed-role/eks-ami-drift/gha`, roleArn: `arn:aws:iam::${hubAccount}:role/eks-ami-drift` }
        : { arn: `arn:aws:iam::${hubAccount}:user/eks-ami-drift` }),
    };
    this.sessions.set(this.staticCredentials.accessKeyId, this.staticCredentials);
  }

  /**
   * The runner's OIDC token (GitHub's `token.actions.githubusercontent.com`): a JWT for `audience`,
   * short-lived, signed by the simulator.
   */
  issueOidcToken(audience: string, subject = 'repo:acme/platform:ref:refs/heads/main'): string {
    const now = this.now();
    this.oidcIssued.push({ at: now, audience });
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({
        iss: 'https://token.actions.githubusercontent.com',
        aud: audience,
        sub: subject,
        iat: Math.floor(now / 1000),
        exp: Math.floor(now / 1000) + (this.spec.oidcTokenSeconds ?? 300),
      }),
    ).toString('base64url');
    return `${header}.${payload}.${createHmac('sha256', this.signingKey).update(`${header}.${payload}`).digest('base64url')}`;
  }

  /**
   * STS AssumeRoleWithWebIdentity, as the STS API reference documents it: the token must be signed
   * by the trusted issuer, unexpired (ExpiredTokenException) and for the role's audience
   * (InvalidIdentityToken); DurationSeconds is 900 up to the role's MaxSessionDuration
   * (ValidationError above it), default 3600; the session expires after it.
   */
  assumeRoleWithWebIdentity(params: Record<string, unknown>): Session & { roleArn: string; sessionName: string } {
    const role = this.spec.role;
    const roleArn = String(params.RoleArn ?? '');
    if (!role || roleArn !== role.arn) throw new AwsError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    const [header = '', payload = '', signature = ''] = String(params.WebIdentityToken ?? '').split('.');
    if (createHmac('sha256', this.signingKey).update(`${header}.${payload}`).digest('base64url') !== signature) {
      throw new AwsError(400, 'InvalidIdentityToken', "Couldn't verify the signature of the web identity token");
    }
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { aud: string; exp: number };
    const now = this.now();
    if (claims.exp * 1000 <= now) throw new AwsError(400, 'ExpiredTokenException', 'Token expired: current date/time must be before the expiration date/time');
    if (claims.aud !== (role.audience ?? 'sts.amazonaws.com')) throw new AwsError(400, 'InvalidIdentityToken', 'Incorrect token audience');
    const duration = params.DurationSeconds === undefined ? 3600 : Number(params.DurationSeconds);
    const max = role.maxSessionSeconds ?? 3600;
    if (!Number.isInteger(duration) || duration < 900)
      throw new AwsError(
        400,
        'ValidationError',
        `1 validation error detected: Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal ` +
          `to 900`,
      );
    if (duration > max) throw new AwsError(400, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    const session: Session = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(60).toString('base64'),
      expiresAt: now + duration * 1000,
      source: 'assumed',
      arn: `${roleArn.replace(':iam:', ':sts:').replace(':role/', ':assumed-role/')}/${String(params.RoleSessionName ?? '')}`,
      roleArn,
    };
    this.sessions.set(session.accessKeyId, session);
    const sessionName = String(params.RoleSessionName ?? '');
    this.assumed.push({ at: now, sessionName, durationSeconds: duration });
    return { ...session, roleArn, sessionName };
  }

  /**
   * STS AssumeRole into a member account's role, signed with `caller`'s credentials. As the STS API
   * reference (AssumeRole) and the IAM user guide document it:
   * - cross-account access needs both the caller's identity-based policy to allow sts:AssumeRole on the
   *   role (`allowed`) and the role's trust policy to name the caller (IAM user guide, "Cross-account
   *   policy evaluation logic"); either missing is 403 AccessDenied with the same text (assumeRoleDenied);
   * - DurationSeconds is 900 up to the role's MaxSessionDuration, 3600 by default; "if you assume a role
   *   using role chaining and provide a DurationSeconds parameter value greater than one hour, the
   *   operation fails" (STS API reference, AssumeRole, DurationSeconds), with ValidationError "The
   *   requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
   *   (AWS knowledge center, iam-role-chaining-limit; aws/eks-anywhere#9485 quotes the same text). A
   *   caller is chained when its own credentials are an assumed role's session (IAM user guide, "Roles
   *   terms and concepts", role chaining); an IAM user's long-term keys are not.
   * Which check STS makes first when several fail is UNVERIFIED: the caller's policy, the trust, then the duration here.
   */
  assumeRole(params: Record<string, unknown>, caller: Session, allowed: (action: string, resource: string) => boolean): Session & { sessionName: string } {
    const roleArn = String(params.RoleArn ?? '');
    const callerArn = caller.arn ?? `arn:aws:iam::${this.hubAccount}:user/eks-ami-drift`;
    const role = this.memberRoles.get(roleArn);
    if (!allowed('sts:AssumeRole', roleArn) || !role || !role.trusts(caller)) throw assumeRoleDenied(callerArn, roleArn);
    const duration = params.DurationSeconds === undefined ? 3600 : Number(params.DurationSeconds);
    const chained = caller.source === 'assumed' || caller.sessionToken !== undefined;
    if (!Number.isInteger(duration) || duration < 900)
      throw new AwsError(
        400,
        'ValidationError',
        `1 validation error detected: Value '${String(params.DurationSeconds)}' at 'durationSeconds' failed to satisfy constraint: Member must have value ` +
          `greater than or equal to 900`,
      );
    if (chained && duration > 3600)
      throw new AwsError(400, 'ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    if (duration > role.maxSessionSeconds)
      throw new AwsError(400, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    const now = this.now();
    const sessionName = String(params.RoleSessionName ?? '');
    const session: Session = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(60).toString('base64'),
      expiresAt: now + duration * 1000,
      source: 'assumed',
      account: role.account,
      arn: `${roleArn.replace(':iam:', ':sts:').replace(/:role\/(.*\/)?/, ':assumed-role/')}/${sessionName}`,
      roleArn,
    };
    this.sessions.set(session.accessKeyId, session);
    this.assumedRoles.push({ at: now, roleArn, account: role.account, durationSeconds: duration, chained });
    return { ...session, sessionName };
  }

  /**
   * Whether a request signed with this access key (and session token) is accepted now: an unknown key
   * or token is UnrecognizedClientException, a session past its expiry ExpiredTokenException (what
   * AWS answers for an expired session: "The security token included in the request is expired").
   */
  check(accessKeyId: string | undefined, sessionToken: string | undefined): Session {
    const session = accessKeyId ? this.sessions.get(accessKeyId) : undefined;
    if (!session || (session.sessionToken ?? undefined) !== (sessionToken || undefined)) {
      throw new AwsError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (session.expiresAt !== null && session.expiresAt <= this.now()) {
      throw new AwsError(403, 'ExpiredTokenException', 'The security token included in the request is expired');
    }
    return session;
  }
}
