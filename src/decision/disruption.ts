import type { V1LabelSelector, V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';

/** A PodDisruptionBudget that would stop EKS from draining a node group's nodes right now. */
export interface Blocker {
  budget: string;
  pods: string[];
  reason: string;
}

/**
 * Kubernetes label selector semantics (apimachinery metav1.LabelSelectorAsSelector): matchLabels and
 * matchExpressions, all must hold. A null selector matches nothing (labels.Nothing); an empty one (`{}`)
 * matches every pod of the namespace, as policy/v1 documents it (PodDisruptionBudgetSpec.selector) and as
 * the eviction API honours it since kubernetes PR #119732 (2023, back-ported to 1.27 and 1.28 by #121132
 * and #121131; before it, pkg/registry/core/pod/storage/eviction.go getPodDisruptionBudgets skipped
 * empty selectors, "it should match nothing, not everything"). An invalid requirement (In or NotIn
 * without values, Exists or DoesNotExist with some, an unknown operator) makes the whole selector
 * invalid, and getPodDisruptionBudgets treats an invalid selector as matching no pod.
 */
export function selects(selector: V1LabelSelector | undefined | null, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const exprs = selector.matchExpressions ?? [];
  const valid = exprs.every((e) =>
    e.operator === 'In' || e.operator === 'NotIn'
      ? (e.values ?? []).length > 0
      : e.operator === 'Exists' || e.operator === 'DoesNotExist'
        ? !e.values?.length
        : false,
  );
  if (!valid) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return (
    byLabels &&
    exprs.every((e) => {
      const has = Object.hasOwn(labels, e.key);
      const value = labels[e.key];
      switch (e.operator) {
        case 'In':
          return has && (e.values ?? []).includes(value as string);
        case 'NotIn':
          return !has || !(e.values ?? []).includes(value as string);
        case 'Exists':
          return has;
        default:
          return !has;
      }
    })
  );
}

/** Ready as the eviction API reads it (kubernetes pkg/api/pod IsPodReady: the Ready condition is True). */
function isReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Why the eviction API refuses a pod now: one budget that allows no disruption, or two budgets or more. */
export type EvictionRefusal = { why: 'budget'; budget: V1PodDisruptionBudget } | { why: 'overlap'; budgets: V1PodDisruptionBudget[] };

/**
 * The eviction API's answer for one pod, in the order kubernetes pkg/registry/core/pod/storage/eviction.go
 * `EvictionREST.Create` decides it; `undefined` when it evicts the pod:
 * 1. `canIgnorePDB`: a pod Succeeded, Failed or Pending, or already being deleted, is deleted without
 *    looking at any budget (so even under two budgets);
 * 2. `getPodDisruptionBudgets`: the budgets of its namespace whose selector matches it (see `selects`);
 *    more than one is refused outright ("This pod has more than one PodDisruptionBudget, which the
 *    eviction subresource does not support.", HTTP 500), whatever they allow and whether it is ready;
 * 3. a pod that is not ready is evicted when its budget says `unhealthyPodEvictionPolicy: AlwaysAllow`,
 *    or (`IfHealthyBudget`, the default) when `status.currentHealthy >= status.desiredHealthy` and
 *    `desiredHealthy > 0`: the application is not disrupted and the pod does not count as healthy;
 * 4. `checkAndDecrement`: otherwise the budget must allow a disruption (`disruptionsAllowed` 0 answers
 *    429 "Cannot evict pod as it would violate the pod's disruption budget."). A budget whose status the
 *    disruption controller has not written yet is taken to allow it (the API answers 429 only until it does).
 */
export function evictionRefusal(pod: V1Pod, budgets: readonly V1PodDisruptionBudget[]): EvictionRefusal | undefined {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || pod.metadata?.deletionTimestamp) return undefined;
  const matching = budgets.filter((b) => b.metadata?.namespace === pod.metadata?.namespace && selects(b.spec?.selector, pod.metadata?.labels ?? {}));
  if (matching.length > 1) return { why: 'overlap', budgets: matching };
  const [budget] = matching;
  if (!budget) return undefined;
  if (!isReady(pod)) {
    if (budget.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return undefined;
    const current = budget.status?.currentHealthy ?? 0;
    const desired = budget.status?.desiredHealthy ?? 0;
    if (current >= desired && desired > 0) return undefined;
  }
  return (budget.status?.disruptionsAllowed ?? 1) > 0 ? undefined : { why: 'budget', budget };
}

const key = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace}/${o.metadata?.name}`;

/**
 * What would stop EKS from draining these nodes now, so that it fails the update with
 * PodEvictionFailure after 15 minutes: each pod running there judged as the eviction API judges it
 * (`evictionRefusal`), grouped by the budget that refuses it, and pods under more than one budget,
 * grouped by those budgets (the EKS user guide's managed node update behavior page lists both among
 * PodEvictionFailure causes). The pre-flight, the failure analysis after PodEvictionFailure and the pull
 * request's "Will block the upgrade now" all read this (through ../fleet/placement.ts readBlockers).
 */
export function blockingBudgets(pods: readonly V1Pod[], budgets: readonly V1PodDisruptionBudget[], nodes: ReadonlySet<string>): Blocker[] {
  const onNodes = pods.filter((p) => p.spec?.nodeName && nodes.has(p.spec.nodeName));
  const byBudget = new Map<string, string[]>();
  const overlaps = new Map<string, string[]>();
  for (const p of onNodes) {
    const refusal = evictionRefusal(p, budgets);
    if (!refusal) continue;
    const [map, k] = refusal.why === 'budget' ? [byBudget, key(refusal.budget)] : [overlaps, refusal.budgets.map(key).join(', ')];
    map.set(k, [...(map.get(k) ?? []), key(p)]);
  }
  const blockers: Blocker[] = [];
  for (const b of budgets) {
    const refused = byBudget.get(key(b));
    if (!refused) continue;
    const rule =
      b.spec?.minAvailable !== undefined
        ? `minAvailable ${b.spec.minAvailable}`
        : b.spec?.maxUnavailable !== undefined
          ? `maxUnavailable ${b.spec.maxUnavailable}`
          : 'its spec';
    blockers.push({
      budget: key(b),
      pods: refused,
      reason: `PodDisruptionBudget ${key(b)} allows no disruption now (${rule}) and covers ${refused.length} pod(s) on this node group`,
    });
  }
  for (const [names, refused] of overlaps) {
    const some = `${refused.slice(0, 3).join(', ')}${refused.length > 3 ? ', …' : ''}`;
    blockers.push({
      budget: names,
      pods: refused,
      reason:
        `${refused.length} pod(s) on this node group (${some}) are covered by more than one PodDisruptionBudget (${names}): ` +
        'the eviction API refuses to evict them whatever the budgets allow ' +
        `("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."); make the budgets' selectors disjoint`,
    });
  }
  return blockers;
}
