import { memberRoleArn, type Settings } from './model/settings.js';
import { createAwsClients, type AwsClients } from './fleet/aws-clients.js';
import type { KubeApi } from './model/kube-api.js';
import type { ClusterState } from './model/fleet.js';
import type { GitHub } from './repo/github.js';
import type { PauseDeps } from './effects/pause-sweep.js';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

/*
 * The clients of a run, made once and passed in. Each heavy one is a chunk of dist/, loaded by dynamic
 * import() when a command first needs it: a check loads the GitHub client only to propose, the
 * Kubernetes client only when it has a cluster to look at, and the SDK's credential provider for
 * role-to-assume only with that input. The start of every run stays the size of what it runs.
 */

/** AWS calls in flight at once, across regions. */
export const CONCURRENCY = 10;

export interface Clients {
  clientsFor: (region: string) => AwsClients;
  /** The GitHub client, made on first use; null without a token. */
  github: () => Promise<GitHub | null>;
  /**
   * Kubernetes access to a cluster (`kubeAccess`), its client loaded on first use. Every request has
   * the deadlines of `kube-timeout`; `signal`, when given, ends them all at once (a caller's own deadline).
   */
  kube: () => Promise<KubeFor>;
  /**
   * The clients of a member account of `accounts`: every AWS call and EKS token there through
   * `account-role`, assumed from this run's credentials and renewed before each hour ends. Resolves
   * once the role has been assumed; rejects with STS's reason when it cannot be (that account's error).
   */
  member: (account: string) => Promise<Clients>;
}

/** A cluster's Kubernetes API; every call ends when `signal` aborts, if given. */
export type KubeFor = (cluster: ClusterState, signal?: AbortSignal) => KubeApi;

/** What the clients need of whoever runs them: the runner (../action/) or a terminal (../cli/). */
export interface ClientHooks {
  /** Hides a secret from every later log line, the moment it exists (the runner's `add-mask`). */
  mask(secret: string): void;
  /** A fresh OIDC token of the job for role-to-assume (the runner's `core.getIDToken`). */
  getIdToken(audience: string): Promise<string>;
  log(line: string): void;
}

export async function makeClients(settings: Settings, hooks: ClientHooks): Promise<Clients> {
  // With role-to-assume, one provider for every client: the action renews the session itself.
  const credentials = settings.role
    ? (await import('./fleet/credentials.js')).assumeRoleProvider(settings.role, {
        getIdToken: (audience) => hooks.getIdToken(audience),
        mask: (secret) => hooks.mask(secret),
        region: settings.regions[0] as string,
      })
    : undefined;
  let github: Promise<GitHub | null> | undefined;
  // One GitHub client for the run, whichever account's clients ask for it.
  const githubOnce = () =>
    (github ??= settings.githubToken
      ? import('./repo/github.js').then((g) => g.createGitHub(settings.githubToken, (line) => hooks.log(line)))
      : Promise.resolve(null));
  const members = new Map<string, Promise<Clients>>();
  const member = (account: string): Promise<Clients> => {
    const accounts = settings.accounts;
    if (!accounts) return Promise.reject(new Error(`account ${account}: no accounts input`));
    if (!members.has(account)) {
      members.set(
        account,
        (async () => {
          const { memberRoleProvider } = await import('./fleet/credentials.js');
          const roleArn = memberRoleArn(accounts, account);
          const provider = memberRoleProvider(credentials, roleArn, accounts.sessionName, accounts.durationSeconds, {
            mask: (secret) => hooks.mask(secret),
            region: settings.regions[0] as string,
          });
          // Assumed now, once: a role that cannot be is this account's error, before any other call.
          await provider();
          return accountClients(settings, hooks, provider, githubOnce, member, account);
        })(),
      );
    }
    return members.get(account) as Promise<Clients>;
  };
  return accountClients(settings, hooks, credentials, githubOnce, member);
}

/** One account's AWS and Kubernetes clients over these credentials (undefined: the SDK's default chain); GitHub is the run's. */
function accountClients(
  settings: Settings,
  hooks: ClientHooks,
  credentials: AwsCredentialIdentityProvider | undefined,
  github: () => Promise<GitHub | null>,
  member: (account: string) => Promise<Clients>,
  account?: string,
): Clients {
  const made = new Map<string, AwsClients>();
  let kube: Promise<KubeFor> | undefined;
  const clientsFor = (region: string) => {
    if (!made.has(region)) made.set(region, createAwsClients(region, credentials, account));
    return made.get(region) as AwsClients;
  };
  return {
    clientsFor,
    github,
    kube: () => (kube ??= kubeAccess(settings, clientsFor, hooks)),
    member,
  };
}

/**
 * Kubernetes access to a cluster: the kubeconfig input, else DescribeCluster and an EKS token. One
 * client per cluster for the run: its token is renewed when it ages or its credentials near expiry,
 * and rebuilt on a 401 (eksKubeApi), so every caller (pause look-up, upgrade, restore) shares it. A
 * caller with a signal of its own (the post step's deadline per cluster) gets a client bound to it.
 */
async function kubeAccess(settings: Settings, clientsFor: (region: string) => AwsClients, hooks: ClientHooks): Promise<KubeFor> {
  const { eksKubeApi, eksToken, kubeconfigApi, kubeDeadlines } = await import('./fleet/kube-client.js');
  const masked = new Set<string>();
  const deadlines = kubeDeadlines(settings.kubeTimeout.ms);
  const make = (cluster: ClusterState, signal?: AbortSignal): KubeApi => {
    const options = { deadlines, ...(signal ? { signal } : {}) };
    if (settings.kubeconfig) return kubeconfigApi(settings.kubeconfig, cluster.name, options);
    if (!cluster.endpoint) throw new Error(`DescribeCluster gave no endpoint for ${cluster.name}`);
    const { eks } = clientsFor(cluster.region);
    const endpoint = { server: cluster.endpoint, ...(cluster.caData ? { caData: cluster.caData } : {}) };
    const token = async () => {
      const made = await eksToken(cluster.name, cluster.region, eks.config.credentials);
      if (!masked.has(made.token)) hooks.mask(made.token);
      masked.add(made.token);
      return made;
    };
    return eksKubeApi(cluster.name, endpoint, token, options);
  };
  const made = new Map<string, KubeApi>();
  return (cluster, signal) => {
    if (signal) return make(cluster, signal);
    const key = `${cluster.region}/${cluster.name}`;
    if (!made.has(key)) made.set(key, make(cluster));
    return made.get(key) as KubeApi;
  };
}

export async function pauseDeps(clients: Clients): Promise<PauseDeps> {
  return { eks: (region) => clients.clientsFor(region).eks, kubeFor: await clients.kube(), now: Date.now, sleep };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
