import { describe, expect, it } from '@jest/globals';
import type { V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';
import { blockingBudgets, selects } from '../../src/decision/disruption.js';

const pod = (name: string, node: string, labels: Record<string, string>, namespace = 'shop'): V1Pod => ({
  metadata: { name, namespace, labels },
  spec: { nodeName: node, containers: [] },
  status: { phase: 'Running' },
});
const pdb = (name: string, allowed: number, selector: V1PodDisruptionBudget['spec'] extends infer S ? (S extends { selector?: infer L } ? L : never) : never, namespace = 'shop'): V1PodDisruptionBudget => ({
  metadata: { name, namespace },
  spec: { selector, minAvailable: 2 },
  status: { disruptionsAllowed: allowed, currentHealthy: 2, desiredHealthy: 2, expectedPods: 2 },
});

describe('PodDisruptionBudgets that would block a drain', () => {
  it('names a budget at zero that covers pods on the node group’s nodes', () => {
    const pods = [pod('api-0', 'n1', { app: 'api' }), pod('api-1', 'n9', { app: 'api' })];
    const blockers = blockingBudgets(pods, [pdb('api', 0, { matchLabels: { app: 'api' } })], new Set(['n1', 'n2']));
    expect(blockers).toEqual([{ budget: 'shop/api', pods: ['shop/api-0'], reason: 'PodDisruptionBudget shop/api allows no disruption now (minAvailable 2) and covers 1 pod(s) on this node group' }]);
  });

  it('ignores budgets that allow a disruption, cover other nodes, or another namespace', () => {
    const pods = [pod('api-0', 'n1', { app: 'api' })];
    expect(blockingBudgets(pods, [pdb('api', 1, { matchLabels: { app: 'api' } })], new Set(['n1']))).toEqual([]);
    expect(blockingBudgets(pods, [pdb('api', 0, { matchLabels: { app: 'api' } })], new Set(['n2']))).toEqual([]);
    expect(blockingBudgets(pods, [pdb('api', 0, { matchLabels: { app: 'api' } }, 'other')], new Set(['n1']))).toEqual([]);
  });

  it('matches selectors as Kubernetes does', () => {
    const labels = { app: 'api', tier: 'web' };
    expect(selects({ matchLabels: { app: 'api' } }, labels)).toBe(true);
    expect(selects({ matchLabels: { app: 'db' } }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'edge'] }] }, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'canary', operator: 'Exists' }] }, labels)).toBe(false);
    expect(selects({}, labels)).toBe(true);
    expect(selects(undefined, labels)).toBe(false);
  });

  it('names pods covered by two budgets, which the eviction API refuses whatever the budgets allow', () => {
    const pods = [pod('api-0', 'n1', { app: 'api', team: 'shop' }), pod('api-1', 'n2', { app: 'api', team: 'shop' }), pod('web-0', 'n1', { app: 'web' })];
    const budgets = [pdb('api', 3, { matchLabels: { app: 'api' } }), pdb('shop', 5, { matchLabels: { team: 'shop' } })];
    expect(blockingBudgets(pods, budgets, new Set(['n1', 'n2']))).toEqual([
      {
        budget: 'shop/api, shop/shop',
        pods: ['shop/api-0', 'shop/api-1'],
        reason: '2 pod(s) on this node group (shop/api-0, shop/api-1) are covered by more than one PodDisruptionBudget (shop/api, shop/shop): the eviction API refuses to evict them whatever the budgets allow; make the budgets\' selectors disjoint',
      },
    ]);
  });
});
