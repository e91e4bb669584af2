import { describe, expect, it } from '@jest/globals';
import type { V1LabelSelector, V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';
import { blockingBudgets, evictionRefusal, selects } from '../../src/decision/disruption.js';

/** A pod on `node`: Running and Ready unless told otherwise. */
const pod = (name: string, node: string, labels: Record<string, string>, namespace = 'shop', status: V1Pod['status'] = ready): V1Pod => ({
  metadata: { name, namespace, labels },
  spec: { nodeName: node, containers: [] },
  status,
});
const ready: V1Pod['status'] = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
const unready: V1Pod['status'] = { phase: 'Running', conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }] };
const pending: V1Pod['status'] = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] };
/** minAvailable 2 of 2 expected pods: `healthy` of them healthy now (2 unless told), `allowed` disruptions. */
const pdb = (
  name: string,
  allowed: number,
  selector: V1LabelSelector | undefined,
  namespace = 'shop',
  more: { healthy?: number; unhealthyPodEvictionPolicy?: string } = {},
): V1PodDisruptionBudget => ({
  metadata: { name, namespace },
  spec: {
    ...(selector ? { selector } : {}),
    minAvailable: 2,
    ...(more.unhealthyPodEvictionPolicy ? { unhealthyPodEvictionPolicy: more.unhealthyPodEvictionPolicy } : {}),
  },
  status: { disruptionsAllowed: allowed, currentHealthy: more.healthy ?? 2, desiredHealthy: 2, expectedPods: 2 },
});
const api = { matchLabels: { app: 'api' } };

describe('PodDisruptionBudgets that would block a drain', () => {
  it('names a budget at zero that covers pods on the node group’s nodes', () => {
    const pods = [pod('api-0', 'n1', { app: 'api' }), pod('api-1', 'n9', { app: 'api' })];
    const blockers = blockingBudgets(pods, [pdb('api', 0, api)], new Set(['n1', 'n2']));
    expect(blockers).toEqual([
      {
        budget: 'shop/api',
        pods: ['shop/api-0'],
        reason: 'PodDisruptionBudget shop/api allows no disruption now (minAvailable 2) and covers 1 pod(s) on this node group',
      },
    ]);
  });

  it('ignores budgets that allow a disruption, cover other nodes, or another namespace', () => {
    const pods = [pod('api-0', 'n1', { app: 'api' })];
    expect(blockingBudgets(pods, [pdb('api', 1, api)], new Set(['n1']))).toEqual([]);
    expect(blockingBudgets(pods, [pdb('api', 0, api)], new Set(['n2']))).toEqual([]);
    expect(blockingBudgets(pods, [pdb('api', 0, api, 'other')], new Set(['n1']))).toEqual([]);
  });

  it('matches selectors as Kubernetes does', () => {
    const labels = { app: 'api', tier: 'web' };
    expect(selects({ matchLabels: { app: 'api' } }, labels)).toBe(true);
    expect(selects({ matchLabels: { app: 'db' } }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'edge'] }] }, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'canary', operator: 'Exists' }] }, labels)).toBe(false);
    // policy/v1: an empty selector selects every pod of the namespace, a null one none
    expect(selects({}, labels)).toBe(true);
    expect(selects(undefined, labels)).toBe(false);
    expect(selects(null, labels)).toBe(false);
    // an invalid selector matches no pod (eviction.go getPodDisruptionBudgets)
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'In', values: [] }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'Exists', values: ['web'] }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'Gt', values: ['1'] }] }, labels)).toBe(false);
    // a policy/v1beta1 budget's empty selector, as the API serves it in policy/v1: matches nothing
    expect(selects({ matchExpressions: [{ key: 'pdb.kubernetes.io/deprecated-v1beta1-empty-selector-match', operator: 'Exists' }] }, labels)).toBe(false);
  });

  it('a budget without a selector blocks nothing; an empty selector ({}) covers the whole namespace', () => {
    const pods = [pod('api-0', 'n1', { app: 'api' }), pod('web-0', 'n1', { app: 'web' })];
    expect(blockingBudgets(pods, [pdb('none', 0, undefined)], new Set(['n1']))).toEqual([]);
    expect(blockingBudgets(pods, [pdb('all', 0, {})], new Set(['n1']))).toEqual([
      {
        budget: 'shop/all',
        pods: ['shop/api-0', 'shop/web-0'],
        reason: 'PodDisruptionBudget shop/all allows no disruption now (minAvailable 2) and covers 2 pod(s) on this node group',
      },
    ]);
  });

  it('a Pending pod is evicted whatever its budgets say, even under two of them (canIgnorePDB)', () => {
    const pods = [pod('api-0', 'n1', { app: 'api', team: 'shop' }, 'shop', pending)];
    expect(blockingBudgets(pods, [pdb('api', 0, api)], new Set(['n1']))).toEqual([]);
    expect(blockingBudgets(pods, [pdb('api', 0, api), pdb('team', 0, { matchLabels: { team: 'shop' } })], new Set(['n1']))).toEqual([]);
    // and so is a pod already being deleted
    const leaving: V1Pod = {
      ...pod('api-1', 'n1', { app: 'api' }),
      metadata: { name: 'api-1', namespace: 'shop', labels: { app: 'api' }, deletionTimestamp: new Date(0) },
    };
    expect(blockingBudgets([leaving], [pdb('api', 0, api)], new Set(['n1']))).toEqual([]);
  });

  it('an unready pod is evicted while its budget has currentHealthy >= desiredHealthy, and blocks when it has fewer', () => {
    const pods = [pod('api-0', 'n1', { app: 'api' }, 'shop', unready)];
    // two healthy elsewhere, two desired: evicting the unready one disrupts nothing
    expect(blockingBudgets(pods, [pdb('api', 0, api, 'shop', { healthy: 2 })], new Set(['n1']))).toEqual([]);
    expect(blockingBudgets(pods, [pdb('api', 0, api, 'shop', { healthy: 3 })], new Set(['n1']))).toEqual([]);
    expect(blockingBudgets(pods, [pdb('api', 0, api, 'shop', { healthy: 1 })], new Set(['n1']))).toEqual([
      {
        budget: 'shop/api',
        pods: ['shop/api-0'],
        reason: 'PodDisruptionBudget shop/api allows no disruption now (minAvailable 2) and covers 1 pod(s) on this node group',
      },
    ]);
    // a ready pod under the same budget at zero is refused
    expect(blockingBudgets([pod('api-1', 'n1', { app: 'api' })], [pdb('api', 0, api, 'shop', { healthy: 2 })], new Set(['n1']))).toHaveLength(1);
  });

  it('an unready pod is always evicted under unhealthyPodEvictionPolicy: AlwaysAllow; a ready one is not', () => {
    const budget = pdb('api', 0, api, 'shop', { healthy: 0, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    expect(blockingBudgets([pod('api-0', 'n1', { app: 'api' }, 'shop', unready)], [budget], new Set(['n1']))).toEqual([]);
    expect(
      blockingBudgets(
        [pod('api-0', 'n1', { app: 'api' }, 'shop', unready)],
        [{ ...budget, spec: { ...budget.spec, unhealthyPodEvictionPolicy: 'IfHealthyBudget' } }],
        new Set(['n1']),
      ),
    ).toHaveLength(1);
    expect(blockingBudgets([pod('api-1', 'n1', { app: 'api' })], [budget], new Set(['n1']))).toEqual([
      {
        budget: 'shop/api',
        pods: ['shop/api-1'],
        reason: 'PodDisruptionBudget shop/api allows no disruption now (minAvailable 2) and covers 1 pod(s) on this node group',
      },
    ]);
  });

  it('names pods covered by two budgets, which the eviction API refuses whatever the budgets allow, ready or not', () => {
    const pods = [
      pod('api-0', 'n1', { app: 'api', team: 'shop' }),
      pod('api-1', 'n2', { app: 'api', team: 'shop' }, 'shop', unready),
      pod('web-0', 'n1', { app: 'web' }),
    ];
    const budgets = [pdb('api', 3, api, 'shop', { unhealthyPodEvictionPolicy: 'AlwaysAllow' }), pdb('shop', 5, { matchLabels: { team: 'shop' } })];
    expect(blockingBudgets(pods, budgets, new Set(['n1', 'n2']))).toEqual([
      {
        budget: 'shop/api, shop/shop',
        pods: ['shop/api-0', 'shop/api-1'],
        reason:
          '2 pod(s) on this node group (shop/api-0, shop/api-1) are covered by more than one PodDisruptionBudget (shop/api, shop/shop): ' +
          'the eviction API refuses to evict them whatever the budgets allow ' +
          '("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."); make the budgets\' selectors disjoint',
      },
    ]);
    expect(evictionRefusal(pods[1]!, budgets)).toEqual({ why: 'overlap', budgets });
    expect(evictionRefusal(pods[2]!, budgets)).toBeUndefined();
  });
});
