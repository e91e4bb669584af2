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
}

/** The identity side of the account: static keys or a session, the OIDC issuer, STS's sessions. */
export class Identity {
  readonly sessions = new Map<string, Session>();
  readonly staticCredentials: Session;
  /** Every AssumeRoleWithWebIdentity that succeeded, with its virtual time. */
  readonly assumed: { at: number; sessionName: string; durationSeconds: number }[] = [];
  readonly oidcIssued: { at: number; audience: string }[] = [];
  /** The bearer the runner gives the action to ask for OIDC tokens (ACTIONS_ID_TOKEN_REQUEST_TOKEN). */
  readonly requestToken = `sim-oidc-request-${randomUUID()}`;
  private readonly signingKey = randomBytes(32);

  constructor(
    readonly spec: IdentitySpec,
    private readonly now: () => number,
  ) {
    this.staticCredentials = {
      accessKeyId: spec.staticSessionSeconds ? 'ASIASIMULATORSTATIC0' : 'AKIASIMULATOR0000000',
      secretAccessKey: 'simulator-secret-key-not-real-0000000000',
      ...(spec.staticSessionSeconds ? { sessionToken: `static-session-${randomUUID()}` } : {}),
      expiresAt: spec.staticSessionSeconds ? now() + spec.staticSessionSeconds * 1000 : null,
      source: 'static',
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
    };
    this.sessions.set(session.accessKeyId, session);
    const sessionName = String(params.RoleSessionName ?? '');
    this.assumed.push({ at: now, sessionName, durationSeconds: duration });
    return { ...session, roleArn, sessionName };
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
