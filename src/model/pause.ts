/** cluster-autoscaler pauses: what a run records, finds and reports. */

/**
 * What became of a pause, in one vocabulary for the upgrade's own pause, the pauses a later run finds
 * and the post step:
 * - `reported`: only looked at (the check);
 * - `restored`: scaled back to the recorded count;
 * - `already-restored`: nothing was recorded any more (restored by someone else, or twice);
 * - `left`: not restored, the note says why (not stale, or a node group update in progress);
 * - `left-alone`: someone scaled it meanwhile: left at their count and the record removed;
 * - `restore-failed`: the restore failed, the record stays for the next run;
 * - `not-found`: no cluster-autoscaler to pause; `not-paused`: pause-cluster-autoscaler is false;
 * - `held`: kept at 0 on purpose, because EKS still updates a node group of the cluster (a wait that
 *   timed out): lifted by a later `restore` or `upgrade` once EKS is done.
 */
export type PauseOutcome = 'reported' | 'restored' | 'already-restored' | 'left' | 'left-alone' | 'restore-failed' | 'not-found' | 'not-paused' | 'held';

/** The Deployment that runs cluster-autoscaler. */
export interface AutoscalerRef {
  namespace: string;
  name: string;
}

/** A cluster-autoscaler pause found on a cluster, and what this run did about it. */
export interface PauseReport {
  /** With the `accounts` input: the cluster's account. */
  account?: string;
  cluster: string;
  region: string;
  /** `namespace/name`. */
  deployment: string;
  /** The replica count recorded when it was paused. */
  replicas: number;
  pausedAt: string | null;
  leaseRenewedAt: string | null;
  /** Its job is gone (lease older than 10 minutes, or none) and no node group update runs. */
  stale: boolean;
  updateInProgress: boolean;
  outcome: Extract<PauseOutcome, 'reported' | 'restored' | 'left' | 'left-alone' | 'restore-failed'>;
  note: string;
}

/** What to do with the pauses found: report them (check), restore the stale ones (upgrade), or all (restore). */
export type PauseMode = 'report' | 'restore-stale' | 'restore';

/** This run's own pause of one cluster's cluster-autoscaler, as the upgrade report tells it. */
export interface AutoscalerPause {
  /** With the `accounts` input: the cluster's account. */
  account?: string;
  cluster: string;
  region: string;
  deployment: string | null;
  replicas: number | null;
  pausedAt: string | null;
  restoredAt: string | null;
  outcome: Extract<PauseOutcome, 'restored' | 'already-restored' | 'left-alone' | 'not-found' | 'not-paused' | 'restore-failed' | 'held'>;
  note: string;
  /** The pre-flight's finding when Argo CD or Flux keeps the Deployment (../decision/gitops.ts): who, and what keeps their self-heal off the pause. */
  gitops?: string | null;
  /** Each time the pause was found undone during the update, and what was done about it. */
  reverts?: PauseRevert[];
  /** How long cluster-autoscaler ran during the update, in all (from each revert until paused again or restored). */
  runningMs?: number;
}

/** cluster-autoscaler found scaled up again while the pause was held (a GitOps self-heal, a person). */
export interface PauseRevert {
  /** When the action noticed it (ISO 8601). */
  at: string;
  /** When it happened, by the writer's managedFields entry (to the second), if it says. */
  revertedAt: string | null;
  /** The field manager that set spec.replicas: `argocd-controller (Argo CD)`. */
  by: string;
  replicas: number;
  /** The node group whose update was being followed. */
  nodegroup: string;
  /** `re-paused`: scaled to 0 again (once per node group); `left-running`: not fought a second time. */
  action: 're-paused' | 'left-running' | 're-pause-failed';
}

/** What a post step needs to restore a pause if the main step dies. */
export interface PauseRecord {
  /** With the `accounts` input: the cluster's account, whose role the post step restores it through. */
  account?: string;
  cluster: string;
  region: string;
  namespace: string;
  name: string;
  /** The count to restore; null while the pause is being applied (the deployment's annotation then holds it). */
  replicas: number | null;
}

/** What `restore` found and did. */
export interface RestoreResult {
  pauses: PauseReport[];
  /** Clusters that could not be read or restored, with the reason. */
  problems: string[];
  /** Clusters read. */
  read: number;
}
