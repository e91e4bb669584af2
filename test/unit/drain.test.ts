import { describe, expect, it } from '@jest/globals';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { cordonPatch, evictionBackoffMs, expectedRollMs, isBeingReplaced, podDisposition } from '../../src/decision/drain.js';

const node = (spec: V1Node['spec'] = {}): V1Node => ({ metadata: { name: 'ip-10-0-0-1.ec2.internal' }, spec });
const pod = (extra: Partial<V1Pod['metadata']> = {}, phase = 'Running'): V1Pod => ({ metadata: { name: 'p', namespace: 'shop', ...extra }, status: { phase } });

describe('cordonPatch', () => {
  it('cordons and adds the eks-ami-drift/replacing=true:NoSchedule taint, keeping the taints already there', () => {
    const taint = { key: 'dedicated', value: 'web', effect: 'NoSchedule' };
    expect(cordonPatch(node({ taints: [taint] }))).toEqual([
      { op: 'add', path: '/spec/unschedulable', value: true },
      { op: 'add', path: '/spec/taints', value: [taint, { key: 'eks-ami-drift/replacing', value: 'true', effect: 'NoSchedule' }] },
    ]);
  });

  it('asks nothing of a node already cordoned and tainted, and only the taint of one a person cordoned', () => {
    const tainted = node({ unschedulable: true, taints: [{ key: 'eks-ami-drift/replacing', value: 'true', effect: 'NoSchedule' }] });
    expect(cordonPatch(tainted)).toEqual([]);
    expect(isBeingReplaced(tainted)).toBe(true);
    expect(cordonPatch(node({ unschedulable: true }))).toEqual([
      { op: 'add', path: '/spec/taints', value: [{ key: 'eks-ami-drift/replacing', value: 'true', effect: 'NoSchedule' }] },
    ]);
    expect(isBeingReplaced(node({ unschedulable: true }))).toBe(false);
  });
});

describe('podDisposition', () => {
  it('leaves DaemonSet, mirror and finished pods, waits on terminating ones, evicts the rest', () => {
    expect(podDisposition(pod({ ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'u', controller: true }] }))).toBe(
      'daemonset',
    );
    expect(podDisposition(pod({ annotations: { 'kubernetes.io/config.mirror': 'hash' } }))).toBe('mirror');
    expect(podDisposition(pod({}, 'Succeeded'))).toBe('terminal');
    expect(podDisposition(pod({}, 'Failed'))).toBe('terminal');
    expect(podDisposition(pod({ deletionTimestamp: new Date('2026-12-06T07:00:00Z') }))).toBe('terminating');
    expect(podDisposition(pod({ ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'u', controller: true }] }))).toBe('evict');
    expect(podDisposition(pod({}, 'Pending'))).toBe('evict');
  });
});

describe('evictionBackoffMs', () => {
  it('waits 5 s after the first 429, doubling to at most a minute', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map(evictionBackoffMs)).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
  });
});

describe('expectedRollMs (docs/self-managed.md, "Expected duration")', () => {
  it('is the surge once, a poll per old node, a minute per pod evicted and the gate, each rounded up to the poll interval', () => {
    // 4 instances, 8 pods, 10 s polls: 180 s + 4 × 10 s + 8 × 60 s + 60 s
    expect(expectedRollMs(4, 8, 10_000)).toBe(760_000);
    // 30 s polls: 180 s + 4 × 30 s + 8 × 60 s + 60 s
    expect(expectedRollMs(4, 8, 30_000)).toBe(840_000);
    // a poll interval that does not divide the assumptions rounds each wait up: 200 + 4 × 100 + 8 × 100 + 100
    expect(expectedRollMs(4, 8, 100_000)).toBe(1_500_000);
  });
});
