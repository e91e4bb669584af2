import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { AppsV1Api, CoreV1Api, KubeConfig, PolicyV1Api, type V1Deployment, type V1Node, type V1Pod, type V1PodDisruptionBudget } from '@kubernetes/client-node';

/** EKS tokens are valid 15 minutes; renew well before. */
export const TOKEN_RENEW_MS = 10 * 60_000;

/**
 * The bearer token EKS accepts: `k8s-aws-v1.` + base64url (no padding) of a presigned STS
 * GetCallerIdentity URL whose signed headers include `x-k8s-aws-id: <cluster>`.
 */
export async function eksToken(clusterName: string, region: string, credentials: AwsCredentialIdentityProvider, signingDate = new Date()): Promise<string> {
  const hostname = `sts.${region}.amazonaws.com`;
  const signer = new SignatureV4({ credentials, region, service: 'sts', sha256: Sha256 });
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
  return `k8s-aws-v1.${Buffer.from(`https://${hostname}/?${query.toString()}`).toString('base64url')}`;
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
}

/**
 * A Kubernetes client whose token is renewed before it expires: every call asks for a fresh client
 * when the token is older than TOKEN_RENEW_MS. `token` is called with the cluster name and returns a
 * new token (and masks it).
 */
export function eksKubeApi(clusterName: string, endpoint: KubeEndpoint, token: () => Promise<string>, now: () => number = Date.now): KubeApi {
  type Clients = { apps: AppsV1Api; core: CoreV1Api; policy: PolicyV1Api };
  // One client (and one token) at a time, shared by concurrent calls, renewed when the token ages.
  let current: { at: number; made: Promise<Clients> } | undefined;
  async function make(): Promise<Clients> {
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
      users: [{ name: 'eks-ami-drift', token: await token() }],
      contexts: [{ name: clusterName, cluster: clusterName, user: 'eks-ami-drift' }],
      currentContext: clusterName,
    });
    return { apps: kc.makeApiClient(AppsV1Api), core: kc.makeApiClient(CoreV1Api), policy: kc.makeApiClient(PolicyV1Api) };
  }
  function clients(): Promise<Clients> {
    if (!current || now() - current.at > TOKEN_RENEW_MS) current = { at: now(), made: make() };
    return current.made;
  }
  return kubeApiFrom(clients);
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
