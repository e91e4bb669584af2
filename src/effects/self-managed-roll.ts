import { DescribeInstanceRefreshesCommand, SuspendProcessesCommand, UpdateAutoScalingGroupCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { blockingBudgets } from '../decision/disruption.js';
import { expectedRollMs, podDisposition, ROLL_ASSUMPTIONS } from '../decision/drain.js';
import { formatDuration } from '../decision/duration.js';
import { AUTO_DISCOVERY_TAG } from '../decision/scalers.js';
import { describeError } from '../fleet/aws-clients.js';
import { describeKubeError } from '../fleet/kube-errors.js';
import { upgradeEntry, type NodegroupUpgrade } from '../model/upgrade-report.js';
import { iso, type Executor, type ExecutorContext, type PreflightCheck } from './executor.js';
import { templateMarker } from './launch-template.js';
import { launchPermissionProblem } from './preflight.js';
import { changeSource, describeChange, NothingChanged } from './self-managed-change.js';
import { planSource, type SourcePlan } from './self-managed-source.js';
import { active, decodeRecord, describeGroup, recordRoom, writeRecord, type ReplaceRecord, type Step, STEPS } from './self-managed-record.js';
import {
  drainAndTerminate,
  gateSelfManaged,
  newInstances,
  nodesByInstance,
  ownerKey,
  putBack,
  waitForNewNodes,
  type SelfManagedKube,
} from './self-managed-steps.js';

/*
 * A self-managed Auto Scaling group rolled to a target image the way the seeds do it by hand
 * (docs/self-managed.md, "The procedure"): a launch template version with only the image changed, the
 * group moved to it, the processes that would fight the replacement suspended, a surge, the new nodes
 * Ready, each old node drained and its instance terminated, everything put back. Each step is written to
 * the resumable record (./self-managed-record.ts) before it changes anything, so a killed run is finished
 * by the next run, or undone by `undoSelfManaged` (./self-managed-steps.ts).
 *
 * Where the instances come from (a launch template by number, `$Latest` or `$Default`, a mixed
 * instances policy's templates, a launch configuration) is read by ./self-managed-source.ts and changed
 * (and undone) by ./self-managed-change.ts.
 */

/**
 * Suspended for the whole replacement, each because it would launch or terminate instances behind the
 * procedure's back (Auto Scaling user guide, "Suspend and resume processes",
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-suspend-resume-processes.html): AZRebalance
 * (rebalancing launches and terminates), ReplaceUnhealthy and HealthCheck (a node being drained may be
 * marked unhealthy and replaced), AlarmNotification and ScheduledActions (scaling policies and schedules
 * change the desired capacity; "Considerations for suspending processes": suspending AlarmNotification stops
 * the group's target tracking, step and simple scaling policies, HealthCheck and ReplaceUnhealthy keep Auto
 * Scaling from terminating instances on its health checks). Launch and Terminate stay: the surge needs
 * one, terminations are per instance.
 */
export const SUSPENDED_PROCESSES = ['AZRebalance', 'ReplaceUnhealthy', 'HealthCheck', 'AlarmNotification', 'ScheduledActions'];

const after = (record: ReplaceRecord, step: Step) => STEPS.indexOf(record.step) > STEPS.indexOf(step);

/** What each pre-flight found of its group's source, for its roll (the check is the executor's, not extended here). */
const plans = new WeakMap<PreflightCheck, SourcePlan>();

async function preflight(check: PreflightCheck, ctx: ExecutorContext): Promise<void> {
  const { item } = check;
  const name = item.nodegroup;
  check.autoScalingGroup = name;
  const image = item.target?.imageId;
  if (!image) {
    check.problems.push('no target image id: a self-managed group is rolled to an image');
    return;
  }
  await drainPermissions(ctx, check.problems);
  try {
    const g = await describeGroup(ctx.clients.autoscaling, name);
    if (!g) {
      check.problems.push(`Auto Scaling group ${name} not found`);
      return;
    }
    check.discoveryTagged = (g.Tags ?? []).some((t) => t.Key === AUTO_DISCOVERY_TAG);
    const record = decodeRecord(g.Tags);
    if (record && record.image !== image)
      check.problems.push(
        `it is mid-replacement to ${record.image} (tag eks-ami-drift/replacing, step ${record.step}), not ${image}: finish that run or restore it first`,
      );
    if (g.Status) check.problems.push(`its status is ${g.Status}`);
    // Someone else replacing its instances: an instance refresh not yet ended (Auto Scaling API reference,
    // InstanceRefresh.Status: Pending, InProgress, Cancelling, RollbackInProgress and Baking have not ended).
    const { InstanceRefreshes } = await ctx.clients.autoscaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name, MaxRecords: 1 }));
    const refresh = InstanceRefreshes?.[0];
    if (refresh && ['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'].includes(refresh.Status ?? ''))
      check.problems.push(`an instance refresh (${refresh.InstanceRefreshId}) is ${refresh.Status}: wait for it to end, or cancel it, first`);
    // Planned (read only) when no record: a record carries what the first run planned.
    if (!record) {
      const plan = await planSource(ctx, g, image, check.problems);
      if (!plan) return;
      plans.set(check, plan);
      if (!plan.lc) {
        check.template = { id: plan.template.id, name: g.LaunchTemplate?.LaunchTemplateName ?? null, current: plan.template.from };
        // Only a group moved to another version is checked by Auto Scaling (a $Latest or $Default group is not changed).
        const moved = plan.mixed || !plan.template.alias;
        const denied = moved
          ? await launchPermissionProblem(ctx.clients.ec2, plan.template.id, plan.template.from, (line) =>
              ctx.deps.warn(`${ctx.cluster.name}/${name}: ${line}`),
            )
          : null;
        if (denied) check.problems.push(denied);
      }
    } else if (!record.lc)
      check.template = {
        id: record.template.id,
        name: null,
        current: record.template.from,
        ...(record.template.version ? { made: record.template.version } : {}),
      };
    const staying = (g.Instances ?? []).filter(active);
    // Launch suspended, no instance launches (user guide, "How suspended processes affect other processes"): no surge.
    if (!record && (g.SuspendedProcesses ?? []).some((p) => p.ProcessName === 'Launch'))
      check.problems.push('its Launch process is suspended, so the surge could launch no instance: resume it (ResumeProcesses) first');
    for (const i of staying.filter((x) => String(x.LifecycleState).startsWith('Standby')))
      check.problems.push(`instance ${i.InstanceId} is in Standby: put it back in service (ExitStandby) or detach it first`);
    // Whether TerminateInstanceInAutoScalingGroup ends a protected instance is UNVERIFIED (the user guide's
    // protection guards Auto Scaling's own scale-in); protected by someone on purpose either way, so named.
    for (const i of staying.filter((x) => x.ProtectedFromScaleIn))
      check.problems.push(`instance ${i.InstanceId} is protected from scale-in: remove the protection (SetInstanceProtection) first`);
    if (!record) {
      if (plans.get(check)?.reached) {
        check.reached = true;
        return;
      }
      const desired = g.DesiredCapacity ?? 0;
      const surge = desired + staying.length;
      if (surge > (g.MaxSize ?? 0))
        ctx.deps.log(`${ctx.cluster.name}/${name}: at most ${g.MaxSize} instances: the surge raises the maximum to ${surge} for the roll, then puts it back`);
    }
    // Budgets as the eviction API judges them, for the pods on the group's nodes (../decision/disruption.ts).
    const nodes = await nodesByInstance(ctx.kube);
    const names = new Set(staying.flatMap((i) => nodes.get(i.InstanceId ?? '')?.metadata?.name ?? []));
    const [pods, budgets] = await Promise.all([ctx.kube.listPods(''), ctx.kube.listPodDisruptionBudgets()]);
    check.blockers.push(...blockingBudgets(pods, budgets, names).map((b) => b.reason));
    const plan = plans.get(check);
    if (!record && plan)
      check.detail = dryRunDetail(
        g,
        staying.length,
        plan,
        image,
        pods.filter((p) => names.has(p.spec?.nodeName ?? '') && podDisposition(p) === 'evict').length,
        ctx,
      );
  } catch (error) {
    check.problems.push(describeError(error));
  }
}

/** What a dry run says of the replacement: instances, surge, the template change, the expected duration (pure but for its inputs). */
function dryRunDetail(g: AutoScalingGroup, instances: number, plan: SourcePlan, image: string, pods: number, ctx: ExecutorContext): string {
  const desired = g.DesiredCapacity ?? 0;
  const max = g.MaxSize ?? 0;
  const surge = desired + instances;
  const preview = { image, lc: plan.lc, template: plan.template, specs: plan.specs, mixed: plan.mixed } as ReplaceRecord;
  const poll = ctx.settings.pollIntervalMs ?? 10_000;
  const expected = expectedRollMs(instances, pods, poll);
  return (
    `${instances} instance(s) to replace (${pods} pod(s) to evict); surge: desired ${desired} → ${surge}` +
    `${surge > max ? `, maximum ${max} → ${surge} for the roll` : ''}, then back; ${describeChange(preview)}; ` +
    `expected about ${formatDuration(expected)} (assuming ${formatDuration(ROLL_ASSUMPTIONS.readyMs)} from launch to Ready and ` +
    `${formatDuration(ROLL_ASSUMPTIONS.podMs)} a pod: docs/self-managed.md, "Expected duration")`
  );
}

/**
 * The RBAC the drain needs (docs/iam-and-rbac.md, `rbac:self-managed`), asked before anything changes
 * as `kubectl auth can-i` does: read and patch nodes (cordon, taint), create evictions, and delete pods
 * only when `force` may have to after the drain timeout.
 */
async function drainPermissions(ctx: ExecutorContext, problems: string[]): Promise<void> {
  const kube = ctx.kube as Partial<SelfManagedKube>;
  if (typeof kube.evictPod !== 'function' || typeof kube.canI !== 'function') {
    problems.push('the Kubernetes client cannot drain nodes (patch nodes, create pods/eviction)');
    return;
  }
  const rules = [['get', 'nodes'], ['patch', 'nodes'], ['create', 'pods', 'eviction'], ...(ctx.settings.force ? [['delete', 'pods']] : [])];
  try {
    const answers = await Promise.all(rules.map(([verb, resource, subresource]) => kube.canI!({ verb: verb!, resource: resource!, subresource })));
    rules.forEach(([verb, resource, subresource], i) => {
      const what = `${resource}${subresource ? `/${subresource}` : ''}`;
      if (!answers[i])
        problems.push(
          `its RBAC does not let it ${verb} resource "${what}", which the drain needs: apply the rbac:self-managed ClusterRole (docs/iam-and-rbac.md)`,
        );
    });
  } catch (error) {
    problems.push(`could not ask the cluster what its RBAC allows (SelfSubjectAccessReview): ${describeKubeError(error)}`);
  }
}

/** Runs the replacement from the step the record is at; returns the pods' controllers the gate waits for. */
async function replace(check: PreflightCheck, ctx: ExecutorContext, label: string): Promise<{ record: ReplaceRecord; owners: Set<string> }> {
  const { deps } = ctx;
  const { autoscaling } = ctx.clients;
  const name = check.item.nodegroup;
  const save = (r: ReplaceRecord) => writeRecord(autoscaling, name, r);
  let g = await describeGroup(autoscaling, name);
  if (!g) throw new Error(`Auto Scaling group ${name} not found`);
  let record = decodeRecord(g.Tags);
  if (record) deps.log(`${label}: resuming the replacement to ${record.image} at step ${record.step} (tag eks-ami-drift/replacing)`);
  else {
    const plan = plans.get(check);
    if (!plan) throw new Error(`no pre-flight plan for ${name}: run the pre-flight first`);
    record = {
      step: 'template',
      image: check.item.target!.imageId!,
      desired: g.DesiredCapacity ?? 0,
      min: g.MinSize ?? 0,
      max: g.MaxSize ?? 0,
      suspended: [],
      template: plan.template,
      ...(plan.mixed ? { mixed: true, specs: plan.specs ?? [] } : {}),
      ...(plan.lc ? { lc: plan.lc } : {}),
      old: (g.Instances ?? []).filter(active).map((i) => i.InstanceId ?? ''),
      startedAt: deps.now(),
    };
    // Before the first write: a record that cannot fit in the group's tags stops it with nothing changed.
    const room = recordRoom(g.Tags, record);
    if (room) throw new NothingChanged(room);
    await save(record);
  }
  if (record.step === 'template') {
    const before = g.LaunchConfigurationName ?? g.LaunchTemplate?.Version ?? 'its mixed instances policy';
    record = await changeSource(ctx, name, record, templateMarker(ctx.cluster.name, check.item), save);
    deps.log(`${label}: ${describeChange(record)} (the group named ${before})`);
    const already = new Set((g.SuspendedProcesses ?? []).map((p) => p.ProcessName));
    record = { ...record, step: 'suspend', suspended: SUSPENDED_PROCESSES.filter((p) => !already.has(p)) };
    await save(record);
  }
  if (record.step === 'suspend') {
    if (record.suspended.length > 0) await autoscaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: record.suspended }));
    deps.log(`${label}: suspended ${record.suspended.join(', ') || 'nothing (all already suspended)'}`);
    record = { ...record, step: 'surge' };
    await save(record);
  }
  // The surge's target is absolute (the recorded desired capacity plus the instances to replace), so a re-run never surges twice.
  const want = record.desired + record.old.length;
  if (record.step === 'surge') {
    g = await describeGroup(autoscaling, name);
    const fresh = newInstances(g, record).length;
    if ((g?.DesiredCapacity ?? 0) < want && fresh < record.desired) {
      await autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MaxSize: Math.max(record.max, want), DesiredCapacity: want }));
      deps.log(`${label}: surge: desired ${record.desired} → ${want}${want > record.max ? `, maximum ${record.max} → ${want} for the roll` : ''}`);
    }
    await waitForNewNodes(ctx, name, record, ctx.settings.waitTimeoutMs ?? 20 * 60_000);
    record = { ...record, step: 'drain' };
    await save(record);
  }
  const owners = new Set<string>();
  if (record.step === 'drain') {
    const nodes = await nodesByInstance(ctx.kube);
    const oldNodes = new Set(record.old.flatMap((id) => nodes.get(id)?.metadata?.name ?? []));
    for (const p of await ctx.kube.listPods('')) if (oldNodes.has(p.spec?.nodeName ?? '') && ownerKey(p)) owners.add(ownerKey(p));
    await drainAndTerminate(ctx, name, record.old);
    record = { ...record, step: 'resume' };
    await save(record);
  }
  if (after(record, 'drain')) await putBack(ctx, name, record);
  return { record, owners };
}

async function roll(check: PreflightCheck, ctx: ExecutorContext): Promise<NodegroupUpgrade> {
  const { deps, settings } = ctx;
  const { item } = check;
  const label = `${ctx.cluster.name}/${item.nodegroup}`;
  const startedAt = deps.now();
  const timing = () => ({ startedAt: iso(startedAt), endedAt: iso(deps.now()), durationMs: deps.now() - startedAt });
  let done: Awaited<ReturnType<typeof replace>>;
  try {
    done = await replace(check, ctx, label);
  } catch (error) {
    // Auto Scaling's refusal to move the group to the template version names no action (see ./preflight.ts launchPermissionProblem).
    const why = typeof (error as { code?: unknown }).code === 'number' ? describeKubeError(error) : describeError(error);
    const hint = /not authorized to use launch template/i.test(why) ? ': grant ec2:RunInstances and iam:PassRole for its instance profile' : '';
    const reason =
      error instanceof NothingChanged
        ? error.message
        : `${why}${hint} (the group is as the tag eks-ami-drift/replacing records: re-run to finish, or restore to undo)`;
    deps.warn(`${label}: ${reason}`);
    return upgradeEntry(item, 'failed', reason, timing());
  }
  const reached = `${done.record.old.length} instance(s) replaced on ${done.record.image} (${describeChange(done.record)})`;
  if (settings.healthTimeoutMs === 0) return upgradeEntry(item, 'upgraded', `${reached} (health gate off: health-timeout 0)`, timing());
  const gate = await gateSelfManaged(ctx, item.nodegroup, done.record, done.owners);
  if (gate.passed) {
    deps.log(`${label}: health gate passed in ${formatDuration(gate.durationMs)}: ${gate.detail}`);
    return upgradeEntry(item, 'upgraded', `${reached}; health gate passed (${gate.detail})`, timing());
  }
  deps.warn(`${label}: unhealthy after the replacement: ${gate.detail}`);
  return upgradeEntry(
    item,
    'unhealthy',
    `${reached}, but not healthy within ${formatDuration(settings.healthTimeoutMs)} (health-timeout): ${gate.detail}`,
    timing(),
  );
}

/** A group whose record is still on it after the roll (failed, or killed part-way in an earlier run) is mid-replacement. */
async function leftMidway(check: PreflightCheck, ctx: ExecutorContext): Promise<string | null> {
  const record = decodeRecord((await describeGroup(ctx.clients.autoscaling, check.item.nodegroup))?.Tags);
  return record ? `self-managed group ${check.item.nodegroup} is mid-replacement (tag eks-ami-drift/replacing, step ${record.step})` : null;
}

export const selfManagedExecutor: Executor = { pausesAutoscaler: true, preflight, roll, leftMidway };
export { undoSelfManaged } from './self-managed-steps.js';
