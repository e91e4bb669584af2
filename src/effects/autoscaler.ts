import type { V1Deployment } from '@kubernetes/client-node';
import type { KubeApi } from '../fleet/kube.js';

/** Where the replica count to restore is kept, on the deployment itself, for a later run to find. */
export const PAUSED_ANNOTATION = 'eks-ami-drift/paused-replicas';

export interface AutoscalerRef {
  namespace: string;
  name: string;
}

/** The usual ways cluster-autoscaler is deployed on EKS (AWS's manifest, the Helm chart). */
const CANDIDATES = [
  { namespace: 'kube-system', labelSelector: 'app=cluster-autoscaler' },
  { namespace: 'kube-system', labelSelector: 'app.kubernetes.io/name=aws-cluster-autoscaler' },
  { namespace: 'kube-system', labelSelector: 'app.kubernetes.io/name=cluster-autoscaler' },
];

/**
 * Finds cluster-autoscaler: by labels in kube-system (AWS's example manifest and the Helm chart), else
 * by the names those give it. `undefined` when the cluster has none. Two matches are an error: the
 * action never guesses which one to pause.
 */
export async function findAutoscaler(kube: KubeApi): Promise<AutoscalerRef | undefined> {
  const found = new Map<string, AutoscalerRef>();
  for (const { namespace, labelSelector } of CANDIDATES) {
    for (const d of await kube.listDeployments(namespace, labelSelector)) {
      if (d.metadata?.name) found.set(`${namespace}/${d.metadata.name}`, { namespace, name: d.metadata.name });
    }
  }
  if (found.size === 0) {
    for (const d of await kube.listDeployments('kube-system')) {
      const name = d.metadata?.name ?? '';
      if (name === 'cluster-autoscaler' || name.endsWith('-aws-cluster-autoscaler')) found.set(`kube-system/${name}`, { namespace: 'kube-system', name });
    }
  }
  if (found.size > 1) {
    throw new Error(`found more than one cluster-autoscaler (${[...found.keys()].join(', ')}): name the one to pause with the cluster-autoscaler input (namespace/name)`);
  }
  return [...found.values()][0];
}

function pausedCount(d: V1Deployment): number | undefined {
  const value = d.metadata?.annotations?.[PAUSED_ANNOTATION];
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/**
 * Scales cluster-autoscaler to zero and records the count to restore in an annotation, in one
 * JSON Patch guarded by the deployment's resourceVersion. A deployment already paused by an earlier
 * run (its annotation is there) keeps the count recorded then, never 0. Returns the count to restore.
 */
export async function pauseAutoscaler(kube: KubeApi, ref: AutoscalerRef): Promise<number> {
  return retryOnConflict(() => pauseOnce(kube, ref));
}

async function pauseOnce(kube: KubeApi, ref: AutoscalerRef): Promise<number> {
  const d = await kube.readDeployment(ref.namespace, ref.name);
  const earlier = pausedCount(d);
  const replicas = earlier ?? d.spec?.replicas ?? 1;
  if (earlier !== undefined && (d.spec?.replicas ?? 0) === 0) return earlier;
  await kube.patchDeployment(ref.namespace, ref.name, [
    { op: 'test', path: '/metadata/resourceVersion', value: d.metadata?.resourceVersion },
    { op: 'add', path: '/metadata/annotations', value: { ...(d.metadata?.annotations ?? {}), [PAUSED_ANNOTATION]: String(replicas) } },
    { op: 'replace', path: '/spec/replicas', value: 0 },
  ]);
  return replicas;
}

export type RestoreOutcome =
  | { kind: 'restored'; replicas: number }
  | { kind: 'already-restored' }
  | { kind: 'left-alone'; replicas: number; recorded: number };

/**
 * Puts cluster-autoscaler back to the recorded count. Harmless to call twice (the annotation is the
 * record: once removed, there is nothing to do). A deployment someone scaled up meanwhile is left at
 * its count; the record is dropped and the caller warns.
 */
export async function restoreAutoscaler(kube: KubeApi, ref: AutoscalerRef, fallback?: number): Promise<RestoreOutcome> {
  return retryOnConflict(() => restoreOnce(kube, ref, fallback));
}

/**
 * Each patch is guarded by the resourceVersion it read; when someone else wrote in between (HTTP 409
 * or a failed `test`, 422), read again and decide again.
 */
async function retryOnConflict<T>(attempt: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (i >= tries || (code !== 409 && code !== 422)) throw error;
    }
  }
}

async function restoreOnce(kube: KubeApi, ref: AutoscalerRef, fallback?: number): Promise<RestoreOutcome> {
  const d = await kube.readDeployment(ref.namespace, ref.name);
  const recorded = pausedCount(d) ?? undefined;
  if (recorded === undefined && fallback === undefined) return { kind: 'already-restored' };
  if (recorded === undefined) {
    // No record on the deployment but one in this run's state: only act if it is still at zero.
    if ((d.spec?.replicas ?? 0) !== 0) return { kind: 'already-restored' };
  }
  const target = recorded ?? (fallback as number);
  const annotations = { ...(d.metadata?.annotations ?? {}) };
  delete annotations[PAUSED_ANNOTATION];
  const current = d.spec?.replicas ?? 0;
  const ops: object[] = [
    { op: 'test', path: '/metadata/resourceVersion', value: d.metadata?.resourceVersion },
    { op: 'add', path: '/metadata/annotations', value: annotations },
  ];
  if (current !== 0) {
    await kube.patchDeployment(ref.namespace, ref.name, ops);
    return { kind: 'left-alone', replicas: current, recorded: target };
  }
  await kube.patchDeployment(ref.namespace, ref.name, [...ops, { op: 'replace', path: '/spec/replicas', value: target }]);
  return { kind: 'restored', replicas: target };
}
