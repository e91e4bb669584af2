import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { partition } from '@aws-sdk/core/client';
import type { AgentOptions } from 'node:https';
import {
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PolicyV1Api,
  type Cluster,
  type DispatcherOptions,
  type RequestContext,
} from '@kubernetes/client-node';
import type {
  ClusterObjectsKubeApi,
  ClusterObjectsWriteKubeApi,
  DrainKubeApi,
  EksToken,
  KubeApi,
  KubeDeadlines,
  KubeEndpoint,
  KubeObjectJson,
} from '../model/kube-api.js';
import { KubeDeadlineError } from './kube-errors.js';

/** The field manager of the action's writes. */
export const FIELD_MANAGER = 'eks-ami-drift';

/** EKS tokens are valid 15 minutes; renew well before. */
export const TOKEN_RENEW_MS = 10 * 60_000;

/**
 * The STS host an EKS token is presigned for: `sts.<region>.<partition's DNS suffix>`, the suffix from
 * the SDK's own partition data (`amazonaws.com`, `amazonaws.com.cn` in China, `c2s.ic.gov`, ...).
 * aws-iam-authenticator accepts exactly `sts.<region>.<domain of its partition>`
 * (pkg/token/token.go verifySTSHostnameFormat, pkg/endpoints/partitions.go GetSTSPartitionDomain).
 */
export function stsHost(region: string): string {
  return `sts.${region}.${partition(region).dnsSuffix}`;
}

/**
 * The bearer token EKS accepts: `k8s-aws-v1.` + base64url (no padding) of a presigned STS
 * GetCallerIdentity URL whose signed headers include `x-k8s-aws-id: <cluster>`. The authenticator
 * calls STS with it, so it stops working when its session credentials expire, even within its own
 * 15 minutes: the renewal time accounts for both.
 */
export async function eksToken(clusterName: string, region: string, credentials: AwsCredentialIdentityProvider, signingDate = new Date()): Promise<EksToken> {
  const hostname = stsHost(region);
  const identity = await credentials();
  const signer = new SignatureV4({ credentials: identity, region, service: 'sts', sha256: Sha256 });
  const signed = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, 'x-k8s-aws-id': clusterName },
    }),
    { expiresIn: 60, signingDate },
  );
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(signed.query ?? {})) if (typeof v === 'string') query.set(k, v);
  const byAge = signingDate.getTime() + TOKEN_RENEW_MS;
  const byCredentials = identity.expiration ? identity.expiration.getTime() - 60_000 : Infinity;
  return { token: `k8s-aws-v1.${Buffer.from(`https://${hostname}/?${query.toString()}`).toString('base64url')}`, renewAt: Math.min(byAge, byCredentials) };
}

/** `kube-timeout` as the two deadlines: the whole request within it, the connection within half of it. */
export function kubeDeadlines(timeoutMs: number): KubeDeadlines {
  return { connectMs: Math.max(1, Math.round(timeoutMs / 2)), requestMs: timeoutMs };
}

/** The deadlines of `kube-timeout`'s default, 10 s: connected within 5 s, answered within 10 s. */
export const DEFAULT_KUBE_DEADLINES = kubeDeadlines(10_000);

export interface KubeClientOptions {
  deadlines?: KubeDeadlines;
  /** Ends every request of the client at once when it aborts: a caller's own deadline (the post step's, per cluster). */
  signal?: AbortSignal;
}

/**
 * A KubeConfig whose every request has a connect deadline and a request deadline, and ends when the
 * caller's signal aborts. What it relies on in @kubernetes/client-node 2.0 (dist/, as installed):
 * - each request is sent by undici's `fetch` with the request context's `signal` and `dispatcher`
 *   (gen/http/isomorphic-fetch.js, IsomorphicFetchHttpLibrary.send);
 * - the API client's default auth method is the KubeConfig itself (config.js, makeApiClient:
 *   `authMethods: { default: this }`), and every request factory awaits its
 *   `applySecurityAuthentication(requestContext)` right before the context is sent (gen/apis/*.js): a
 *   signal set there bounds that one request, from connecting to reading the body;
 * - that method sets the context's dispatcher to `createDispatcher(cluster, agentOptions)`, a new undici
 *   `Agent({ connect: opts.connect })` built from the public `createDispatcherOptions` (config.js); with
 *   no TLS option (type `none`) it sets none and the request goes through undici's global dispatcher;
 * - undici's connector takes `timeout` for the TCP connect and, for https, the TLS handshake, and fails
 *   with `ConnectTimeoutError` (code `UND_ERR_CONNECT_TIMEOUT`) past it; 10 s when absent (the undici 8
 *   @kubernetes/client-node depends on: lib/core/connect.js buildConnector). Its headers and body
 *   timeouts are 300 s each (lib/dispatcher/client.js): without a signal, an API server that accepts a
 *   connection and never answers holds each call for five minutes.
 */
class BoundedKubeConfig extends KubeConfig {
  constructor(
    private readonly deadlines: KubeDeadlines,
    private readonly signal: AbortSignal | undefined,
  ) {
    super();
  }

  override createDispatcherOptions(cluster: Cluster | null, agentOptions: AgentOptions): DispatcherOptions {
    const options = super.createDispatcherOptions(cluster, agentOptions);
    const timeout = this.deadlines.connectMs;
    switch (options.type) {
      case 'none':
        // The keep-alive the library gives its own agents (config.js createDispatcherOptions).
        return { type: 'agent', connect: { keepAlive: true, keepAliveInitialDelay: 30_000, timeout } };
      case 'agent':
      case 'proxy':
        return { ...options, connect: { ...options.connect, timeout } };
      case 'socks':
        // Its connector takes no deadline: the request deadline bounds the connection too.
        return options;
    }
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    // AbortSignal.timeout counts wall-clock time and does not keep the process alive.
    const deadline = AbortSignal.timeout(this.deadlines.requestMs);
    context.setSignal(this.signal ? AbortSignal.any([deadline, this.signal]) : deadline);
  }
}

type Call = (...args: unknown[]) => Promise<unknown>;

/** The calls a cluster's client makes: the reads and writes of KubeApi, the drain's, and the check's reads of Karpenter's objects. */
export type KubeClient = KubeApi & DrainKubeApi & ClusterObjectsKubeApi & ClusterObjectsWriteKubeApi;

type ApiClients = { apps: AppsV1Api; core: CoreV1Api; policy: PolicyV1Api; custom: CustomObjectsApi; authorization: AuthorizationV1Api };

function apiClients(kc: KubeConfig): ApiClients {
  return {
    apps: kc.makeApiClient(AppsV1Api),
    core: kc.makeApiClient(CoreV1Api),
    policy: kc.makeApiClient(PolicyV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    authorization: kc.makeApiClient(AuthorizationV1Api),
  };
}

function wrapCalls(api: KubeClient, wrap: (call: Call) => Call): KubeClient {
  return Object.fromEntries(Object.entries(api).map(([name, call]) => [name, wrap(call as Call)])) as unknown as KubeClient;
}

/** Which deadline ended a request, if one did: undici's connect timeout, or the request's signal. */
function deadlinePassed(error: unknown): 'connect' | 'request' | undefined {
  let e = error as { name?: unknown; code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) {
    if (e.code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect';
    if (e.name === 'TimeoutError') return 'request';
  }
  return undefined;
}

/** A call ended by a deadline throws a KubeDeadlineError naming the server and the deadline; one ended by the caller's signal, what it threw. */
function namingDeadlines(api: KubeClient, server: string, deadlines: KubeDeadlines, signal: AbortSignal | undefined): KubeClient {
  return wrapCalls(api, (call) => async (...args) => {
    try {
      return await call(...args);
    } catch (error) {
      const phase = signal?.aborted ? undefined : deadlinePassed(error);
      if (phase) throw new KubeDeadlineError(server, phase, phase === 'connect' ? deadlines.connectMs : deadlines.requestMs);
      throw error;
    }
  });
}

/**
 * A Kubernetes client whose token is renewed before it expires: every call asks for a fresh client
 * when the token reaches its renewal time, and a call answered 401 (the token or the session behind
 * it expired anyway) is made once more with a new token. `token` builds a new token (and masks it).
 * Every request has the deadlines (DEFAULT_KUBE_DEADLINES unless given).
 */
export function eksKubeApi(
  clusterName: string,
  endpoint: KubeEndpoint,
  token: () => Promise<EksToken>,
  options: KubeClientOptions & { now?: () => number } = {},
): KubeClient {
  const { deadlines = DEFAULT_KUBE_DEADLINES, signal, now = Date.now } = options;
  type Clients = ApiClients;
  // One client (and one token) at a time, shared by concurrent calls, renewed when the token ages.
  let current: { renewAt: number; made: Promise<Clients> } | undefined;
  async function make(): Promise<{ renewAt: number; clients: Clients }> {
    const fresh = await token();
    const kc = new BoundedKubeConfig(deadlines, signal);
    kc.loadFromOptions({
      clusters: [
        {
          name: clusterName,
          server: endpoint.server,
          ...(endpoint.caData ? { caData: endpoint.caData } : {}),
          // A plain-http endpoint (a local stand-in) has no TLS to verify.
          skipTLSVerify: endpoint.server.startsWith('http://'),
        },
      ],
      users: [{ name: 'eks-ami-drift', token: fresh.token }],
      contexts: [{ name: clusterName, cluster: clusterName, user: 'eks-ami-drift' }],
      currentContext: clusterName,
    });
    return { renewAt: fresh.renewAt, clients: apiClients(kc) };
  }
  function renew(): Promise<Clients> {
    const made = make();
    const entry = { renewAt: Infinity, made: made.then((m) => m.clients) };
    current = entry;
    made.then(
      (m) => (entry.renewAt = m.renewAt),
      () => current === entry && (current = undefined),
    );
    return entry.made;
  }
  const clients = (): Promise<Clients> => (current && now() < current.renewAt ? current.made : renew());
  // A 401 means the token is no longer accepted: build a new one and try once more.
  const api = wrapCalls(kubeApiFrom(clients), (call) => async (...args) => {
    try {
      return await call(...args);
    } catch (error) {
      if ((error as { code?: number }).code !== 401) throw error;
      await renew();
      return call(...args);
    }
  });
  return namingDeadlines(api, endpoint.server, deadlines, signal);
}

/** The same calls through a user's kubeconfig (its own auth), for the `kubeconfig` input, with the same deadlines. */
export function kubeconfigApi(path: string, context?: string, options: KubeClientOptions = {}): KubeClient {
  const { deadlines = DEFAULT_KUBE_DEADLINES, signal } = options;
  const kc = new BoundedKubeConfig(deadlines, signal);
  kc.loadFromFile(path);
  if (context && kc.getContexts().some((c) => c.name === context)) kc.setCurrentContext(context);
  const made = apiClients(kc);
  return namingDeadlines(
    kubeApiFrom(async () => made),
    kc.getCurrentCluster()?.server ?? path,
    deadlines,
    signal,
  );
}

function kubeApiFrom(clients: () => Promise<ApiClients>): KubeClient {
  return {
    async listClusterObjects(group, version, plural) {
      const list = (await (await clients()).custom.listClusterCustomObject({ group, version, plural })) as { items?: KubeObjectJson[] };
      return list.items ?? [];
    },
    async patchClusterObject(group, version, plural, name, patch) {
      // A JSON Patch, the client's default content type for patches (as patchDeployment's), named as our field manager.
      return (await (
        await clients()
      ).custom.patchClusterCustomObject({ group, version, plural, name, body: patch, fieldManager: FIELD_MANAGER })) as KubeObjectJson;
    },
    async listNodes(labelSelector) {
      return (await (await clients()).core.listNode({ labelSelector })).items;
    },
    async listPods(fieldSelector) {
      return (await (await clients()).core.listPodForAllNamespaces({ fieldSelector })).items;
    },
    async listPodDisruptionBudgets() {
      return (await (await clients()).policy.listPodDisruptionBudgetForAllNamespaces()).items;
    },
    async listAllDeployments() {
      return (await (await clients()).apps.listDeploymentForAllNamespaces()).items;
    },
    async readDeployment(namespace, name) {
      return (await clients()).apps.readNamespacedDeployment({ namespace, name });
    },
    async patchDeployment(namespace, name, patch) {
      // Named in the Deployment's managedFields as `eks-ami-drift` (Kubernetes docs, Server-Side Apply: a
      // non-apply patch may name its field manager), so a person can tell the pause's writes from others'.
      return (await clients()).apps.patchNamespacedDeployment({ namespace, name, body: patch, fieldManager: FIELD_MANAGER });
    },
    async listWorkloads() {
      const { apps } = await clients();
      const [deployments, statefulSets, daemonSets, replicaSets] = await Promise.all([
        apps.listDeploymentForAllNamespaces(),
        apps.listStatefulSetForAllNamespaces(),
        apps.listDaemonSetForAllNamespaces(),
        apps.listReplicaSetForAllNamespaces(),
      ]);
      return { deployments: deployments.items, statefulSets: statefulSets.items, daemonSets: daemonSets.items, replicaSets: replicaSets.items };
    },
    async readNode(name) {
      return (await clients()).core.readNode({ name });
    },
    async patchNode(name, patch) {
      return (await clients()).core.patchNode({ name, body: patch });
    },
    // policy/v1 Eviction, POSTed to the pod's eviction subresource (Kubernetes docs, "API-initiated Eviction").
    async evictPod(namespace, name) {
      await (
        await clients()
      ).core.createNamespacedPodEviction({ name, namespace, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } } });
    },
    async deletePod(namespace, name) {
      await (await clients()).core.deleteNamespacedPod({ name, namespace });
    },
    // `kubectl auth can-i`: a SelfSubjectAccessReview, which every authenticated user may create (the
    // default ClusterRole system:basic-user; Kubernetes docs, "Authorization", Checking API access).
    async canI({ verb, resource, subresource, group }) {
      const review = await (
        await clients()
      ).authorization.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb, resource, group: group ?? '', ...(subresource ? { subresource } : {}) } },
        },
      });
      return review.status?.allowed === true;
    },
    async listEvents(namespace, fieldSelector, limit) {
      return (await (await clients()).core.listNamespacedEvent({ namespace, ...(fieldSelector ? { fieldSelector } : {}), ...(limit ? { limit } : {}) })).items;
    },
  };
}
