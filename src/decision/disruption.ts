import type { V1LabelSelector, V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';

/** A PodDisruptionBudget that would stop EKS from draining a node group's nodes right now. */
export interface Blocker {
  budget: string;
  pods: string[];
  reason: string;
}

/** Kubernetes label selector semantics: matchLabels and matchExpressions, all must hold. */
export function selects(selector: V1LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const exprs = selector.matchExpressions ?? [];
  // An empty selector selects every pod of the namespace (policy/v1).
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
        case 'DoesNotExist':
          return !has;
        default:
          return false;
      }
    })
  );
}

/**
 * What would stop EKS from draining these nodes now, so that it fails the update with
 * PodEvictionFailure after 15 minutes: budgets that allow no disruption and cover pods running there,
 * and pods covered by more than one budget, which the eviction API refuses whatever the budgets allow
 * ("This pod has more than one PodDisruptionBudget, which the eviction subresource does not
 * support", HTTP 500: kubernetes pkg/registry/core/pod/storage/eviction.go; the EKS user guide's
 * managed node update behavior page lists it among PodEvictionFailure causes).
 */
export function blockingBudgets(pods: readonly V1Pod[], budgets: readonly V1PodDisruptionBudget[], nodes: ReadonlySet<string>): Blocker[] {
  const onNodes = pods.filter((p) => p.spec?.nodeName && nodes.has(p.spec.nodeName) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const blockers: Blocker[] = [];
  for (const b of budgets) {
    if ((b.status?.disruptionsAllowed ?? 1) > 0) continue;
    const covered = onNodes.filter((p) => p.metadata?.namespace === b.metadata?.namespace && selects(b.spec?.selector, p.metadata?.labels ?? {}));
    if (covered.length === 0) continue;
    const rule =
      b.spec?.minAvailable !== undefined
        ? `minAvailable ${b.spec.minAvailable}`
        : b.spec?.maxUnavailable !== undefined
          ? `maxUnavailable ${b.spec.maxUnavailable}`
          : 'its spec';
    blockers.push({
      budget: `${b.metadata?.namespace}/${b.metadata?.name}`,
      pods: covered.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`),
      reason:
        `PodDisruptionBudget ${b.metadata?.namespace}/${b.metadata?.name} allows no disruption now (${rule}) ` +
        `and covers ${covered.length} pod(s) on this node group`,
    });
  }
  // Pods under two or more budgets, grouped by the set of budgets.
  const overlaps = new Map<string, string[]>();
  for (const p of onNodes) {
    const names = budgets
      .filter((b) => b.metadata?.namespace === p.metadata?.namespace && selects(b.spec?.selector, p.metadata?.labels ?? {}))
      .map((b) => `${b.metadata?.namespace}/${b.metadata?.name}`);
    if (names.length > 1) overlaps.set(names.join(', '), [...(overlaps.get(names.join(', ')) ?? []), `${p.metadata?.namespace}/${p.metadata?.name}`]);
  }
  for (const [names, pods] of overlaps) {
    blockers.push({
      budget: names,
      pods,
      reason:
        `${pods.length} pod(s) on this node group (${pods.slice(0, 3).join(', ')}${pods.length > 3 ? ', …' : ''}) ` +
        `are covered by more than one PodDisruptionBudget (${names}): ` +
        "the eviction API refuses to evict them whatever the budgets allow; make the budgets' selectors disjoint",
    });
  }
  return blockers;
}
