import type { PlanItem } from './plan.js';
import type { AutoscalerPause, PauseReport } from './pause.js';
import type { AccountReport } from './check-report.js';

/** What the upgrade did: the one object its outputs, summary and pull-request comment are rendered from. */

export interface UpgradeReport {
  command: 'upgrade';
  dryRun: boolean;
  generatedAt: string;
  /** Whether every planned update succeeded (or, in a dry run, passed pre-flight). */
  ok: boolean;
  plan: PlanItem[];
  nodegroups: NodegroupUpgrade[];
  autoscalers: AutoscalerPause[];
  /** Stale pauses of earlier runs found on the clusters read, and what was done about them. */
  pauses: PauseReport[];
  /** Said before anything changed: what could make this run fail half-way. */
  warnings: string[];
  /** Where the clusters' manifests are (the manifest-dir input), for what the summary tells people to pin. */
  manifestDir: string;
  /** With the `accounts` input: each account, its role, and why it could not be upgraded in, if so. */
  accounts?: AccountReport[];
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export interface WorkloadCount {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  desired: number;
  ready: number;
}

/** A workload that did not come back: ready now, desired now, what it had before, what the gate needed. */
export interface WorkloadFinding extends WorkloadCount {
  before: { desired: number; ready: number };
  need: number;
}

/** A pod of a watched workload that is not ready, or restarted during the gate. */
export interface PodFinding {
  namespace: string;
  name: string;
  workload: string;
  ready: boolean;
  /** The container's waiting reason (`CrashLoopBackOff`), else its last termination reason, else the pod's phase. */
  reason: string | null;
  restarts: number;
  restartsDuringGate: number;
  /** `Reason: message` of the pod's recent events, where readable. */
  events: string[];
}

export interface HealthResult {
  passed: boolean;
  durationMs: number;
  /** Workloads watched. */
  watched: number;
  /** What was wrong with the node group's nodes when the gate ended. */
  nodes: string[];
  workloads: WorkloadFinding[];
  pods: PodFinding[];
}

/** The health gate's outcome for one node group, and whether its failure was recorded on the node group. */
export interface HealthReport extends HealthResult {
  /** The node group's ARN (for `aws eks untag-resource`). */
  arn: string | null;
  /** The SSM parameter written on failure (the durable mark, ../model/fleet.ts UNHEALTHY_PARAMETER_PATH), or null. */
  parameter: string | null;
  /** The tag written on failure (the mark's visible mirror), or null. */
  recorded: string | null;
  /** What could not be written, parameter or tag, and why. */
  recordError: string | null;
}

export type Phase = 'setup' | 'scale up' | 'upgrade' | 'scale down';

export interface UpdateErrorEntry {
  errorCode: string;
  errorMessage: string;
  resourceIds: string[];
}

/** What happened to one node group. */
export interface NodegroupUpgrade {
  /** With the `accounts` input: the cluster's account. */
  account?: string;
  cluster: string;
  region: string;
  nodegroup: string;
  amiType: string | null;
  from: PlanItem['current'];
  to: PlanItem['target'];
  result: 'upgraded' | 'unhealthy' | 'failed' | 'timed-out' | 'blocked' | 'not-started' | 'planned' | 'up-to-date' | 'skipped';
  reason: string;
  updateId: string | null;
  resumed: boolean;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  phases: { phase: Phase; at: string }[];
  errors: UpdateErrorEntry[];
  blockers: string[];
  /** The health gate after the update; `null` when it did not run (off, or the update did not succeed). */
  health: HealthReport | null;
  /**
   * How to go back after a failed health gate, when its kind's way is not a node group's (a Karpenter
   * node class: pin the previous alias again); the summary then names no hold to lift, none was recorded.
   */
  wayBack?: string;
}

/** One node group's line in the upgrade report, before anything happened to it. */
export function upgradeEntry(
  item: Pick<PlanItem, 'cluster' | 'region' | 'nodegroup' | 'amiType' | 'current' | 'target'>,
  result: NodegroupUpgrade['result'],
  reason: string,
  extra: Partial<NodegroupUpgrade> = {},
): NodegroupUpgrade {
  return {
    cluster: item.cluster,
    region: item.region,
    nodegroup: item.nodegroup,
    amiType: item.amiType,
    from: item.current,
    to: item.target,
    result,
    reason,
    updateId: null,
    resumed: false,
    startedAt: null,
    endedAt: null,
    durationMs: null,
    phases: [],
    errors: [],
    blockers: [],
    health: null,
    ...extra,
  };
}

/** What a node group looked like before its update: what the gate compares with afterwards. */
export interface HealthBaseline {
  nodegroup: string;
  /** Its nodes' AMI ids and creation times (a resumed update may already have made new ones). */
  nodeImages: { image: string; createdAt: number }[];
  nodes: number;
  /** The workloads that had pods on its nodes, with their ready counts then. */
  workloads: WorkloadCount[];
}
