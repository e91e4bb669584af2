import { createHash } from 'node:crypto';
import {
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  InvalidParameterException,
  TagResourceCommand,
  UpdateNodegroupVersionCommand,
  type EKSClient,
  type Nodegroup,
  type Update,
} from '@aws-sdk/client-eks';
import { DescribeAutoScalingGroupsCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand, DescribeLaunchTemplateVersionsCommand, paginateDescribeLaunchTemplateVersions, RunInstancesCommand, type _InstanceType, type EC2Client } from '@aws-sdk/client-ec2';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import type { UpgradeSettings } from '../inputs.js';
import { describeError, type AwsClients } from '../fleet/aws.js';
import { describeKubeError, type KubeApi } from '../fleet/kube-api.js';
import type { ClusterState } from '../fleet/types.js';
import { blockingBudgets } from '../decision/disruption.js';
import type { PlanItem } from '../decision/plan.js';
import { formatDuration } from '../decision/duration.js';
import { compareMinors } from '../decision/release.js';
import { findAutoscaler, LEASE_RENEW_MS, pauseAutoscaler, renewLease, restoreAutoscaler, type AutoscalerRef } from './autoscaler.js';
import { retryTransient } from './retry.js';
import { describeHealth, healthGate, NODEGROUP_LABEL, readBaselines, type HealthBaseline, type HealthResult } from './health.js';
import { UNHEALTHY_TAG } from '../fleet/types.js';
import { updateHistory } from '../fleet/history.js';

/** The health gate's outcome for one node group, and whether its failure was recorded on the node group. */
export interface HealthReport extends HealthResult {
  /** The node group's ARN (for `aws eks untag-resource`). */
  arn: string | null;
  /** The tag written on failure, or why it could not be. */
  recorded: string | null;
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
}

export interface AutoscalerPause {
  cluster: string;
  region: string;
  deployment: string | null;
  replicas: number | null;
  pausedAt: string | null;
  restoredAt: string | null;
  outcome: 'restored' | 'already-restored' | 'left-alone' | 'not-found' | 'not-paused' | 'restore-failed';
  note: string;
}

/** What a post step needs to restore a pause if the main step dies. */
export interface PauseRecord {
  cluster: string;
  region: string;
  namespace: string;
  name: string;
  replicas: number;
}

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

/** One node group's line in the upgrade report, before anything happened to it. */
export function upgradeEntry(item: PlanItem, result: NodegroupUpgrade['result'], reason: string, extra: Partial<NodegroupUpgrade> = {}): NodegroupUpgrade {
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

/**
 * `clientRequestToken` of an update: the same commit, cluster, node group and target give the same
 * token, so a re-run cannot start a second update. Earlier failed attempts at the same target are
 * counted in, so re-running after a failure can try again.
 */
export function updateToken(sha: string, item: PlanItem, failedAttempts: number): string {
  const t = item.target;
  return createHash('sha256')
    .update([sha, item.region, item.cluster, item.nodegroup, t?.version, t?.releaseVersion, failedAttempts].join('\n'))
    .digest('hex')
    .slice(0, 40);
}

/** How long to wait for one node group: EKS replaces nodes one at a time by default. */
export function defaultWaitTimeoutMs(nodes: number | null): number {
  return Math.max(40 * 60_000, 15 * 60_000 + 8 * 60_000 * (nodes ?? 1));
}

function param(update: Update | undefined, type: string): string | undefined {
  return update?.params?.find((p) => p.type === type)?.value;
}

interface Preflight {
  item: PlanItem;
  resume?: string;
  failedAttempts: number;
  blockers: string[];
  problems: string[];
  autoScalingGroup?: string;
  arn?: string;
  /** What the health gate compares with: the node group before its update. */
  baseline?: HealthBaseline;
  /** The node group reached the target between the plan and the pre-flight (an earlier run's update ended). */
  reached?: boolean;
  /** A target image (CUSTOM): the node group's launch template, and the version naming the image if an earlier run made it. */
  template?: { id: string; name: string | null; current: string; made?: string };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Upgrades the planned node groups of one cluster: pre-flight (nothing changes when any fails), pause
 * cluster-autoscaler, update at most `maxParallel` at once, wait for each, restore cluster-autoscaler
 * whatever happens. Returns one entry per planned node group and the pause.
 */
export async function upgradeCluster(
  cluster: ClusterState,
  items: PlanItem[],
  settings: UpgradeSettings,
  deps: UpgradeDeps,
): Promise<{ nodegroups: NodegroupUpgrade[]; autoscaler: AutoscalerPause | null }> {
  const { eks, autoscaling, ec2 } = deps.clientsFor(cluster.region);
  const name = cluster.name;

  let kube: KubeApi;
  try {
    kube = deps.kubeFor(cluster);
  } catch (error) {
    return { nodegroups: items.map((i) => upgradeEntry(i, 'not-started', `cannot reach the Kubernetes API: ${describeError(error)}`)), autoscaler: null };
  }

  // 1. Pre-flight: read only.
  const checks = await preflight({ eks, autoscaling, ec2 }, kube, cluster, items, settings, deps);
  const blocked = checks.filter((c) => c.problems.length > 0 || (c.blockers.length > 0 && !settings.force));
  for (const c of checks) {
    for (const b of c.blockers) deps.warn(`${name}/${c.item.nodegroup}: ${b}${settings.force ? ' (force: the update evicts anyway after 15 minutes)' : ''}`);
  }
  if (blocked.length > 0) {
    const why = `not started: pre-flight failed for ${blocked.map((b) => b.item.nodegroup).join(', ')}, so nothing was changed in ${name}`;
    return {
      nodegroups: checks.map((c) =>
        blocked.includes(c) ? upgradeEntry(c.item, 'blocked', [...c.problems, ...c.blockers].join('; '), { blockers: c.blockers }) : upgradeEntry(c.item, 'not-started', why, { blockers: c.blockers }),
      ),
      autoscaler: null,
    };
  }
  const done = checks.filter((c) => c.reached).map((c) => upgradeEntry(c.item, 'up-to-date', `already at ${c.item.target?.releaseVersion}: an earlier run's update ended after the plan was read`));
  const todo = checks.filter((c) => !c.reached);
  if (todo.length === 0) return { nodegroups: done, autoscaler: null };
  if (settings.dryRun) {
    const resumed = ' (an update to this target is already running: it would be resumed)';
    return { nodegroups: [...done, ...todo.map((c) => upgradeEntry(c.item, 'planned', `${c.item.reason}${c.resume ? resumed : ''}`, { blockers: c.blockers }))], autoscaler: null };
  }

  // 2. Pause cluster-autoscaler, for as short as the plan allows: right before the first update.
  let pause: AutoscalerPause | null = null;
  let ref: AutoscalerRef | undefined;
  if (settings.pauseClusterAutoscaler) {
    try {
      ref = settings.clusterAutoscaler === 'auto' ? await findAutoscaler(kube) : settings.clusterAutoscaler;
    } catch (error) {
      return { nodegroups: items.map((i) => upgradeEntry(i, 'not-started', `cluster-autoscaler: ${describeKubeError(error)}`)), autoscaler: null };
    }
    if (!ref) {
      pause = { cluster: cluster.name, region: cluster.region, deployment: null, replicas: null, pausedAt: null, restoredAt: null, outcome: 'not-found', note: 'no cluster-autoscaler found in kube-system: nothing to pause' };
      deps.log(`${name}: no cluster-autoscaler found: nothing to pause`);
    }
  } else {
    pause = { cluster: cluster.name, region: cluster.region, deployment: null, replicas: null, pausedAt: null, restoredAt: null, outcome: 'not-paused', note: 'pause-cluster-autoscaler is false: EKS may leave the node group larger after scale down if cluster-autoscaler scales it then' };
    deps.warn(`${name}: cluster-autoscaler is not paused (pause-cluster-autoscaler: false)`);
  }

  const results: NodegroupUpgrade[] = [...done];
  let lease: (() => void) | undefined;
  try {
    if (ref) {
      const record = { cluster: cluster.name, region: cluster.region, namespace: ref.namespace, name: ref.name, replicas: -1 };
      try {
        // The post step learns of the pause before it happens: if this process dies mid-patch, the
        // annotation on the deployment holds the count and the post step restores from it.
        deps.recordPause(cluster, record);
        const replicas = await pauseAutoscaler(kube, ref, deps.now());
        deps.recordPause(cluster, { ...record, replicas });
        lease = keepLease(kube, ref, replicas, name, deps);
        pause = { cluster: cluster.name, region: cluster.region, deployment: `${ref.namespace}/${ref.name}`, replicas, pausedAt: iso(deps.now()), restoredAt: null, outcome: 'restored', note: '' };
        deps.log(`${name}: paused cluster-autoscaler ${ref.namespace}/${ref.name} (replicas ${replicas} → 0)`);
      } catch (error) {
        // The patch may have landed even though the answer did not: undo it from its annotation.
        const undone = await restoreAutoscaler(kube, ref).then(
          () => true,
          () => false,
        );
        if (undone) deps.recordPause(cluster, null);
        return { nodegroups: items.map((i) => upgradeEntry(i, 'not-started', `could not pause cluster-autoscaler ${ref!.namespace}/${ref!.name}: ${describeKubeError(error)}`)), autoscaler: null };
      }
    }

    // 3. Update and wait, at most maxParallel at once; after a failure no further update starts.
    const limit = pLimit(settings.maxParallel);
    let stop = false;
    await Promise.all(
      todo.map((c) =>
        limit(async () => {
          if (stop) {
            results.push(upgradeEntry(c.item, 'not-started', 'not started: an earlier node group of this cluster failed'));
            return;
          }
          const r = await updateAndWait(eks, autoscaling, kube, cluster, c, settings, deps);
          if (r.result !== 'upgraded') stop = true;
          results.push(r);
        }),
      ),
    );
  } finally {
    // 4. Restore, whatever happened above: through the run's client for the cluster, whose token is
    // renewed if it aged or its credentials are near expiry, retried on transient errors.
    lease?.();
    if (ref && pause?.deployment) {
      try {
        const outcome = await retryTransient(() => restoreAutoscaler(deps.kubeFor(cluster), ref, pause!.replicas ?? undefined), deps.sleep);
        pause.restoredAt = iso(deps.now());
        pause.outcome = outcome.kind;
        if (outcome.kind === 'left-alone') {
          pause.note = `someone scaled it to ${outcome.replicas} during the upgrade: left at ${outcome.replicas} (recorded ${outcome.recorded})`;
          deps.warn(`${name}: cluster-autoscaler ${pause.deployment} was scaled to ${outcome.replicas} during the upgrade: left alone`);
        } else {
          deps.log(`${name}: restored cluster-autoscaler ${pause.deployment} to ${pause.replicas} replicas`);
        }
        deps.recordPause(cluster, null);
      } catch (error) {
        pause.outcome = 'restore-failed';
        pause.note = `could not restore: ${describeKubeError(error)}; the post step tries again`;
        deps.warn(`${name}: could not restore cluster-autoscaler ${pause.deployment}: ${describeKubeError(error)}`);
      }
    }
  }
  return { nodegroups: results, autoscaler: pause };
}

/**
 * Renews the pause's lease every LEASE_RENEW_MS for as long as the pause is held, so a later run can
 * tell a live pause from one whose job is gone. Returns the function that stops it. The timer does
 * not keep the process alive.
 */
function keepLease(kube: KubeApi, ref: AutoscalerRef, replicas: number, cluster: string, deps: UpgradeDeps): () => void {
  const timer = setInterval(() => {
    renewLease(kube, ref, replicas, deps.now()).catch((error: unknown) => deps.warn(`${cluster}: could not renew the pause's lease on ${ref.namespace}/${ref.name}: ${describeKubeError(error)}`));
  }, LEASE_RENEW_MS);
  timer.unref();
  return () => clearInterval(timer);
}

async function preflight(
  clients: { eks: EKSClient; autoscaling: AutoScalingClient; ec2: EC2Client },
  kube: KubeApi,
  cluster: ClusterState,
  items: PlanItem[],
  settings: UpgradeSettings,
  deps: Pick<UpgradeDeps, 'warn'>,
): Promise<Preflight[]> {
  const { eks, autoscaling } = clients;
  let blockers: Record<string, string[]> = {};
  let baselines: Record<string, HealthBaseline> = {};
  let kubeProblem: string | undefined;
  let placement: Placement | undefined;
  try {
    placement = await readPlacement(kube, items.map((i) => i.nodegroup));
    blockers = await readBlockers(kube, items.map((i) => i.nodegroup), placement);
  } catch (error) {
    kubeProblem = `cannot read nodes, pods and PodDisruptionBudgets: ${describeKubeError(error)}`;
  }
  if (placement && !kubeProblem && settings.healthTimeoutMs > 0) {
    try {
      baselines = await readBaselines(kube, placement);
    } catch (error) {
      kubeProblem = `the health gate cannot read the workloads on the node groups (deployments, statefulsets, daemonsets, replicasets, events): ${describeKubeError(error)}; grant the README's RBAC, or set health-timeout: 0 to upgrade without the gate`;
    }
  }
  return Promise.all(
    items.map(async (item): Promise<Preflight> => {
      const check: Preflight = { item, failedAttempts: 0, blockers: [], problems: kubeProblem ? [kubeProblem] : [], ...(baselines[item.nodegroup] ? { baseline: baselines[item.nodegroup] } : {}) };
      // A target that cannot apply (the plan says why) blocks the cluster like any failed check.
      if (item.action === 'block') return { ...check, problems: [item.reason] };
      try {
        const { nodegroup } = await eks.send(new DescribeNodegroupCommand({ clusterName: cluster.name, nodegroupName: item.nodegroup }));
        check.autoScalingGroup = nodegroup?.resources?.autoScalingGroups?.[0]?.name;
        check.arn = nodegroup?.nodegroupArn;
        // Read now what the wait reads later: a missing permission stops the run before any change.
        if (check.autoScalingGroup) await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [check.autoScalingGroup] }));
        if (nodegroup?.launchTemplate) check.problems.push(...(await launchTemplateProblems(clients.ec2, nodegroup, deps)));
        if (item.target?.imageId) check.template = await prepareTemplate(clients.ec2, cluster.name, item, nodegroup, check.problems);
        const updates = await updateHistory(eks, cluster.name, item.nodegroup);
        const sameTarget = (u: Update) =>
          item.target?.imageId ? check.template?.made !== undefined && param(u, 'LaunchTemplateVersion') === check.template.made : param(u, 'ReleaseVersion') === item.target?.releaseVersion;
        check.failedAttempts = updates.filter((u) => sameTarget(u) && (u.status === 'Failed' || u.status === 'Cancelled')).length;
        const running = updates.findLast((u) => u.status === 'InProgress');
        if (running && sameTarget(running)) check.resume = running.id;
        else if (running) check.problems.push(`another update (${running.id}, release ${param(running, 'ReleaseVersion') ?? 'unknown'}) is in progress`);
        else if (nodegroup?.status !== 'ACTIVE') check.problems.push(`status is ${nodegroup?.status}, not ACTIVE`);
        else if (item.target?.imageId ? check.template?.made !== undefined && nodegroup.launchTemplate?.version === check.template.made : nodegroup.releaseVersion === item.target?.releaseVersion && nodegroup.version === item.target?.version) check.reached = true;
        const health = nodegroup?.health?.issues ?? [];
        if (health.length > 0) check.problems.push(`health issues: ${health.map((h) => `${h.code}: ${h.message}`).join('; ')}`);
      } catch (error) {
        check.problems.push(describeError(error));
      }
      if (item.target && cluster.version && compareMinors(item.target.version, cluster.version) > 0) {
        check.problems.push(`target Kubernetes ${item.target.version} is newer than the control plane's ${cluster.version}`);
      }
      // An update already draining has its own disruptions: only a new update is judged by budgets.
      if (!check.resume) check.blockers = blockers[item.nodegroup] ?? [];
      return check;
    }),
  );
}

/**
 * A node group made from a launch template: EKS reads the template version and launches instances
 * from it as the caller of UpdateNodegroupVersion, so the caller needs
 * `ec2:DescribeLaunchTemplateVersions` (else InvalidRequestException "You are not authorized to
 * describe the launch template version", re:Post QUCe-6r8biRj-GJQdakFnSXw) and, when the template
 * has tag specifications, `ec2:RunInstances` and `ec2:CreateTags` (EKS user guide, "Customize managed
 * nodes with launch templates", Tagging Amazon EC2 instances). Both are checked here, before the
 * pause: the version is read, and RunInstances is tried with DryRun, which answers DryRunOperation when
 * allowed and UnauthorizedOperation when not (EC2 API reference, DryRun). UNVERIFIED whether a dry run
 * also evaluates ec2:CreateTags for the template's tags, and whether EC2 checks authorization before
 * the other parameters: any other answer is a warning, not a block.
 */
async function launchTemplateProblems(ec2: EC2Client, nodegroup: Nodegroup, deps: Pick<UpgradeDeps, 'warn'>): Promise<string[]> {
  const lt = nodegroup.launchTemplate ?? {};
  const label = `launch template ${lt.id ?? lt.name} version ${lt.version ?? '$Default'}`;
  let data;
  try {
    const { LaunchTemplateVersions } = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ ...(lt.id ? { LaunchTemplateId: lt.id } : { LaunchTemplateName: lt.name }), Versions: [lt.version ?? '$Default'] }),
    );
    data = LaunchTemplateVersions?.[0]?.LaunchTemplateData;
  } catch (error) {
    return [`cannot read ${label} (ec2:DescribeLaunchTemplateVersions, which EKS needs of the caller to update this node group): ${describeError(error)}`];
  }
  if (!data?.TagSpecifications?.length) return [];
  try {
    await ec2.send(
      new RunInstancesCommand({
        DryRun: true,
        MinCount: 1,
        MaxCount: 1,
        LaunchTemplate: { ...(lt.id ? { LaunchTemplateId: lt.id } : { LaunchTemplateName: lt.name }), ...(lt.version ? { Version: lt.version } : {}) },
        ...(nodegroup.subnets?.[0] ? { SubnetId: nodegroup.subnets[0] } : {}),
        ...(!data.InstanceType && nodegroup.instanceTypes?.[0] ? { InstanceType: nodegroup.instanceTypes[0] as _InstanceType } : {}),
      }),
    );
  } catch (error) {
    const code = (error as { name?: string }).name;
    if (code === 'DryRunOperation') return [];
    if (code === 'UnauthorizedOperation') {
      return [`not allowed to launch instances from ${label}, whose tag specifications EKS applies as the caller: grant ec2:RunInstances and ec2:CreateTags (${describeError(error)})`];
    }
    deps.warn(`${nodegroup.nodegroupName}: could not check ec2:RunInstances on ${label} by dry run: ${describeError(error)}`);
  }
  return [];
}

/** How the action marks the launch template version it makes, so a re-run finds it rather than making another. */
export function templateMarker(cluster: string, item: PlanItem): string {
  return `eks-ami-drift: ${item.target?.imageId} for ${cluster}/${item.nodegroup}`;
}

/**
 * A CUSTOM node group's launch template, before anything changes: the version it runs, the version an
 * earlier run made for this image (found by its description and image), and whether the caller may
 * make a version (CreateLaunchTemplateVersion with DryRun: DryRunOperation when allowed,
 * UnauthorizedOperation when not; EC2 API reference, DryRun).
 */
async function prepareTemplate(ec2: EC2Client, cluster: string, item: PlanItem, nodegroup: Nodegroup | undefined, problems: string[]): Promise<Preflight['template']> {
  const lt = nodegroup?.launchTemplate;
  if (!lt?.id || !lt.version) {
    problems.push('a CUSTOM node group without a launch template id and version: nothing to update through');
    return undefined;
  }
  const template = { id: lt.id, name: lt.name ?? null, current: lt.version } as NonNullable<Preflight['template']>;
  try {
    const marker = templateMarker(cluster, item);
    for await (const page of paginateDescribeLaunchTemplateVersions({ client: ec2 }, { LaunchTemplateId: lt.id })) {
      const ours = (page.LaunchTemplateVersions ?? []).find((v) => v.VersionDescription === marker && v.LaunchTemplateData?.ImageId === item.target?.imageId);
      if (ours?.VersionNumber !== undefined) template.made = String(ours.VersionNumber);
    }
  } catch (error) {
    problems.push(`cannot read launch template ${lt.id}: ${describeError(error)}`);
    return template;
  }
  if (template.made) return template;
  try {
    await ec2.send(new CreateLaunchTemplateVersionCommand({ DryRun: true, LaunchTemplateId: lt.id, SourceVersion: lt.version, LaunchTemplateData: { ImageId: item.target?.imageId } }));
  } catch (error) {
    const code = (error as { name?: string }).name;
    if (code === 'UnauthorizedOperation') problems.push(`not allowed to make a version of launch template ${lt.id} naming ${item.target?.imageId}: grant ec2:CreateLaunchTemplateVersion (${describeError(error)})`);
    else if (code !== 'DryRunOperation') problems.push(`launch template ${lt.id}: ${describeError(error)}`);
  }
  return template;
}

/**
 * Makes the launch template version naming the target image: a copy of the version the node group
 * runs (SourceVersion), with only ImageId changed (EC2 API reference, CreateLaunchTemplateVersion:
 * what is given overrides the source). The template's default version is left as it is.
 */
async function createTemplateVersion(ec2: EC2Client, cluster: string, item: PlanItem, template: NonNullable<Preflight['template']>): Promise<string> {
  const { LaunchTemplateVersion } = await ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: template.id,
      SourceVersion: template.current,
      VersionDescription: templateMarker(cluster, item),
      LaunchTemplateData: { ImageId: item.target?.imageId },
    }),
  );
  if (LaunchTemplateVersion?.VersionNumber === undefined) throw new Error('CreateLaunchTemplateVersion returned no version number');
  return String(LaunchTemplateVersion.VersionNumber);
}

/** The cluster's pods and each node group's nodes: what the blockers and the health gate's baseline both read. */
export interface Placement {
  pods: V1Pod[];
  nodes: Record<string, V1Node[]>;
}

export async function readPlacement(kube: KubeApi, nodegroups: readonly string[]): Promise<Placement> {
  const pods = await kube.listPods('status.phase!=Succeeded');
  const nodes: Record<string, V1Node[]> = {};
  for (const ng of nodegroups) nodes[ng] = await kube.listNodes(`${NODEGROUP_LABEL}=${ng}`);
  return { pods, nodes };
}

/**
 * Per node group, the PodDisruptionBudgets that would stop EKS from draining its nodes now: one read
 * of pods and budgets for the cluster, one of nodes per node group (or the placement already read).
 */
export async function readBlockers(kube: KubeApi, nodegroups: readonly string[], read?: Placement): Promise<Record<string, string[]>> {
  const [placement, budgets] = await Promise.all([read ?? readPlacement(kube, nodegroups), kube.listPodDisruptionBudgets()]);
  const result: Record<string, string[]> = {};
  for (const ng of nodegroups) {
    result[ng] = blockingBudgets(placement.pods, budgets, new Set((placement.nodes[ng] ?? []).map((n) => n.metadata?.name ?? ''))).map((b) => b.reason);
  }
  return result;
}

/** What EKS said when it refused a release, and what to do about it. */
export interface Refusal {
  allowed?: string;
  /** The Kubernetes version the release is not valid for. */
  notValidFor?: string;
}

/**
 * EKS's two refusal texts of UpdateNodegroupVersion (InvalidParameterException):
 * - current: `Requested release version 1.31.3-20250103 is not valid for kubernetes version 1.30.`
 *   (eksctl #7976, 2025);
 * - 2020: `Requested Nodegroup release version X is invalid. Allowed release version is Y`.
 */
export function parseRefusal(message: string): Refusal | undefined {
  const text = message.trim();
  const allowed = /Allowed release version is (\S+?)\.?$/.exec(text)?.[1];
  if (allowed) return { allowed };
  const notValidFor = /is not valid for kubernetes version (\d+\.\d+)\.?$/i.exec(text)?.[1];
  if (notValidFor) return { notValidFor };
  return undefined;
}

async function updateAndWait(
  eks: EKSClient,
  autoscaling: AutoScalingClient,
  kube: KubeApi,
  cluster: ClusterState,
  check: Preflight,
  settings: UpgradeSettings,
  deps: UpgradeDeps,
): Promise<NodegroupUpgrade> {
  const { item } = check;
  const label = `${cluster.name}/${item.nodegroup}`;
  const target = item.target!;
  let updateId = check.resume;
  const startedAt = deps.now();
  if (updateId) {
    deps.log(`${label}: resuming the wait on update ${updateId} (already running, same target ${target.releaseVersion})`);
  } else {
    let templateVersion: string | undefined;
    if (target.imageId && check.template) {
      try {
        templateVersion = check.template.made ?? (await createTemplateVersion(deps.clientsFor(cluster.region).ec2, cluster.name, item, check.template));
        deps.log(`${label}: launch template ${check.template.id} version ${templateVersion} names ${target.imageId}${check.template.made ? ' (made by an earlier run)' : ` (new, from version ${check.template.current}; the default version is unchanged)`}`);
      } catch (error) {
        return upgradeEntry(item, 'failed', `CreateLaunchTemplateVersion failed: ${describeError(error)}`, { startedAt: iso(startedAt), endedAt: iso(deps.now()), durationMs: deps.now() - startedAt });
      }
    }
    try {
      const { update } = await eks.send(
        new UpdateNodegroupVersionCommand({
          clusterName: cluster.name,
          nodegroupName: item.nodegroup,
          // A CUSTOM node group is updated through its launch template version alone: EKS takes no
          // version or releaseVersion for it (EKS API reference, UpdateNodegroupVersion).
          ...(templateVersion ? { launchTemplate: { id: check.template!.id, version: templateVersion } } : { version: target.version, releaseVersion: target.releaseVersion }),
          force: settings.force,
          clientRequestToken: updateToken(deps.sha, item, check.failedAttempts),
        }),
      );
      if (templateVersion) check.template!.made = templateVersion;
      updateId = update?.id;
      deps.log(`${label}: update ${updateId} started: ${item.current?.releaseVersion} → ${target.releaseVersion} (Kubernetes ${target.version})${settings.force ? ', force' : ''}`);
    } catch (error) {
      const refusal = error instanceof InvalidParameterException ? parseRefusal(error.message) : undefined;
      const reason = refusal?.allowed
        ? `EKS refused ${target.releaseVersion}: the release it allows for this node group is ${refusal.allowed}; pin that release (or a newer one EKS offers) and re-run. ${describeError(error)}`
        : refusal?.notValidFor
          ? `EKS refused ${target.releaseVersion}: it is not a release of Kubernetes ${refusal.notValidFor}, the version the update asked for; pin a release of Kubernetes ${refusal.notValidFor} that EKS offers for ${item.amiType ?? 'this AMI type'} (the check's latest, or the AMI's release notes) and re-run. ${describeError(error)}`
          : `UpdateNodegroupVersion failed: ${describeError(error)}`;
      return upgradeEntry(item, 'failed', reason, { startedAt: iso(startedAt), endedAt: iso(deps.now()), durationMs: deps.now() - startedAt });
    }
  }
  if (!updateId) return upgradeEntry(item, 'failed', 'UpdateNodegroupVersion returned no update id');

  const timeout = settings.waitTimeoutMs ?? defaultWaitTimeoutMs(item.nodes);
  const phases: NodegroupUpgrade['phases'] = [];
  let last = '';
  let update: Update | undefined;
  let createdAt = startedAt;
  for (;;) {
    try {
      update = (await eks.send(new DescribeUpdateCommand({ name: cluster.name, nodegroupName: item.nodegroup, updateId }))).update;
      if (update?.createdAt) createdAt = Math.min(createdAt, update.createdAt.getTime());
      const progress = await observe(kube, autoscaling, item, check.autoScalingGroup, createdAt);
      if (update?.status === 'InProgress' && progress && phases.at(-1)?.phase !== progress.phase) phases.push({ phase: progress.phase, at: iso(deps.now()) as string });
      const line = `${label}: ${update?.status === 'InProgress' ? (progress?.phase ?? 'in progress') : update?.status} · ${progress?.text ?? 'progress unavailable'}`;
      if (line !== last) deps.log(`${line} · ${formatDuration(deps.now() - startedAt)}`);
      last = line;
    } catch (error) {
      if (isPermanent(error)) {
        return upgradeEntry(item, 'failed', `cannot follow update ${updateId}: ${describeError(error)}. The update goes on in EKS; fix the access and re-run to resume waiting`, {
          updateId,
          resumed: !!check.resume,
          startedAt: iso(startedAt),
          phases,
        });
      }
      deps.warn(`${label}: could not read progress (${describeError(error)}); still waiting`);
    }
    if (update && update.status !== 'InProgress') break;
    if (deps.now() - startedAt > timeout) {
      return upgradeEntry(item, 'timed-out', `still in progress after ${formatDuration(timeout)} (wait-timeout): the update goes on in EKS; re-run the job to resume waiting on update ${updateId}`, {
        updateId,
        resumed: !!check.resume,
        startedAt: iso(startedAt),
        phases,
      });
    }
    await deps.sleep(settings.pollIntervalMs);
  }

  const ended = deps.now();
  const base = { updateId, resumed: !!check.resume, startedAt: iso(startedAt), endedAt: iso(ended), durationMs: ended - startedAt, phases };
  if (update.status !== 'Successful') {
    const errors = (update.errors ?? []).map((e) => ({ errorCode: e.errorCode ?? 'Unknown', errorMessage: e.errorMessage ?? '', resourceIds: e.resourceIds ?? [] }));
    let blockers: string[] = [];
    if (errors.some((e) => e.errorCode === 'PodEvictionFailure')) {
      blockers = await readBlockers(kube, [item.nodegroup]).then(
        (found) => found[item.nodegroup] ?? [],
        () => [], // EKS's errors are reported anyway
      );
    }
    return upgradeEntry(item, 'failed', `update ${update.status}: ${errors.map((e) => `${e.errorCode}: ${e.errorMessage}`).join('; ') || 'no error given'}`, { ...base, errors, blockers });
  }
  // Successful is not enough: the node group must be ACTIVE at the target (it flips shortly after).
  for (let i = 0; ; i++) {
    const { nodegroup } = await eks.send(new DescribeNodegroupCommand({ clusterName: cluster.name, nodegroupName: item.nodegroup }));
    // A CUSTOM node group is at its target when it runs the launch template version naming the image.
    const at = target.imageId ? `launch template version ${nodegroup?.launchTemplate?.version}` : nodegroup?.releaseVersion;
    const want = target.imageId ? `launch template version ${check.template?.made}` : target.releaseVersion;
    if (nodegroup?.status === 'ACTIVE' && at === want) {
      const reached = `${item.current?.releaseVersion} → ${target.releaseVersion}, ACTIVE`;
      if (settings.healthTimeoutMs === 0 || !check.baseline) {
        const why = settings.healthTimeoutMs === 0 ? ' (health gate off: health-timeout 0)' : '';
        return upgradeEntry(item, 'upgraded', `${reached}${why}`, { ...base, endedAt: iso(deps.now()), durationMs: deps.now() - startedAt });
      }
      return gate(eks, kube, cluster, check, settings, deps, reached, base, startedAt, createdAt);
    }
    if (i >= 5 || (nodegroup?.status === 'ACTIVE' && at !== want)) {
      return upgradeEntry(item, 'failed', `the update reported Successful but the node group is ${nodegroup?.status} at ${at}, not at ${want}`, base);
    }
    await deps.sleep(settings.pollIntervalMs);
  }
}

/**
 * The health gate after EKS's Successful and ACTIVE: `upgraded` when the node group's nodes and the
 * workloads that ran on them came back, else `unhealthy`, recorded as a tag on the node group so a
 * re-run (and the check) sees it.
 */
async function gate(
  eks: EKSClient,
  kube: KubeApi,
  cluster: ClusterState,
  check: Preflight,
  settings: UpgradeSettings,
  deps: UpgradeDeps,
  reached: string,
  base: Partial<NodegroupUpgrade>,
  startedAt: number,
  updateCreatedAt: number,
): Promise<NodegroupUpgrade> {
  const { item } = check;
  const label = `${cluster.name}/${item.nodegroup}`;
  const baseline = check.baseline!;
  deps.log(`${label}: health gate: ${baseline.workloads.length} workload(s) had pods on it; waiting up to ${formatDuration(settings.healthTimeoutMs)} for them and its nodes`);
  const result = await healthGate(kube, baseline, {
    ...(item.target?.imageId ? { imageId: item.target.imageId } : {}),
    updateCreatedAt,
    timeoutMs: settings.healthTimeoutMs,
    pollIntervalMs: settings.pollIntervalMs,
    now: deps.now,
    sleep: deps.sleep,
    log: deps.log,
    label,
  });
  const health: HealthReport = { ...result, arn: check.arn ?? null, recorded: null, recordError: null };
  const timing = { endedAt: iso(deps.now()), durationMs: deps.now() - startedAt };
  if (result.passed) {
    deps.log(`${label}: health gate passed in ${formatDuration(result.durationMs)}: nodes Ready on the new image, ${result.watched} workload(s) back`);
    return upgradeEntry(item, 'upgraded', `${reached}; health gate passed (${result.watched} workload(s) back in ${formatDuration(result.durationMs)})`, { ...base, ...timing, health });
  }
  const what = describeHealth(result);
  const value = `${item.target?.imageId ?? item.target?.releaseVersion} ${new Date(deps.now()).toISOString()}`;
  if (check.arn) {
    try {
      await retryTransient(() => eks.send(new TagResourceCommand({ resourceArn: check.arn, tags: { [UNHEALTHY_TAG]: value } })), deps.sleep);
      health.recorded = `${UNHEALTHY_TAG}=${value}`;
    } catch (error) {
      health.recordError = describeError(error);
      deps.warn(`${label}: could not tag the node group ${UNHEALTHY_TAG} (${describeError(error)}): a re-run will not know it was unhealthy`);
    }
  } else health.recordError = 'DescribeNodegroup gave no ARN';
  deps.warn(`${label}: unhealthy after the update: ${what}`);
  return upgradeEntry(
    item,
    'unhealthy',
    `EKS's update succeeded (${reached}), but the workloads did not come back within ${formatDuration(settings.healthTimeoutMs)} (health-timeout): ${what}`,
    { ...base, ...timing, health },
  );
}

/** An error that waiting will not cure: access denied, a missing resource, a bad request. */
function isPermanent(error: unknown): boolean {
  const e = error as { name?: string; code?: number; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode ?? e?.code;
  return /AccessDenied|NotFound|Forbidden|Unauthorized/.test(e?.name ?? '') || status === 401 || status === 403 || status === 404;
}

/** Infers EKS's phase from what can be seen: the nodes' ages and cordons, the Auto Scaling group's size. */
async function observe(kube: KubeApi, autoscaling: AutoScalingClient, item: PlanItem, group: string | undefined, createdAt: number): Promise<{ phase: Phase; text: string } | undefined> {
  const [nodes, asg] = await Promise.all([
    kube.listNodes(`eks.amazonaws.com/nodegroup=${item.nodegroup}`),
    group ? autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] })).then((r) => r.AutoScalingGroups?.[0]) : Promise.resolve(undefined),
  ]);
  const born = (n: V1Node) => new Date(n.metadata?.creationTimestamp ?? 0).getTime();
  const old = nodes.filter((n) => born(n) < createdAt);
  const fresh = nodes.filter((n) => born(n) >= createdAt);
  const cordoned = old.filter((n) => n.spec?.unschedulable).length;
  const desired = asg?.DesiredCapacity;
  const phase: Phase =
    old.length === 0 ? 'scale down' : cordoned > 0 ? 'upgrade' : fresh.length === 0 && (desired === undefined || desired <= (item.nodes ?? 0)) ? 'setup' : 'scale up';
  const size = asg ? ` · Auto Scaling group desired ${asg.DesiredCapacity} / max ${asg.MaxSize}` : '';
  return { phase, text: `old nodes ${old.length}${cordoned ? ` (${cordoned} cordoned)` : ''} · new nodes ${fresh.length}${size}` };
}
