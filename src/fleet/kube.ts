import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { partition } from '@aws-sdk/core/client';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PolicyV1Api,
  type CoreV1Event,
  type V1DaemonSet,
  type V1Deployment,
  type V1Node,
  type V1Pod,
  type V1PodDisruptionBudget,
  type V1ReplicaSet,
  type V1StatefulSet,
} from '@kubernetes/client-node';

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

export interface EksToken {
  token: string;
  /** When to build a new one: 10 minutes on, or a minute before the credentials it was signed with expire. */
  renewAt: number;
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

/** Where and how to reach one cluster's Kubernetes API. */
export interface KubeEndpoint {
  server: string;
  /** Base64 PEM, as DescribeCluster and kubeconfigs give it. */
  caData?: string;
}

/** The Kubernetes calls the action makes, and nothing more (see the README's RBAC). */
export interface KubeApi {
  listNodes(labelSelector: string): Promise<V1Node[]>;
  listPods(fieldSelector: string): Promise<V1Pod[]>;
  listPodDisruptionBudgets(): Promise<V1PodDisruptionBudget[]>;
  listDeployments(namespace: string, labelSelector?: string): Promise<V1Deployment[]>;
  readDeployment(namespace: string, name: string): Promise<V1Deployment>;
  patchDeployment(namespace: string, name: string, patch: object[]): Promise<V1Deployment>;
  /** The health gate's reads, in every namespace: the workloads behind a node group's pods, and their pods' events. */
  listWorkloads(): Promise<Workloads>;
  listEvents(namespace: string, fieldSelector?: string, limit?: number): Promise<CoreV1Event[]>;
}

/** Every Deployment, StatefulSet, DaemonSet and ReplicaSet of a cluster. */
export interface Workloads {
  deployments: V1Deployment[];
  statefulSets: V1StatefulSet[];
  daemonSets: V1DaemonSet[];
  replicaSets: V1ReplicaSet[];
}

/**
 * A Kubernetes client whose token is renewed before it expires: every call asks for a fresh client
 * when the token reaches its renewal time, and a call answered 401 (the token or the session behind
 * it expired anyway) is made once more with a new token. `token` builds a new token (and masks it).
 */
export function eksKubeApi(clusterName: string, endpoint: KubeEndpoint, token: () => Promise<EksToken>, now: () => number = Date.now): KubeApi {
  type Clients = { apps: AppsV1Api; core: CoreV1Api; policy: PolicyV1Api };
  // One client (and one token) at a time, shared by concurrent calls, renewed when the token ages.
  let current: { renewAt: number; made: Promise<Clients> } | undefined;
  async function make(): Promise<{ renewAt: number; clients: Clients }> {
    const fresh = await token();
    const kc = new KubeConfig();
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
    return { renewAt: fresh.renewAt, clients: { apps: kc.makeApiClient(AppsV1Api), core: kc.makeApiClient(CoreV1Api), policy: kc.makeApiClient(PolicyV1Api) } };
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
  const api = kubeApiFrom(clients);
  // A 401 means the token is no longer accepted: build a new one and try once more.
  return Object.fromEntries(
    Object.entries(api).map(([name, call]) => [
      name,
      async (...args: unknown[]) => {
        try {
          return await (call as (...a: unknown[]) => Promise<unknown>)(...args);
        } catch (error) {
          if ((error as { code?: number }).code !== 401) throw error;
          await renew();
          return (call as (...a: unknown[]) => Promise<unknown>)(...args);
        }
      },
    ]),
  ) as unknown as KubeApi;
}

/** The same calls through a user's kubeconfig (its own auth), for the `kubeconfig` input. */
export function kubeconfigApi(path: string, context?: string): KubeApi {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  if (context && kc.getContexts().some((c) => c.name === context)) kc.setCurrentContext(context);
  const made = { apps: kc.makeApiClient(AppsV1Api), core: kc.makeApiClient(CoreV1Api), policy: kc.makeApiClient(PolicyV1Api) };
  return kubeApiFrom(async () => made);
}

function kubeApiFrom(clients: () => Promise<{ apps: AppsV1Api; core: CoreV1Api; policy: PolicyV1Api }>): KubeApi {
  return {
    async listNodes(labelSelector) {
      return (await (await clients()).core.listNode({ labelSelector })).items;
    },
    async listPods(fieldSelector) {
      return (await (await clients()).core.listPodForAllNamespaces({ fieldSelector })).items;
    },
    async listPodDisruptionBudgets() {
      return (await (await clients()).policy.listPodDisruptionBudgetForAllNamespaces()).items;
    },
    async listDeployments(namespace, labelSelector) {
      return (await (await clients()).apps.listNamespacedDeployment({ namespace, ...(labelSelector ? { labelSelector } : {}) })).items;
    },
    async readDeployment(namespace, name) {
      return (await clients()).apps.readNamespacedDeployment({ namespace, name });
    },
    async patchDeployment(namespace, name, patch) {
      return (await clients()).apps.patchNamespacedDeployment({ namespace, name, body: patch });
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
    async listEvents(namespace, fieldSelector, limit) {
      return (await (await clients()).core.listNamespacedEvent({ namespace, ...(fieldSelector ? { fieldSelector } : {}), ...(limit ? { limit } : {}) })).items;
    },
  };
}

/** `Forbidden: deployments.apps "x" is forbidden: ...` from a client-node ApiException. */
export function describeKubeError(error: unknown): string {
  const e = error as { code?: number; body?: unknown; message?: string };
  if (typeof e?.code === 'number' && e.body !== undefined) {
    try {
      const status = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { message?: string; reason?: string };
      if (status?.message) return `${status.reason ?? `HTTP ${e.code}`}: ${status.message}`;
    } catch {
      // not a Status object
    }
    return `HTTP ${e.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}
