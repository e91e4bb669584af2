import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { partition } from '@aws-sdk/core/client';
import { AppsV1Api, CoreV1Api, KubeConfig, PolicyV1Api } from '@kubernetes/client-node';
import type { EksToken, KubeApi, KubeEndpoint } from '../model/kube-api.js';

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
    async listAllDeployments() {
      return (await (await clients()).apps.listDeploymentForAllNamespaces()).items;
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
