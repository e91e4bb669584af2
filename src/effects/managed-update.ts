import { createHash } from 'node:crypto';
import {
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  InvalidParameterException,
  UpdateNodegroupVersionCommand,
  type Nodegroup,
  type Update,
  type UpdateNodegroupVersionRequest,
} from '@aws-sdk/client-eks';
import { DescribeAutoScalingGroupsCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { V1Node } from '@kubernetes/client-node';
import type { KubeApi } from '../model/kube-api.js';
import type { PlanItem } from '../model/plan.js';
import { upgradeEntry, type NodegroupUpgrade, type Phase } from '../model/upgrade-report.js';
import { defaultWaitTimeoutMs } from '../decision/budget.js';
import { formatDuration } from '../decision/duration.js';
import { parseRefusal } from '../decision/refusal.js';
import { AUTO_DISCOVERY_TAG } from '../decision/scalers.js';
import { describeError } from '../fleet/aws-clients.js';
import { updateHistory } from '../fleet/eks.js';
import { NODEGROUP_LABEL, readBlockers } from '../fleet/placement.js';
import { iso, type Executor, type ExecutorContext, type PreflightCheck } from './executor.js';
import { gateNodegroup } from './health-gate.js';
import { launchTemplateProblems } from './preflight.js';

/*
 * A managed node group rolled by EKS's own rolling update (UpdateNodegroupVersion): EKS launches
 * nodes on the target, cordons, drains and terminates the old ones; the action starts the update
 * (idempotently), follows it at the poll interval, and gates it on health. What differs between the
 * managed kinds is only how the target is named: by release (here), or by a launch template version
 * naming the image (./launch-template.ts).
 */

/** The UpdateNodegroupVersion parameters that name a target. */
export type TargetParams = Pick<UpdateNodegroupVersionRequest, 'version' | 'releaseVersion' | 'launchTemplate'>;

/** How a managed kind names its target to EKS. */
export interface ManagedTarget {
  /** Read only, after DescribeNodegroup: what the target itself needs checked; adds to `check.problems`. */
  prepare(check: PreflightCheck, nodegroup: Nodegroup | undefined, ctx: ExecutorContext): Promise<void>;
  /** Whether an update of the node group's history goes to this target. */
  goesTo(update: Update, check: PreflightCheck): boolean;
  /** Whether the node group as described runs the target. */
  isAt(nodegroup: Nodegroup, check: PreflightCheck): boolean;
  /** What it runs and what it runs at the target, in the same words, for the check after Successful. */
  describeAt(nodegroup: Nodegroup | undefined, check: PreflightCheck): { at: string | undefined; want: string | undefined };
  /** The parameters that move it to the target, making first what they name; throws with the reason. */
  updateParams(check: PreflightCheck, ctx: ExecutorContext): Promise<TargetParams>;
}

/** An update's parameter of one type (EKS API reference, UpdateParam: Version, ReleaseVersion, LaunchTemplateVersion...). */
export function param(update: Update | undefined, type: string): string | undefined {
  return update?.params?.find((p) => p.type === type)?.value;
}

/** A managed node group picked by release: EKS takes the Kubernetes version and the release. */
export const releaseTarget: ManagedTarget = {
  prepare: async () => undefined,
  goesTo: (u, check) => param(u, 'ReleaseVersion') === check.item.target?.releaseVersion,
  isAt: (ng, check) => ng.releaseVersion === check.item.target?.releaseVersion && ng.version === check.item.target?.version,
  describeAt: (ng, check) => ({ at: ng?.releaseVersion, want: check.item.target?.releaseVersion }),
  updateParams: async (check) => ({ version: check.item.target?.version, releaseVersion: check.item.target?.releaseVersion }),
};

export function managedExecutor(target: ManagedTarget): Executor {
  return { pausesAutoscaler: true, preflight: (check, ctx) => preflight(target, check, ctx), roll: (check, ctx) => roll(target, check, ctx) };
}

export const releaseExecutor: Executor = managedExecutor(releaseTarget);

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

/**
 * What EKS says of the node group before anything changes: its Auto Scaling group (read now as the
 * wait reads it later, so a missing permission stops the run before any change; its tags say whether
 * cluster-autoscaler's auto-discovery would find it), its launch template,
 * the target's own needs, and its update history: an update to the same target already running is
 * resumed, another update or a status other than ACTIVE blocks, a node group already there is done.
 */
async function preflight(target: ManagedTarget, check: PreflightCheck, ctx: ExecutorContext): Promise<void> {
  const { cluster, deps } = ctx;
  const { eks, autoscaling, ec2 } = ctx.clients;
  const { item } = check;
  try {
    const { nodegroup } = await eks.send(new DescribeNodegroupCommand({ clusterName: cluster.name, nodegroupName: item.nodegroup }));
    check.autoScalingGroup = nodegroup?.resources?.autoScalingGroups?.[0]?.name;
    check.arn = nodegroup?.nodegroupArn;
    // Read now what the wait reads later: a missing permission stops the run before any change.
    if (check.autoScalingGroup) {
      const { AutoScalingGroups } = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [check.autoScalingGroup] }));
      check.discoveryTagged = (AutoScalingGroups?.[0]?.Tags ?? []).some((t) => t.Key === AUTO_DISCOVERY_TAG);
    }
    if (nodegroup?.launchTemplate) check.problems.push(...(await launchTemplateProblems(ec2, nodegroup, deps)));
    await target.prepare(check, nodegroup, ctx);
    const updates = await updateHistory(eks, cluster.name, item.nodegroup);
    const sameTarget = (u: Update) => target.goesTo(u, check);
    check.failedAttempts = updates.filter((u) => sameTarget(u) && (u.status === 'Failed' || u.status === 'Cancelled')).length;
    const running = updates.findLast((u) => u.status === 'InProgress');
    if (running && sameTarget(running)) check.resume = running.id;
    else if (running) check.problems.push(`another update (${running.id}, release ${param(running, 'ReleaseVersion') ?? 'unknown'}) is in progress`);
    else if (nodegroup?.status !== 'ACTIVE') check.problems.push(`status is ${nodegroup?.status}, not ACTIVE`);
    else if (target.isAt(nodegroup, check)) check.reached = true;
    const health = nodegroup?.health?.issues ?? [];
    if (health.length > 0) check.problems.push(`health issues: ${health.map((h) => `${h.code}: ${h.message}`).join('; ')}`);
  } catch (error) {
    check.problems.push(describeError(error));
  }
}

async function roll(target: ManagedTarget, check: PreflightCheck, ctx: ExecutorContext): Promise<NodegroupUpgrade> {
  const { cluster, kube, settings, deps } = ctx;
  const { eks, autoscaling } = ctx.clients;
  const { item } = check;
  const label = `${cluster.name}/${item.nodegroup}`;
  const to = item.target!;
  let updateId = check.resume;
  const startedAt = deps.now();
  if (updateId) {
    deps.log(`${label}: resuming the wait on update ${updateId} (already running, same target ${to.releaseVersion})`);
  } else {
    let params: TargetParams;
    try {
      params = await target.updateParams(check, ctx);
    } catch (error) {
      return upgradeEntry(item, 'failed', describeError(error), { startedAt: iso(startedAt), endedAt: iso(deps.now()), durationMs: deps.now() - startedAt });
    }
    try {
      const { update } = await eks.send(
        new UpdateNodegroupVersionCommand({
          clusterName: cluster.name,
          nodegroupName: item.nodegroup,
          ...params,
          force: settings.force,
          clientRequestToken: updateToken(deps.sha, item, check.failedAttempts),
        }),
      );
      updateId = update?.id;
      deps.log(
        `${label}: update ${updateId} started: ${item.current?.releaseVersion} → ${to.releaseVersion} ` +
          `(Kubernetes ${to.version})${settings.force ? ', force' : ''}`,
      );
    } catch (error) {
      const refusal = error instanceof InvalidParameterException ? parseRefusal(error.message) : undefined;
      const reason = refusal?.allowed
        ? `EKS refused ${to.releaseVersion}: the release it allows for this node group is ${refusal.allowed}; ` +
          `pin that release (or a newer one EKS offers) and re-run. ${describeError(error)}`
        : refusal?.notValidFor
          ? `EKS refused ${to.releaseVersion}: it is not a release of Kubernetes ${refusal.notValidFor}, the version the update asked for; ` +
            `pin a release of Kubernetes ${refusal.notValidFor} that EKS offers for ${item.amiType ?? 'this AMI type'} ` +
            `(the check's latest, or the AMI's release notes) and re-run. ${describeError(error)}`
          : `UpdateNodegroupVersion failed: ${describeError(error)}`;
      return upgradeEntry(item, 'failed', reason, { startedAt: iso(startedAt), endedAt: iso(deps.now()), durationMs: deps.now() - startedAt });
    }
  }
  if (!updateId) return upgradeEntry(item, 'failed', 'UpdateNodegroupVersion returned no update id');

  const timeout = settings.waitTimeoutMs ?? defaultWaitTimeoutMs(item.nodes, item.updateSettings);
  const phases: NodegroupUpgrade['phases'] = [];
  let last = '';
  let update: Update | undefined;
  let createdAt = startedAt;
  for (;;) {
    try {
      update = (await eks.send(new DescribeUpdateCommand({ name: cluster.name, nodegroupName: item.nodegroup, updateId }))).update;
      if (update?.createdAt) createdAt = Math.min(createdAt, update.createdAt.getTime());
      const progress = await observe(kube, autoscaling, item, check.autoScalingGroup, createdAt);
      if (update?.status === 'InProgress' && progress && phases.at(-1)?.phase !== progress.phase)
        phases.push({ phase: progress.phase, at: iso(deps.now()) as string });
      const state = update?.status === 'InProgress' ? (progress?.phase ?? 'in progress') : update?.status;
      const line = `${label}: ${state} · ${progress?.text ?? 'progress unavailable'}`;
      if (line !== last) deps.log(`${line} · ${formatDuration(deps.now() - startedAt)}`);
      last = line;
    } catch (error) {
      if (isPermanent(error)) {
        return upgradeEntry(
          item,
          'failed',
          `cannot follow update ${updateId}: ${describeError(error)}. The update goes on in EKS; fix the access and re-run to resume waiting`,
          {
            updateId,
            resumed: !!check.resume,
            startedAt: iso(startedAt),
            phases,
          },
        );
      }
      deps.warn(`${label}: could not read progress (${describeError(error)}); still waiting`);
    }
    // The pause is read at every poll: a GitOps self-heal that undid it is noticed within one interval.
    await ctx.watchPause?.(item.nodegroup);
    if (update && update.status !== 'InProgress') break;
    if (deps.now() - startedAt > timeout) {
      return upgradeEntry(
        item,
        'timed-out',
        `still in progress after ${formatDuration(timeout)} (wait-timeout): the update goes on in EKS; re-run the job to resume waiting on update ${updateId}`,
        {
          updateId,
          resumed: !!check.resume,
          startedAt: iso(startedAt),
          phases,
        },
      );
    }
    await deps.sleep(settings.pollIntervalMs);
  }

  const ended = deps.now();
  const base = { updateId, resumed: !!check.resume, startedAt: iso(startedAt), endedAt: iso(ended), durationMs: ended - startedAt, phases };
  if (update.status !== 'Successful') {
    const errors = (update.errors ?? []).map((e) => ({
      errorCode: e.errorCode ?? 'Unknown',
      errorMessage: e.errorMessage ?? '',
      resourceIds: e.resourceIds ?? [],
    }));
    let blockers: string[] = [];
    if (errors.some((e) => e.errorCode === 'PodEvictionFailure')) {
      blockers = await readBlockers(kube, [item.nodegroup]).then(
        (found) => found[item.nodegroup] ?? [],
        () => [], // EKS's errors are reported anyway
      );
    }
    return upgradeEntry(item, 'failed', `update ${update.status}: ${errors.map((e) => `${e.errorCode}: ${e.errorMessage}`).join('; ') || 'no error given'}`, {
      ...base,
      errors,
      blockers,
    });
  }
  // Successful is not enough: the node group must be ACTIVE at the target (it flips shortly after).
  for (let i = 0; ; i++) {
    const { nodegroup } = await eks.send(new DescribeNodegroupCommand({ clusterName: cluster.name, nodegroupName: item.nodegroup }));
    const { at, want } = target.describeAt(nodegroup, check);
    if (nodegroup?.status === 'ACTIVE' && at === want) {
      const reached = `${item.current?.releaseVersion} → ${to.releaseVersion}, ACTIVE`;
      if (settings.healthTimeoutMs === 0 || !check.baseline) {
        const why = settings.healthTimeoutMs === 0 ? ' (health gate off: health-timeout 0)' : '';
        return upgradeEntry(item, 'upgraded', `${reached}${why}`, { ...base, endedAt: iso(deps.now()), durationMs: deps.now() - startedAt });
      }
      return gateNodegroup(eks, check, ctx, reached, base, startedAt, createdAt);
    }
    if (i >= 5 || (nodegroup?.status === 'ACTIVE' && at !== want)) {
      return upgradeEntry(item, 'failed', `the update reported Successful but the node group is ${nodegroup?.status} at ${at}, not at ${want}`, base);
    }
    await deps.sleep(settings.pollIntervalMs);
  }
}

/** An error that waiting will not cure: access denied, a missing resource, a bad request. */
function isPermanent(error: unknown): boolean {
  const e = error as { name?: string; code?: number; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode ?? e?.code;
  return /AccessDenied|NotFound|Forbidden|Unauthorized/.test(e?.name ?? '') || status === 401 || status === 403 || status === 404;
}

/** Infers EKS's phase from what can be seen: the nodes' ages and cordons, the Auto Scaling group's size. */
async function observe(
  kube: KubeApi,
  autoscaling: AutoScalingClient,
  item: PlanItem,
  group: string | undefined,
  createdAt: number,
): Promise<{ phase: Phase; text: string } | undefined> {
  const [nodes, asg] = await Promise.all([
    kube.listNodes(`${NODEGROUP_LABEL}=${item.nodegroup}`),
    group
      ? autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] })).then((r) => r.AutoScalingGroups?.[0])
      : Promise.resolve(undefined),
  ]);
  const born = (n: V1Node) => new Date(n.metadata?.creationTimestamp ?? 0).getTime();
  const old = nodes.filter((n) => born(n) < createdAt);
  const fresh = nodes.filter((n) => born(n) >= createdAt);
  const cordoned = old.filter((n) => n.spec?.unschedulable).length;
  const desired = asg?.DesiredCapacity;
  const phase: Phase =
    old.length === 0
      ? 'scale down'
      : cordoned > 0
        ? 'upgrade'
        : fresh.length === 0 && (desired === undefined || desired <= (item.nodes ?? 0))
          ? 'setup'
          : 'scale up';
  const size = asg ? ` · Auto Scaling group desired ${asg.DesiredCapacity} / max ${asg.MaxSize}` : '';
  return { phase, text: `old nodes ${old.length}${cordoned ? ` (${cordoned} cordoned)` : ''} · new nodes ${fresh.length}${size}` };
}
