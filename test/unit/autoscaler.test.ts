import { describe, expect, it } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { findAutoscaler, pauseAutoscaler, PAUSED_ANNOTATION, restoreAutoscaler } from '../../src/effects/autoscaler.js';
import type { KubeApi } from '../../src/fleet/kube.js';

/** A deployment store that applies JSON Patches like the API server, resourceVersion test included. */
function fakeKube(deployments: V1Deployment[]): KubeApi & { deployments: V1Deployment[]; patches: number } {
  const api = {
    deployments,
    patches: 0,
    listNodes: async () => [],
    listPods: async () => [],
    listPodDisruptionBudgets: async () => [],
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
        if (op.op === 'test' && op.path === '/metadata/resourceVersion' && op.value !== d.metadata?.resourceVersion) throw Object.assign(new Error('conflict'), { code: 422 });
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
    expect(await pauseAutoscaler(kube, ref)).toBe(3);
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
    const kube = fakeKube([ca(0, { annotations: { [PAUSED_ANNOTATION]: '2' } })]);
    expect(await pauseAutoscaler(kube, ref)).toBe(2);
    expect(kube.patches).toBe(0);
    expect(await restoreAutoscaler(kube, ref)).toEqual({ kind: 'restored', replicas: 2 });
  });

  it('leaves a deployment someone scaled up meanwhile at its count, and drops the record', async () => {
    const kube = fakeKube([ca(2)]);
    await pauseAutoscaler(kube, ref);
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
    expect(await pauseAutoscaler(kube, ref)).toBe(2);
    expect(kube.deployments[0]?.spec?.replicas).toBe(0);
  });

  it('finds it by AWS’s labels or the Helm chart’s, and refuses to guess between two', async () => {
    expect(await findAutoscaler(fakeKube([ca(1)]))).toEqual(ref);
    const helm = ca(1, { name: 'cluster-autoscaler-aws-cluster-autoscaler', labels: { 'app.kubernetes.io/name': 'aws-cluster-autoscaler' } });
    expect(await findAutoscaler(fakeKube([helm]))).toEqual({ namespace: 'kube-system', name: 'cluster-autoscaler-aws-cluster-autoscaler' });
    expect(await findAutoscaler(fakeKube([]))).toBeUndefined();
    await expect(findAutoscaler(fakeKube([ca(1), helm]))).rejects.toThrow('more than one cluster-autoscaler');
  });
});
