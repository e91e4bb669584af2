import type { V1Deployment } from '@kubernetes/client-node';
import type { KubeApi } from '../model/kube-api.js';
import type { AutoscalerRef } from '../model/pause.js';
import { recognise } from '../decision/scalers.js';

/** Where the replica count to restore is kept, on the deployment itself, for a later run to find. */
export const PAUSED_ANNOTATION = 'eks-ami-drift/paused-replicas';
/** When the pause began (ISO 8601). */
export const PAUSED_AT_ANNOTATION = 'eks-ami-drift/paused-at';
/**
 * The pause's lease (ISO 8601): the job holding the pause renews it at least every LEASE_RENEW_MS. A
 * lease older than LEASE_STALE_MS means the job is gone (a lost runner, a job killed without its post
 * step): a later run may restore the pause.
 */
export const LEASE_ANNOTATION = 'eks-ami-drift/lease-renewed-at';
export const LEASE_RENEW_MS = 30_000;
export const LEASE_STALE_MS = 10 * 60_000;
const OUR_ANNOTATIONS = [PAUSED_ANNOTATION, PAUSED_AT_ANNOTATION, LEASE_ANNOTATION];

/** The node autoscalers found on a cluster: the cluster-autoscaler to pause, and any Karpenter controller. */
export interface ScalersFound {
  autoscaler?: AutoscalerRef;
  /** How it was recognised: `label app=cluster-autoscaler`, `image registry.k8s.io/autoscaling/cluster-autoscaler`. */
  by?: string;
  /** Karpenter controllers (`namespace/name`): recognised and named, never paused. */
  karpenter: string[];
}

/**
 * Looks at every namespace's Deployments for cluster-autoscaler (by the labels, names and image that
 * AWS's example manifest and the Helm chart give it, or by its command: ../decision/scalers.ts) and for
 * Karpenter. Two cluster-autoscalers are an error naming both: the action never guesses which one to pause.
 */
export async function findScalers(kube: KubeApi): Promise<ScalersFound> {
  const autoscalers: (AutoscalerRef & { by: string })[] = [];
  const karpenter: string[] = [];
  for (const d of await kube.listAllDeployments()) {
    const seen = recognise(d);
    const namespace = d.metadata?.namespace ?? '';
    const name = d.metadata?.name ?? '';
    if (seen?.kind === 'karpenter') karpenter.push(`${namespace}/${name}`);
    else if (seen) autoscalers.push({ namespace, name, by: seen.by });
  }
  if (autoscalers.length > 1) {
    const names = autoscalers.map((a) => `${a.namespace}/${a.name}`).join(', ');
    throw new Error(`found more than one cluster-autoscaler (${names}): name the one to pause with the cluster-autoscaler input (namespace/name)`);
  }
  const [found] = autoscalers;
  return found ? { autoscaler: { namespace: found.namespace, name: found.name }, by: found.by, karpenter } : { karpenter };
}

/** cluster-autoscaler wherever it runs (see findScalers); `undefined` when the cluster has none. */
export async function findAutoscaler(kube: KubeApi): Promise<AutoscalerRef | undefined> {
  return (await findScalers(kube)).autoscaler;
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
export async function pauseAutoscaler(kube: KubeApi, ref: AutoscalerRef, now: number): Promise<number> {
  return retryOnConflict(() => pauseOnce(kube, ref, now));
}

async function pauseOnce(kube: KubeApi, ref: AutoscalerRef, now: number): Promise<number> {
  const d = await kube.readDeployment(ref.namespace, ref.name);
  const earlier = pausedCount(d);
  const replicas = earlier ?? d.spec?.replicas ?? 1;
  const annotations = d.metadata?.annotations ?? {};
  const at = new Date(now).toISOString();
  // Adopting an earlier run's pause (a re-run after a lost runner) keeps its count and start, and
  // takes over its lease.
  await kube.patchDeployment(ref.namespace, ref.name, [
    { op: 'test', path: '/metadata/resourceVersion', value: d.metadata?.resourceVersion },
    {
      op: 'add',
      path: '/metadata/annotations',
      value: { ...annotations, [PAUSED_ANNOTATION]: String(replicas), [PAUSED_AT_ANNOTATION]: annotations[PAUSED_AT_ANNOTATION] ?? at, [LEASE_ANNOTATION]: at },
    },
    ...(earlier !== undefined && (d.spec?.replicas ?? 0) === 0 ? [] : [{ op: 'replace', path: '/spec/replicas', value: 0 }]),
  ]);
  return replicas;
}

/**
 * Renews the pause's lease. The `test` makes it a no-op once the pause is gone (restored by the post
 * step, a person or another run): a lease is never written on a deployment that is not paused.
 */
export async function renewLease(kube: KubeApi, ref: AutoscalerRef, replicas: number, now: number): Promise<void> {
  await kube.patchDeployment(ref.namespace, ref.name, [
    { op: 'test', path: `/metadata/annotations/${escapePointer(PAUSED_ANNOTATION)}`, value: String(replicas) },
    { op: 'add', path: `/metadata/annotations/${escapePointer(LEASE_ANNOTATION)}`, value: new Date(now).toISOString() },
  ]);
}

/**
 * Gives the pause up to no job: removes its lease, so the next `restore` or `upgrade` takes it as stale
 * (no lease) and lifts it as soon as no node group update of the cluster is in progress. For a pause
 * held past its job's end because EKS still updates. The `test` makes it a no-op once the pause is gone.
 */
export async function dropLease(kube: KubeApi, ref: AutoscalerRef, replicas: number): Promise<void> {
  await kube.patchDeployment(ref.namespace, ref.name, [
    { op: 'test', path: `/metadata/annotations/${escapePointer(PAUSED_ANNOTATION)}`, value: String(replicas) },
    { op: 'remove', path: `/metadata/annotations/${escapePointer(LEASE_ANNOTATION)}` },
  ]);
}

/** RFC 6901: `~` and `/` in a JSON Pointer segment. */
function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A pause as its annotations record it on the deployment. */
export interface PauseFound {
  namespace: string;
  name: string;
  replicas: number;
  /** The deployment's replicas now (0 while paused). */
  current: number;
  pausedAt: string | null;
  leaseRenewedAt: string | null;
}

/** The pause recorded on cluster-autoscaler's deployment, if any. */
export async function readPause(kube: KubeApi, ref: AutoscalerRef): Promise<PauseFound | undefined> {
  const d = await kube.readDeployment(ref.namespace, ref.name);
  const replicas = pausedCount(d);
  if (replicas === undefined) return undefined;
  const a = d.metadata?.annotations ?? {};
  return { ...ref, replicas, current: d.spec?.replicas ?? 0, pausedAt: a[PAUSED_AT_ANNOTATION] ?? null, leaseRenewedAt: a[LEASE_ANNOTATION] ?? null };
}

/**
 * Whether a pause has outlived its job: its lease is older than LEASE_STALE_MS (or it has none: a
 * pause left by a version of the action without leases), and no node group update of the cluster is
 * in progress (restoring then would let cluster-autoscaler upset EKS's scale down).
 */
export function isStale(pause: PauseFound, now: number, updateInProgress: boolean): boolean {
  if (updateInProgress) return false;
  const renewed = pause.leaseRenewedAt ? Date.parse(pause.leaseRenewedAt) : NaN;
  return !Number.isFinite(renewed) || now - renewed > LEASE_STALE_MS;
}

export type RestoreOutcome = { kind: 'restored'; replicas: number } | { kind: 'already-restored' } | { kind: 'left-alone'; replicas: number; recorded: number };

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
  const recorded = pausedCount(d);
  const target = recorded ?? fallback;
  if (target === undefined) return { kind: 'already-restored' };
  // No record on the deployment but one in this run's state: only act if it is still at zero.
  if (recorded === undefined && (d.spec?.replicas ?? 0) !== 0) return { kind: 'already-restored' };
  const annotations = { ...(d.metadata?.annotations ?? {}) };
  for (const key of OUR_ANNOTATIONS) delete annotations[key];
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
