import { describe, expect, it } from '@jest/globals';
import assert from 'node:assert/strict';
import type { V1Deployment } from '@kubernetes/client-node';
import type { Clients } from '../../src/clients.js';
import { restoreRecorded } from '../../src/commands/restore.js';
import { settingsWith } from './settings.js';
import {
  findAutoscaler,
  isStale,
  LEASE_ANNOTATION,
  pauseAutoscaler,
  PAUSED_ANNOTATION,
  PAUSED_AT_ANNOTATION,
  readPause,
  renewLease,
  restoreAutoscaler,
} from '../../src/effects/autoscaler.js';

const NOW = Date.parse('2026-11-21T00:00:00Z');
import type { KubeApi } from '../../src/model/kube-api.js';

/** A deployment store that applies JSON Patches like the API server, resourceVersion test included. */
function fakeKube(deployments: V1Deployment[]): KubeApi & { deployments: V1Deployment[]; patches: number } {
  const api = {
    deployments,
    patches: 0,
    listNodes: async () => [],
    listPods: async () => [],
    listPodDisruptionBudgets: async () => [],
    listWorkloads: async () => ({ deployments: [], statefulSets: [], daemonSets: [], replicaSets: [] }),
    listEvents: async () => [],
    async listDeployments(namespace: string, selector?: string) {
      const [k, v] = (selector ?? '').split('=');
      return deployments.filter((d) => d.metadata?.namespace === namespace && (!selector || d.metadata?.labels?.[k!] === v));
    },
    async readDeployment(namespace: string, name: string) {
      const d = deployments.find((x) => x.metadata?.namespace === namespace && x.metadata?.name === name);
      if (!d) throw Object.assign(new Error('not found'), { code: 404 });
      return structuredClone(d);
    },
    async patchDeployment(namespace: string, name: string, ops: object[]) {
      const d = deployments.find((x) => x.metadata?.namespace === namespace && x.metadata?.name === name)!;
      for (const op of ops as { op: string; path: string; value: unknown }[]) {
        if (op.op === 'test' && op.path === '/metadata/resourceVersion' && op.value !== d.metadata?.resourceVersion)
          throw Object.assign(new Error('conflict'), { code: 422 });
        const annotation = /^\/metadata\/annotations\/(.+)$/.exec(op.path)?.[1]?.replace(/~1/g, '/').replace(/~0/g, '~');
        if (op.op === 'test' && annotation && d.metadata?.annotations?.[annotation] !== op.value) throw Object.assign(new Error('test failed'), { code: 422 });
        if (op.op === 'add' && annotation) d.metadata!.annotations = { ...d.metadata!.annotations, [annotation]: op.value as string };
        if (op.path === '/spec/replicas') d.spec!.replicas = op.value as number;
        if (op.path === '/metadata/annotations') d.metadata!.annotations = op.value as Record<string, string>;
      }
      d.metadata!.resourceVersion = String(Number(d.metadata!.resourceVersion) + 1);
      api.patches++;
      return d;
    },
  };
  return api;
}

const ca = (replicas: number, extra: Partial<V1Deployment['metadata']> = {}): V1Deployment => ({
  metadata: { name: 'cluster-autoscaler', namespace: 'kube-system', labels: { app: 'cluster-autoscaler' }, resourceVersion: '1', ...extra },
  spec: { replicas, selector: {}, template: {} },
});
const ref = { namespace: 'kube-system', name: 'cluster-autoscaler' };

describe('cluster-autoscaler pause and restore', () => {
  it('records the count on the deployment, scales to zero, and restores exactly that count', async () => {
    const kube = fakeKube([ca(3)]);
    expect(await pauseAutoscaler(kube, ref, NOW)).toBe(3);
    expect(kube.deployments[0]?.spec?.replicas).toBe(0);
    expect(kube.deployments[0]?.metadata?.annotations?.[PAUSED_ANNOTATION]).toBe('3');
    expect(await restoreAutoscaler(kube, ref)).toEqual({ kind: 'restored', replicas: 3 });
    expect(kube.deployments[0]?.spec?.replicas).toBe(3);
    expect(kube.deployments[0]?.metadata?.annotations?.[PAUSED_ANNOTATION]).toBeUndefined();
    // twice is harmless
    expect(await restoreAutoscaler(kube, ref, 3)).toEqual({ kind: 'already-restored' });
    expect(kube.deployments[0]?.spec?.replicas).toBe(3);
  });

  it('keeps the count an earlier, interrupted run recorded, never 0', async () => {
    const kube = fakeKube([ca(0, { annotations: { [PAUSED_ANNOTATION]: '2', [PAUSED_AT_ANNOTATION]: '2026-11-20T23:00:00.000Z' } })]);
    expect(await pauseAutoscaler(kube, ref, NOW)).toBe(2);
    // it takes the pause over: still at zero, same count and start, its own lease
    expect(kube.deployments[0]?.spec?.replicas).toBe(0);
    expect(kube.deployments[0]?.metadata?.annotations).toEqual({
      [PAUSED_ANNOTATION]: '2',
      [PAUSED_AT_ANNOTATION]: '2026-11-20T23:00:00.000Z',
      [LEASE_ANNOTATION]: new Date(NOW).toISOString(),
    });
    expect(await restoreAutoscaler(kube, ref)).toEqual({ kind: 'restored', replicas: 2 });
  });

  it('leaves a deployment someone scaled up meanwhile at its count, and drops the record', async () => {
    const kube = fakeKube([ca(2)]);
    await pauseAutoscaler(kube, ref, NOW);
    kube.deployments[0]!.spec!.replicas = 5;
    expect(await restoreAutoscaler(kube, ref)).toEqual({ kind: 'left-alone', replicas: 5, recorded: 2 });
    expect(kube.deployments[0]?.spec?.replicas).toBe(5);
    expect(kube.deployments[0]?.metadata?.annotations?.[PAUSED_ANNOTATION]).toBeUndefined();
  });

  it('reads again when someone wrote between its read and its patch', async () => {
    const kube = fakeKube([ca(2)]);
    const read = kube.readDeployment.bind(kube);
    let first = true;
    kube.readDeployment = async (ns, name) => {
      const d = await read(ns, name);
      if (first) {
        first = false;
        kube.deployments[0]!.metadata!.resourceVersion = '7'; // a write by someone else
      }
      return d;
    };
    expect(await pauseAutoscaler(kube, ref, NOW)).toBe(2);
    expect(kube.deployments[0]?.spec?.replicas).toBe(0);
  });

  it('finds it by AWS’s labels or the Helm chart’s, and refuses to guess between two', async () => {
    expect(await findAutoscaler(fakeKube([ca(1)]))).toEqual(ref);
    const helm = ca(1, { name: 'cluster-autoscaler-aws-cluster-autoscaler', labels: { 'app.kubernetes.io/name': 'aws-cluster-autoscaler' } });
    expect(await findAutoscaler(fakeKube([helm]))).toEqual({ namespace: 'kube-system', name: 'cluster-autoscaler-aws-cluster-autoscaler' });
    expect(await findAutoscaler(fakeKube([]))).toBeUndefined();
    await expect(findAutoscaler(fakeKube([ca(1), helm]))).rejects.toThrow('more than one cluster-autoscaler');
  });

  it('renews the lease only while the pause stands, and tells a live pause from one whose job is gone', async () => {
    const kube = fakeKube([ca(2)]);
    await pauseAutoscaler(kube, ref, NOW);
    await renewLease(kube, ref, 2, NOW + 30_000);
    const pause = await readPause(kube, ref);
    expect(pause).toEqual({ ...ref, replicas: 2, current: 0, pausedAt: new Date(NOW).toISOString(), leaseRenewedAt: new Date(NOW + 30_000).toISOString() });
    // stale only when the lease is older than ten minutes and no update runs
    expect(isStale(pause!, NOW + 30_000 + 9 * 60_000, false)).toBe(false);
    expect(isStale(pause!, NOW + 30_000 + 11 * 60_000, false)).toBe(true);
    expect(isStale(pause!, NOW + 30_000 + 11 * 60_000, true)).toBe(false);
    expect(isStale({ ...pause!, leaseRenewedAt: null }, NOW, false)).toBe(true);
    // once restored (by the post step, a person, another run), a late renewal writes nothing
    await restoreAutoscaler(kube, ref);
    await expect(renewLease(kube, ref, 2, NOW + 60_000)).rejects.toMatchObject({ code: 422 });
    expect(kube.deployments[0]?.metadata?.annotations).toEqual({});
    expect(await readPause(kube, ref)).toBeUndefined();
  });
});

describe("the post step's restore", () => {
  const record = (cluster: string) => ({ cluster, region: 'us-east-1', namespace: 'kube-system', name: 'cluster-autoscaler', replicas: 3 });

  it('restores every recorded pause side by side; one that never answers is cut at its deadline, named, and keeps its record', async () => {
    const paused = () => fakeKube([ca(0, { annotations: { [PAUSED_ANNOTATION]: '3' } })]);
    const hung = paused();
    // `hung` answers nothing, ever, and ignores its signal: only the deadline can end the wait.
    const kubes: Record<string, KubeApi & { deployments: V1Deployment[] }> = {
      a: paused(),
      b: paused(),
      hung: { ...hung, readDeployment: () => new Promise<V1Deployment>(() => undefined) },
    };
    const signals = new Map<string, AbortSignal | undefined>();
    const kubeFor = (cluster: { name: string }, signal?: AbortSignal) => {
      signals.set(cluster.name, signal);
      return kubes[cluster.name]!;
    };
    const clients: Clients = {
      clientsFor: () => assert.fail('no AWS call: the kubeconfig names the clusters'),
      github: async () => null,
      kube: async () => kubeFor,
    };
    const logs: string[] = [];
    const warnings: string[] = [];
    const started = Date.now();
    await restoreRecorded(
      settingsWith({ kubeconfig: '/dev/null' }),
      clients,
      ['hung', 'a', 'b'].map(record),
      { log: (l) => logs.push(l), warn: (w) => warnings.push(w) },
      300,
    );
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1500);
    expect(logs.sort()).toEqual([
      'a: cluster-autoscaler kube-system/cluster-autoscaler: restored to 3 replicas',
      'b: cluster-autoscaler kube-system/cluster-autoscaler: restored to 3 replicas',
    ]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^hung: cluster-autoscaler kube-system\/cluster-autoscaler \(us-east-1\): could not be restored: not done within the post step's 0.3 s\./,
    );
    expect(warnings[0]).toContain('kubectl -n kube-system scale deployment cluster-autoscaler --replicas=3');
    expect(warnings[0]).toContain('command: restore');
    expect(kubes.a?.deployments[0]?.spec?.replicas).toBe(3);
    expect(hung.deployments[0]?.metadata?.annotations?.[PAUSED_ANNOTATION]).toBe('3');
    // each client was made with its cluster's own signal: the hung one's aborted at its deadline
    expect(new Set(signals.values()).size).toBe(3);
    expect(signals.get('hung')?.aborted).toBe(true);
  });

  it('stops retrying a cluster once its deadline passes, and names the last error', async () => {
    let tries = 0;
    const down = {
      ...fakeKube([]),
      readDeployment: () => (tries++, Promise.reject(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }))),
    };
    const clients: Clients = { clientsFor: () => assert.fail('no AWS call'), github: async () => null, kube: async () => () => down };
    const warnings: string[] = [];
    const started = Date.now();
    await restoreRecorded(settingsWith({ kubeconfig: '/dev/null' }), clients, [record('down')], { log: () => undefined, warn: (w) => warnings.push(w) }, 500);
    expect(Date.now() - started).toBeLessThan(1500);
    // the first retry waits 2 s: past the deadline, so no second try follows
    await new Promise((r) => setTimeout(r, 2500));
    expect(tries).toBe(1);
    expect(warnings[0]).toContain("not done within the post step's 0.5 s (last: connect ECONNREFUSED 10.0.0.1:443)");
  });
});
