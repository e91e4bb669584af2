import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import type { Workloads } from '../../src/model/kube-api.js';
import { countOf, describeHealth, podReason, workloadOf } from '../../src/effects/health-gate.js';

const owner = (kind: string, name: string) => ({ apiVersion: 'apps/v1', kind, name, uid: `${kind}-${name}`, controller: true });
const pod = (
  name: string,
  ownerRef: ReturnType<typeof owner> | null,
  status: V1Pod['status'] = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
): V1Pod => ({
  metadata: { name, namespace: 'shop', ...(ownerRef ? { ownerReferences: [ownerRef] } : {}) },
  spec: { containers: [] },
  status,
});
const workloads: Workloads = {
  deployments: [{ metadata: { name: 'api', namespace: 'shop' }, spec: { replicas: 3, selector: {}, template: {} }, status: { readyReplicas: 2 } }],
  statefulSets: [
    { metadata: { name: 'db', namespace: 'shop' }, spec: { replicas: 2, selector: {}, template: {}, serviceName: 'db' }, status: { replicas: 2 } },
  ],
  daemonSets: [
    {
      metadata: { name: 'agent', namespace: 'shop' },
      spec: { selector: {}, template: {} },
      status: { desiredNumberScheduled: 4, numberReady: 4, currentNumberScheduled: 4, numberMisscheduled: 0 },
    },
  ],
  replicaSets: [
    { metadata: { name: 'api-5d9f', namespace: 'shop', ownerReferences: [owner('Deployment', 'api')] }, spec: { selector: {} } },
    { metadata: { name: 'bare', namespace: 'shop' }, spec: { selector: {} } },
  ],
};

describe('the workload behind a pod', () => {
  it('follows a ReplicaSet to its Deployment, and takes StatefulSets and DaemonSets directly', () => {
    expect(workloadOf(pod('api-5d9f-x', owner('ReplicaSet', 'api-5d9f')), workloads)).toEqual({ kind: 'Deployment', namespace: 'shop', name: 'api' });
    expect(workloadOf(pod('db-0', owner('StatefulSet', 'db')), workloads)).toEqual({ kind: 'StatefulSet', namespace: 'shop', name: 'db' });
    expect(workloadOf(pod('agent-a', owner('DaemonSet', 'agent')), workloads)).toEqual({ kind: 'DaemonSet', namespace: 'shop', name: 'agent' });
  });

  it('watches no pod of a Job, of a bare ReplicaSet, or without an owner', () => {
    expect(workloadOf(pod('migrate-x', owner('Job', 'migrate')), workloads)).toBeUndefined();
    expect(workloadOf(pod('bare-x', owner('ReplicaSet', 'bare')), workloads)).toBeUndefined();
    expect(workloadOf(pod('lonely', null), workloads)).toBeUndefined();
  });

  it('counts desired and ready as each controller reports them (a missing ready count is zero)', () => {
    expect(countOf({ kind: 'Deployment', namespace: 'shop', name: 'api' }, workloads)).toMatchObject({ desired: 3, ready: 2 });
    expect(countOf({ kind: 'StatefulSet', namespace: 'shop', name: 'db' }, workloads)).toMatchObject({ desired: 2, ready: 0 });
    expect(countOf({ kind: 'DaemonSet', namespace: 'shop', name: 'agent' }, workloads)).toMatchObject({ desired: 4, ready: 4 });
    expect(countOf({ kind: 'Deployment', namespace: 'shop', name: 'gone' }, workloads)).toBeUndefined();
  });
});

describe('why a pod is not well', () => {
  it('prefers the waiting reason, then the last termination, then the phase, then readiness', () => {
    const container = (c: object) => ({
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses: [{ name: 'app', image: 'a', imageID: '', ready: false, restartCount: 3, ...c }],
    });
    expect(
      podReason(
        pod('a', null, container({ state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } } })),
      ),
    ).toBe('CrashLoopBackOff');
    expect(podReason(pod('b', null, container({ state: { running: {} }, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } } })))).toBe(
      'OOMKilled',
    );
    expect(podReason(pod('c', null, { phase: 'Pending' }))).toBe('Pending');
    expect(podReason(pod('d', null, container({ state: { running: {} } })))).toBe('not ready');
    expect(podReason(pod('e', null))).toBeNull();
    // a container still starting is not a reason by itself
    expect(podReason(pod('f', null, container({ state: { waiting: { reason: 'ContainerCreating' } } })))).toBe('not ready');
  });

  it('describes what did not come back, naming a degraded workload’s count before the update', () => {
    const text = describeHealth({
      passed: false,
      durationMs: 600_000,
      watched: 2,
      nodes: ['node n1 is not Ready'],
      workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'api', desired: 3, ready: 1, before: { desired: 3, ready: 2 }, need: 2 }],
      pods: [
        {
          namespace: 'shop',
          name: 'api-x',
          workload: 'Deployment shop/api',
          ready: false,
          reason: 'CrashLoopBackOff',
          restarts: 5,
          restartsDuringGate: 4,
          events: [],
        },
      ],
    });
    expect(text).toBe(
      'Deployment shop/api 1/3 ready (2/3 before the update); pod shop/api-x: CrashLoopBackOff, 4 restart(s) during the gate; node n1 is not Ready',
    );
  });
});
