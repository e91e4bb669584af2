/** The run's settings: the action's inputs (or the command line's flags), validated into one typed object by ../inputs/settings.ts. */

export const COMMANDS = ['check', 'upgrade', 'restore'] as const;
export type Command = (typeof COMMANDS)[number];
export const ON_DRIFT = ['none', 'issue', 'pull-request'] as const;
export type OnDrift = (typeof ON_DRIFT)[number];

/** The action's inputs as one typed, validated object. No other module calls `core.getInput`. */
export interface Settings {
  command: Command;
  clusters: string[];
  regions: string[];
  nodegroups: string[];
  minReleaseAge: { text: string; ms: number };
  failOnDrift: boolean;
  kubeconfig: string | null;
  /** What the check does on drift. */
  onDrift: OnDrift;
  labels: string[];
  assignees: string[];
  reviewers: string[];
  /** Masked as soon as it is read. Empty when not given (then nothing touches GitHub). */
  githubToken: string;
  manifestDir: string;
  /** role-to-assume and its companions; `null`: the SDK's default credentials. */
  role: RoleSettings | null;
  /** `accounts` and `account-role`: the member accounts, each read and changed through its role; `null`: the job's own account. */
  accounts: AccountSettings | null;
  /**
   * The member account a pass of a command works in, set per account of `accounts` (../commands/accounts.ts)
   * with manifestDir under it; absent: the job's own account.
   */
  account?: string;
  /** Staged rollouts (the `stages` input); `null`: every cluster is judged on its own, as without stages. */
  stages: StageSettings | null;
  /**
   * `history-cache`: the file that keeps the update history the staged rollout's proof has read, so a
   * run describes only what is new; `null`: none (every run reads the history afresh, within its bound).
   */
  historyCache: string | null;
  /**
   * `kube-timeout`: how long one request to a cluster's Kubernetes API may take in all; connecting may
   * take half of it. Every command, the post step included.
   */
  kubeTimeout: { text: string; ms: number };
  upgrade: UpgradeSettings;
}

export interface UpgradeSettings {
  dryRun: boolean;
  force: boolean;
  /** Explicit target for a manual run. */
  releaseVersion: string | null;
  followControlPlane: boolean;
  pauseClusterAutoscaler: boolean;
  /** `auto`, or the deployment as `namespace/name`. */
  clusterAutoscaler: 'auto' | { namespace: string; name: string };
  maxParallel: number;
  /** `null`: derived from the node count. */
  waitTimeoutMs: number | null;
  pollIntervalMs: number;
  /** How long the health gate waits after each node group's update; 0 turns it off. */
  healthTimeoutMs: number;
  /** `apply-node-classes`: the upgrade patches a pinned EC2NodeClass's alias itself instead of waiting for GitOps to (docs/karpenter.md). Absent: false. */
  applyNodeClasses?: boolean;
}

/** The staged rollout's inputs: `stages` in rollout order, the cluster tag that names a cluster's stage, the soak. */
export interface StageSettings {
  names: string[];
  tag: string;
  soak: { text: string; ms: number };
}

/** The `role-to-assume` inputs: the action assumes the role itself and renews it for the whole job. */
export interface RoleSettings {
  roleArn: string;
  sessionName: string;
  durationSeconds: number;
  /** The `aud` of the job's OIDC token: what the role's trust policy expects. */
  audience: string;
}

/** The member accounts and the role assumed in each, chained from the job's credentials (../inputs/accounts.ts). */
export interface AccountSettings {
  /** Account ids, in the order given. */
  ids: string[];
  /** The role's ARN with `{account}` where the account id goes. */
  roleArn: string;
  sessionName: string;
  /** Seconds each member session lasts: one hour, the most STS gives a chained session. */
  durationSeconds: number;
}

export interface CredentialOutlook {
  /** The action renews them itself (role-to-assume), or the SDK's provider refreshes them. */
  renewable: boolean;
  /** When they stop working, when known. */
  expiresAt: number | null;
  /** Where they come from, in words for the warning. */
  source: string;
}

/** The member role's ARN in one account of `accounts`. */
export function memberRoleArn(accounts: Pick<AccountSettings, 'roleArn'>, account: string): string {
  return accounts.roleArn.replace('{account}', account);
}
