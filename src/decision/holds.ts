import { unhealthyNow, type ClusterState } from '../model/fleet.js';
import { liftMark, markPlace } from './drift.js';
import type { PlanItem } from '../model/plan.js';
import type { StageSettings } from '../model/settings.js';
import { proveTrain } from './proof.js';
import { membersOf, stageOf, type RunningRelease } from './stages.js';
import { trainOf } from './train.js';
import { capacityBlockHold } from './rollout.js';

/*
 * What holds an upgrade the plan would make: pure, each returns the plan with the held items changed
 * (never the items it was given) and what it has to say.
 */

const key = (p: Pick<PlanItem, 'region' | 'cluster'>) => `${p.region}/${p.cluster}`;

/**
 * A node group that an earlier run's health gate found unhealthy on the release it still runs (its
 * SSM parameter, or its tag: either holds) holds every update of its cluster: a re-run must not spread
 * the release to the next node group. `force` overrides it.
 */
export function holdUnhealthy(plan: readonly PlanItem[], clusters: readonly ClusterState[], force: boolean): PlanItem[] {
  if (force) return [...plan];
  const held = new Map<string, string>();
  for (const cluster of clusters) {
    const marked = cluster.nodegroups.flatMap((ng) => {
      const mark = unhealthyNow(ng);
      return mark
        ? [
            {
              why: `${ng.name} was found unhealthy on ${mark.target} at ${mark.at} (${markPlace(cluster, ng.name, mark)})`,
              lift: liftMark(cluster, ng.name, mark),
            },
          ]
        : [];
    });
    if (marked.length === 0) continue;
    held.set(
      key({ region: cluster.region, cluster: cluster.name }),
      `held: ${marked.map((m) => m.why).join('; ')}. No node group of ${cluster.name} is upgraded until it is healthy again ` +
        `and the mark is removed (${marked.map((m) => m.lift).join('; ')}), or force: true`,
    );
  }
  return plan.map((item) => (item.action === 'update' && held.has(key(item)) ? { ...item, action: 'block', reason: held.get(key(item))! } : item));
}

/**
 * Where the health gate's durable marks could not be read (a policy without ssm:GetParametersByPath, or
 * SSM failing past its retries), a node group whose tag an apply removed would look healthy: every
 * update of that region is blocked, naming why, unless `force`. (The check only warns: it changes nothing.)
 */
export function holdUnreadMarks(plan: readonly PlanItem[], unread: ReadonlyMap<string, string>, force: boolean): PlanItem[] {
  if (force || unread.size === 0) return [...plan];
  return plan.map((item) =>
    item.action === 'update' && unread.has(item.region)
      ? {
          ...item,
          action: 'block',
          reason:
            `held: the health gate's marks in ${item.region} could not be read (${unread.get(item.region)}), so a hold its tag no longer shows ` +
            'cannot be ruled out. Allow ssm:GetParametersByPath on the /eks-ami-drift/ parameters (docs/iam-and-rbac.md) and re-run, or force: true',
        }
      : item,
  );
}

/**
 * Staged rollouts: an update in a later stage goes ahead only while its target's train is proven by
 * the earlier stages (every node group of its AMI type there has run it for stage-soak, and none has
 * failed an update to it). Otherwise every update of the cluster is blocked before anything changes,
 * naming what holds the train back; `force` goes ahead anyway, and says so. A target whose train
 * cannot be read (a CUSTOM image) and an AMI type with no earlier-stage node group are not held.
 */
export function holdUnproven(
  plan: readonly PlanItem[],
  fleet: readonly ClusterState[],
  stages: StageSettings,
  options: { force: boolean; now: number; runs: RunningRelease },
): { plan: PlanItem[]; notes: string[] } {
  const members = membersOf(fleet, stages, options.runs);
  const notes: string[] = [];
  const verdicts = new Map<string, (item: PlanItem) => PlanItem>();
  const updates = plan.filter((p) => p.action === 'update');
  for (const k of new Set(updates.map(key))) {
    const items = updates.filter((p) => key(p) === k);
    const stage = stageOf(fleet.find((c) => key({ region: c.region, cluster: c.name }) === k) ?? {}, stages);
    if (stage.index === 0) continue;
    const held: string[] = [];
    for (const item of items) {
      if (!item.amiType || !item.target || item.target.imageId) continue;
      const train = trainOf(item.target.releaseVersion, item.amiType);
      if (!train) continue;
      const proof = proveTrain(members, item.amiType, stage.index, train, stages.soak.ms, options.now);
      if (!proof.applies) {
        notes.push(`${item.cluster}/${item.nodegroup}: stage ${stage.name}: no ${item.amiType} node group in an earlier stage, the stage gate does not apply`);
        continue;
      }
      if (proof.proven) {
        notes.push(`${item.cluster}/${item.nodegroup}: stage ${stage.name}: ${train.id} is still proven by the earlier stages`);
        continue;
      }
      const why = proof.failures.length > 0 ? proof.failures.map((f) => `${f.cluster}/${f.nodegroup}: ${f.what}`).join('; ') : proof.holders.join('; ');
      const failed = proof.failures.length > 0 ? ', it failed in an earlier stage' : '';
      held.push(`${item.nodegroup} → ${item.target.releaseVersion}: ${train.id} is not proven for stage ${stage.name}${failed}: ${why}`);
    }
    if (held.length === 0) continue;
    if (options.force) {
      notes.push(`${k}: force: true: going ahead although ${held.join('; ')}`);
      verdicts.set(k, (item) => ({ ...item, reason: `${item.reason} (force: true goes ahead although ${held.join('; ')})` }));
      continue;
    }
    verdicts.set(k, (item) => ({
      ...item,
      action: 'block',
      reason:
        `stage gate: ${held.join('; ')}. Nothing of ${item.cluster} is upgraded until the earlier stages prove the train again ` +
        '(or a newer one is proposed), or force: true',
    }));
  }
  return { plan: plan.map((item) => (item.action === 'update' && verdicts.has(key(item)) ? verdicts.get(key(item))!(item) : item)), notes };
}

/**
 * A Capacity Block node group is updated only at desired size 0 (EKS user guide, Capacity Blocks for
 * managed node groups): while it has nodes its update is held (skipped with EKS's reason), and the
 * cluster's other node groups go on.
 */
export function holdCapacityBlocks(plan: readonly PlanItem[]): PlanItem[] {
  return plan.map((item) => {
    const hold = item.action === 'update' ? capacityBlockHold(item.updateSettings, item.nodes) : null;
    return hold ? { ...item, action: 'skip', reason: `${item.reason}: ${hold}` } : item;
  });
}
