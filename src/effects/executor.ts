import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../fleet/aws-clients.js';
import type { ClusterState } from '../model/fleet.js';
import type { KubeApi } from '../model/kube-api.js';
import type { PauseRecord } from '../model/pause.js';
import type { PlanItem } from '../model/plan.js';
import type { UpgradeSettings } from '../model/settings.js';
import type { NodegroupUpgrade } from '../model/upgrade-report.js';
import type { HealthBaseline } from '../model/upgrade-report.js';

/** What the upgrade is handed by its caller: clients, the clock, the log, and where pauses are recorded. */
export interface UpgradeDeps {
  clientsFor: (region: string) => AwsClients;
  kubeFor: (cluster: ClusterState) => KubeApi;
  /** The commit that triggered the run: part of each update's idempotency token. */
  sha: string;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  log: (line: string) => void;
  warn: (line: string) => void;
  /** Records (or, with null, forgets) a cluster's pause in the action's state, for the post step. */
  recordPause: (cluster: ClusterState, pause: PauseRecord | null) => void;
}

/** One planned node group before anything changes: what the pre-flight found, and what the roll resumes from. */
export interface PreflightCheck {
  item: PlanItem;
  /** An update to the same target already running: its id, to wait on instead of starting another. */
  resume?: string;
  failedAttempts: number;
  /** PodDisruptionBudgets that would stop the drain now (`force` goes ahead anyway). */
  blockers: string[];
  /** Anything else that stops the cluster's upgrade before it starts. */
  problems: string[];
  autoScalingGroup?: string;
  /** Its Auto Scaling group carries cluster-autoscaler's auto-discovery tag (../decision/scalers.ts AUTO_DISCOVERY_TAG). */
  discoveryTagged?: boolean;
  arn?: string;
  /** What the health gate compares with: the node group before its update. */
  baseline?: HealthBaseline;
  /** What the health gate waits for on the new nodes, as the node's kind says (../kinds/node-kind.ts healthTarget). */
  healthTarget?: { imageId?: string };
  /** What a dry run says beyond the plan's reason: the executor's own account of what it would do. */
  detail?: string;
  /** The node group reached the target between the plan and the pre-flight (an earlier run's update ended). */
  reached?: boolean;
  /** A target image (CUSTOM): the node group's launch template, and the version naming the image if an earlier run made it. */
  template?: { id: string; name: string | null; current: string; made?: string };
}

/** Everything an executor works with on one cluster. */
export interface ExecutorContext {
  cluster: ClusterState;
  clients: { eks: EKSClient; autoscaling: AutoScalingClient; ec2: EC2Client; ssm: SSMClient };
  kube: KubeApi;
  settings: UpgradeSettings;
  deps: UpgradeDeps;
  /** Run at every poll of an update while cluster-autoscaler is paused: the pause's watch (./autoscaler-watch.ts). Never throws. */
  watchPause?: (nodegroup: string) => Promise<void>;
}

/**
 * How one node kind is rolled (../kinds/node-kind.ts `executor`). The cluster's upgrade
 * (./cluster-upgrade.ts) runs every executor's pre-flight before it changes anything, pauses
 * cluster-autoscaler, then rolls the node groups and restores it.
 */
export interface Executor {
  /**
   * Whether cluster-autoscaler is paused while this kind rolls (./cluster-upgrade.ts pauses it only when
   * one of the cluster's planned items' executors asks). Node groups: yes, it would scale them mid-roll.
   * Karpenter's node classes: no, Karpenter scales their nodes, not cluster-autoscaler.
   */
  readonly pausesAutoscaler: boolean;
  /** Read only: what this node group needs checked before anything changes; adds to `check.problems`. */
  preflight(check: PreflightCheck, ctx: ExecutorContext): Promise<void>;
  /** Starts the roll (or resumes the one running), follows it and gates it on health: the node group's result. */
  roll(check: PreflightCheck, ctx: ExecutorContext): Promise<NodegroupUpgrade>;
  /**
   * After its roll: why the node group is left mid-change by the run, so cluster-autoscaler must stay
   * paused, or null. Kinds whose changes EKS carries on (or that leave nothing half-done) have none.
   */
  leftMidway?(check: PreflightCheck, ctx: ExecutorContext): Promise<string | null>;
}

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
