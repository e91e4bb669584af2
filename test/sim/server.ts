import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { AwsError, AwsState, encode, encodeError, iamAction, identify, type AwsCall, type Reply } from './aws.js';
import type { Faults, FleetSpec, SimOptions } from './fleet.js';
import { World } from './world.js';
import { handleKube } from './kube-api.js';
import { GitHubSim, type GitHubSpec } from './github.js';
import { Identity, type Session } from './identity.js';
import { arnMatches, assumeRoleXml, memberAccounts, type MemberAccount } from './members.js';
import { Throttling } from './throttle.js';

export interface KubeCall {
  at: number;
  method: string;
  path: string;
  status: number;
}

export interface LoggedCall {
  at: number;
  service: string;
  operation: string;
  region: string;
  status: number;
  error?: string;
  params: Record<string, unknown>;
  /** The account that served it: the hub's id, or a member's when signed with a member session. */
  account: string;
}

/** A connection to a hanging cluster's API server (Faults.kubeHang): when it opened, what it asked, when the client gave up. */
export interface HangingCall {
  at: number;
  /** The request line's path, `/k8s/<region>/<cluster>/...`, once it arrived. */
  path: string | null;
  region: string | null;
  cluster: string | null;
  /** When the client closed the connection; null while it still waits. */
  closedAt: number | null;
}

/** A running simulator: AWS (EKS, SSM, Auto Scaling) on one loopback port. */
export interface Simulator {
  /** `http://127.0.0.1:PORT`: the value for AWS_ENDPOINT_URL. */
  url: string;
  aws: AwsState;
  /** Clusters' nodes, pods, Auto Scaling groups and updates, on the virtual clock. */
  world: World;
  /** The GitHub repository, at `${url}/github` (GITHUB_API_URL). */
  github: GitHubSim;
  /** Credentials: static keys or session, the runner's OIDC tokens, STS's sessions (and AssumeRole into members: `assumedRoles`). */
  identity: Identity;
  /** The member accounts (SimOptions.members), by id: each its own World (on the hub's clock) and AwsState. */
  members: Map<string, MemberAccount>;
  /** Every AWS request, in order. */
  log: LoggedCall[];
  /** Every Kubernetes API request, in order. */
  kubeLog: KubeCall[];
  /** Every connection to the API server of a cluster in Faults.kubeHang, in order. */
  kubeHangLog: HangingCall[];
  /** `http://127.0.0.1:PORT` of that server (`https://` to it: a TLS handshake that never ends). */
  hangUrl: string;
  /** Requests per `service:Operation`, including those answered with an injected fault. */
  counts(): Record<string, number>;
  /** The same, per account that served them (the hub's id, the members'). */
  countsByAccount(): Record<string, Record<string, number>>;
  /** Changes the faults from now on. */
  setFaults(faults: Faults): void;
  /** Environment that points the AWS SDK (and the AWS CLI) at this simulator. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

/** mulberry32: a small seeded generator, so a faulty run can be repeated exactly. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

export async function startSimulator(fleet: FleetSpec, options: SimOptions & { github?: GitHubSpec } = {}): Promise<Simulator> {
  const github = new GitHubSim(options.github);
  let faults: Faults = options.faults ?? {};
  let random = seeded(faults.seed ?? 1);
  const log: LoggedCall[] = [];
  const kubeLog: KubeCall[] = [];
  let throttling = options.faults?.throttling ? new Throttling(options.faults.throttling) : undefined;
  const kubeHangLog: HangingCall[] = [];
  let requestNumber = 0;
  let url = '';
  let hangUrl = '';

  const world = new World(fleet, options);
  // What "now" is for tokens and sessions: the virtual clock when the action runs on it too.
  const now = () => (options.sharedClock ? world.clock.now() : Date.now());
  const hubAccount = fleet.accountId ?? '123456789012';
  const identity = new Identity(options.identity ?? {}, now, hubAccount);
  github.now = now;
  const allowed = (action: string) => !faults.allow || faults.allow.includes(action);
  // A cluster in faults.kubeHang is served by the hanging server, from its next DescribeCluster on.
  const kubeEndpoint = (c: { name: string; region: string }) => `${faults.kubeHang?.includes(c.name) ? hangUrl : url}/k8s/${c.region}/${c.name}`;
  const aws = new AwsState(fleet, options, world, kubeEndpoint, identity, allowed);
  const credentials = identity.staticCredentials;
  // Member accounts: their clusters' API servers under /k8s/<account>/ (the hub's paths unchanged), on the hub's clock.
  const members = memberAccounts(fleet, options, world.clock, identity, (account, c) => `${url}/k8s/${account}/${c.region}/${c.name}`);
  const hub: MemberAccount = { accountId: hubAccount, world, aws, roleArn: '', allowed };
  /** The account a session's requests are served by: each session sees its own account only. */
  const accountOf = (session: Session | undefined): MemberAccount => (session?.account ? (members.get(session.account) as MemberAccount) : hub);
  /** The hub's permission on a resource: `faults.allow` for the action, `faults.allowResources` for the ARN when it names the action. */
  const hubAllows = (action: string, resource: string) =>
    allowed(action) && (faults.allowResources?.[action] === undefined || faults.allowResources[action].some((p) => arnMatches(p, resource)));

  /** What an injected fault or a missing permission answers, if anything. */
  function fault(call: AwsCall, account: MemberAccount, session: Session | undefined): AwsError | undefined {
    // AssumeRoleWithWebIdentity is governed by the role's trust policy, not the caller's policy; AssumeRole
    // by both, checked with its resource (Identity.assumeRole).
    if (call.service !== 'sts' && !account.allowed(iamAction(call))) {
      const principal = session?.account ? session.arn : `arn:aws:sts::${aws.accountId}:assumed-role/eks-ami-drift/gha`;
      return new AwsError(
        call.service === 'ssm' ? 400 : 403,
        call.service === 'ec2' ? 'UnauthorizedOperation' : 'AccessDeniedException',
        `User: ${principal} is not authorized to perform: ${iamAction(call)} because no identity-based ` + `policy allows the ${iamAction(call)} action`,
      );
    }
    // Each service's own throttling code: EC2's is RequestLimitExceeded (Amazon EC2 API reference,
    // "Request throttling for the Amazon EC2 API"; its HTTP status, 503 here, is UNVERIFIED), Auto
    // Scaling's Throttling, the JSON services' ThrottlingException.
    const throttled =
      call.service === 'ec2'
        ? new AwsError(503, 'RequestLimitExceeded', 'Request limit exceeded.')
        : new AwsError(call.service === 'eks' ? 429 : 400, call.service === 'autoscaling' ? 'Throttling' : 'ThrottlingException', 'Rate exceeded');
    // AWS's request throttling: token buckets per account and Region (throttle.ts, with its sources): a
    // member account's calls are counted in buckets of its own ("<account>/<region>"), the hub's as before.
    const scope = account === hub ? call.region : `${account.accountId}/${call.region}`;
    if (throttling && !throttling.admit(scope, call.service, call.operation, Date.now())) return throttled;
    if (faults.throttleRate && random() < faults.throttleRate) return throttled;
    if (faults.serverErrorRate && random() < faults.serverErrorRate) {
      return new AwsError(500, call.service === 'eks' ? 'ServerException' : 'InternalServerError', 'We encountered an internal error. Please try again.');
    }
    return undefined;
  }

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const parsed = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (parsed.pathname.startsWith('/github/')) {
        const ghUrl = new URL(parsed.pathname.slice('/github'.length) + parsed.search, `${url}/github`);
        send(res, github.handle(req.method ?? 'GET', ghUrl, body, req.headers));
        return;
      }
      if (parsed.pathname === '/oidc/token') {
        // The runner's OIDC token service (ACTIONS_ID_TOKEN_REQUEST_URL), as @actions/core's
        // getIDToken calls it: GET with the request bearer, `audience` in the query, `{value}` back.
        const ok = req.headers.authorization === `Bearer ${identity.requestToken}`;
        send(res, {
          status: ok ? 200 : 401,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(ok ? { value: identity.issueOidcToken(parsed.searchParams.get('audience') ?? '') } : { message: 'Bad credentials' }),
        });
        return;
      }
      if (parsed.pathname.startsWith('/k8s/')) {
        // /k8s/<account>/<region>/<cluster>/...: a member's cluster, whose API server accepts only that
        // account's principals: an EKS cluster answers 401 Unauthorized to an IAM principal without an
        // access entry (EKS user guide, "Grant IAM users access to Kubernetes with EKS access entries";
        // STANDARD entries may name another account's principal, which the run does not need). The hub's
        // clusters keep /k8s/<region>/<cluster>.
        const [, , first = ''] = parsed.pathname.split('/');
        const member = /^\d{12}$/.test(first) ? members.get(first) : undefined;
        const target = member ?? hub;
        const kubeUrl = member ? new URL(parsed.pathname.replace(`/k8s/${first}/`, '/k8s/') + parsed.search, parsed) : parsed;
        target.world.advance();
        const sessionOf = (id: string) => {
          const s = identity.sessions.get(id);
          return s && (s.account ?? hubAccount) === target.accountId ? s : undefined;
        };
        const reply = await handleKube(target.world, req.method ?? 'GET', kubeUrl, body, req.headers, sessionOf, now());
        kubeLog.push({ at: Date.now(), method: req.method ?? 'GET', path: parsed.pathname + parsed.search, status: reply.status });
        send(res, reply);
        return;
      }
      const requestId = `sim-${++requestNumber}`;
      let call: AwsCall = { service: 'unknown', operation: '', region: '', params: {} };
      let reply: Reply;
      let account = hub;
      try {
        call = identify(req, parsed, body);
        const unsigned = call.service === 'sts' && call.operation === 'AssumeRoleWithWebIdentity';
        let session: Session | undefined;
        if (!unsigned) {
          if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
            throw new AwsError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
          }
          const accessKeyId = /Credential=([^/]+)\//.exec(String(req.headers.authorization))?.[1];
          session = identity.check(accessKeyId, req.headers['x-amz-security-token'] as string | undefined);
          account = accountOf(session);
        }
        const injected = fault(call, account, session);
        if (faults.latencyMs) await new Promise((r) => setTimeout(r, faults.latencyMs));
        if (injected) throw injected;
        if (call.service === 'sts' && call.operation === 'AssumeRole' && session) {
          // The caller's own account's policy decides whether it may call sts:AssumeRole on the role.
          const caller = session;
          const may = (action: string, resource: string) => (caller.account ? account.allowed(action) : hubAllows(action, resource));
          reply = encode(call, assumeRoleXml(identity.assumeRole(call.params, caller, may), requestId), requestId);
        } else reply = encode(call, account.aws.handle(call), requestId);
      } catch (error) {
        const awsError = error instanceof AwsError ? error : new AwsError(400, 'ValidationException', error instanceof Error ? error.message : String(error));
        reply = encodeError(call, awsError, requestId);
      }
      const errorCode =
        reply.status >= 300 ? (/"__type":"([^"]+)"|<Code>([^<]+)</.exec(reply.body)?.slice(1).find(Boolean) ?? reply.headers['x-amzn-errortype']) : undefined;
      log.push({
        at: Date.now(),
        service: call.service,
        operation: call.operation,
        region: call.region,
        status: reply.status,
        params: call.params,
        account: account.accountId,
        ...(errorCode ? { error: errorCode } : {}),
      });
      send(res, reply);
    })().catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: String(error) }));
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // The hanging API server: accepts every connection, reads what comes, answers nothing, ever.
  const hanging = new Set<Socket>();
  const hangServer = createTcpServer((socket) => {
    const call: HangingCall = { at: Date.now(), path: null, region: null, cluster: null, closedAt: null };
    kubeHangLog.push(call);
    hanging.add(socket);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (call.path !== null) return;
      head += chunk.toString('latin1');
      const line = /^[A-Z]+ (\S+) HTTP\/1\.[01]\r\n/.exec(head);
      if (!line) return;
      call.path = line[1] ?? '';
      const [, , region = null, cluster = null] = new URL(call.path, 'http://127.0.0.1').pathname.split('/');
      Object.assign(call, { region, cluster });
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      call.closedAt = Date.now();
      hanging.delete(socket);
    });
  });
  await new Promise<void>((resolve) => hangServer.listen(0, '127.0.0.1', resolve));
  hangUrl = `http://127.0.0.1:${(hangServer.address() as AddressInfo).port}`;
  github.baseUrl = `${url}/github`;

  return {
    url,
    aws,
    world,
    github,
    identity,
    members,
    log,
    kubeLog,
    kubeHangLog,
    hangUrl,
    counts() {
      const counts: Record<string, number> = {};
      for (const entry of log) {
        const key = `${entry.service}:${entry.operation}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return counts;
    },
    countsByAccount() {
      const counts: Record<string, Record<string, number>> = {};
      for (const entry of log) {
        const key = `${entry.service}:${entry.operation}`;
        const of = (counts[entry.account] ??= {});
        of[key] = (of[key] ?? 0) + 1;
      }
      return counts;
    },
    setFaults(next) {
      faults = next;
      throttling = next.throttling ? new Throttling(next.throttling) : undefined;
      world.options.faults = next;
      random = seeded(next.seed ?? 1);
    },
    env() {
      return {
        AWS_ENDPOINT_URL: url,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
        ACTIONS_ID_TOKEN_REQUEST_URL: `${url}/oidc/token?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: identity.requestToken,
        AWS_EC2_METADATA_DISABLED: 'true',
        GITHUB_API_URL: `${url}/github`,
        GITHUB_REPOSITORY: `${github.owner}/${github.repo}`,
        'INPUT_GITHUB-TOKEN': Object.keys(github.tokens)[0] ?? '',
      };
    },
    async close() {
      for (const socket of hanging) socket.destroy();
      await new Promise<void>((resolve) => hangServer.close(() => resolve()));
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
