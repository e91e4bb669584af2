import { randomUUID } from 'node:crypto';
import { KubeState, type KubeObject } from './kube.js';

/*
 * The eviction API and what follows an eviction, on one cluster's simulated Kubernetes API:
 * - POST /api/v1/namespaces/{ns}/pods/{name}/eviction (policy/v1 Eviction) answers as the API server
 *   does (Kubernetes docs, "API-initiated Eviction",
 *   https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/): 201 and the pod deleted
 *   gracefully; 429 TooManyRequests when a PodDisruptionBudget allows no disruption now ("you can try
 *   the eviction again later"); 500 when more than one budget covers the pod. The decision is
 *   KubeState.evictionRefusal (the rules of src/decision/disruption.ts evictionRefusal).
 * - a deleted pod gets `metadata.deletionTimestamp` and stays for its grace period,
 *   `terminationGracePeriodSeconds` (30 s by default: Kubernetes docs, "Pod Lifecycle", termination of
 *   Pods), not ready meanwhile: the disruption controller counts no pod being deleted as healthy
 *   (kubernetes pkg/controller/disruption countHealthyPods skips pods with a DeletionTimestamp), so a
 *   budget's disruptionsAllowed drops at once, as the API server's checkAndDecrement does.
 * - once gone, its controller makes a replacement: a ReplicaSet's or StatefulSet's pod is scheduled on a
 *   schedulable node (not `spec.unschedulable`, no NoSchedule/NoExecute taint: Kubernetes docs, "Taints
 *   and Tolerations"; the simulated pods tolerate none) and ready 20 s later, or Pending while none has
 *   room; a DaemonSet's pod comes back on the same node (the DaemonSet controller ignores unschedulable:
 *   kubectl drain's documentation); a mirror pod (annotation `kubernetes.io/config.mirror`) is the
 *   kubelet's own and comes back at once ("mirror pods ... cannot be deleted through the API server",
 *   kubectl drain).
 * Every removal is logged with how it was asked for (`eviction` or `delete`), so a test can assert that
 * no pod was deleted outside the eviction API.
 */

export const TERMINATION_GRACE_MS = 30_000;
/** How long a replacement pod takes to become ready once placed. */
export const REPLACEMENT_READY_MS = 20_000;

export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

export interface Eviction {
  at: number;
  pod: string;
  /** The HTTP status the eviction API answered. */
  status: 201 | 404 | 429 | 500;
  /** The covering budget's status right after the answer (none: no budget covers the pod). */
  budget?: { name: string; currentHealthy: number; desiredHealthy: number; disruptionsAllowed: number };
}

export interface PodRemoval {
  at: number;
  pod: string;
  node: string | undefined;
  /** `node-gone`: its node was deleted (its instance terminated) with the pod still on it. */
  via: 'eviction' | 'delete' | 'node-gone';
}

export class EvictionError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly causes: { reason: string; message: string }[] = [],
  ) {
    super(message);
  }
}

const ownerKind = (pod: KubeObject) => (pod.metadata.ownerReferences as { kind: string }[] | undefined)?.[0]?.kind;

export const isMirrorPod = (pod: KubeObject) => !!pod.metadata.annotations?.[MIRROR_ANNOTATION];

/** Whether the scheduler may place a pod (with no toleration) on this node. */
export function schedulable(node: KubeObject): boolean {
  const taints = (node.spec?.taints as { effect?: string }[] | undefined) ?? [];
  const ready = ((node.status?.conditions as { type: string; status: string }[] | undefined) ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  return ready && !node.spec?.unschedulable && !taints.some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
}

/** Evictions, deletions and replacements of one cluster's pods. */
export class PodLifecycle {
  readonly evictions: Eviction[] = [];
  readonly removals: PodRemoval[] = [];
  /** Pods being deleted: when they are gone, and how the deletion was asked for. */
  private readonly terminating = new Map<string, { goneAt: number; via: 'eviction' | 'delete' }>();
  private replacements = 0;

  constructor(private readonly kube: KubeState) {}

  /** The eviction API: the pod marked for deletion, or an EvictionError the API server answers with. */
  evict(namespace: string, name: string): void {
    const key = KubeState.key(namespace, name);
    const pod = this.kube.pods.get(key);
    const at = this.kube.now();
    if (!pod) {
      this.evictions.push({ at, pod: key, status: 404 });
      throw new EvictionError(404, 'NotFound', `pods "${name}" not found`);
    }
    const refusal = this.kube.evictionRefusal(pod);
    const [pdb] = this.kube.budgetsOf(pod);
    const budget = () => (pdb && this.kube.budgetsOf(pod).length === 1 ? { name: pdb.metadata.name, ...this.kube.budgetStatus(pdb) } : undefined);
    if (refusal) {
      const overlap = this.kube.budgetsOf(pod).length > 1;
      this.evictions.push({ at, pod: key, status: overlap ? 500 : 429, budget: budget() });
      if (overlap) throw new EvictionError(500, 'InternalError', refusal);
      const s = this.kube.budgetStatus(pdb!);
      throw new EvictionError(429, 'TooManyRequests', refusal, [
        {
          reason: 'DisruptionBudget',
          message: `The disruption budget ${pdb!.metadata.name} needs ${s.desiredHealthy} healthy pods and has ${s.currentHealthy} currently`,
        },
      ]);
    }
    this.markDeleted(pod, 'eviction');
    this.evictions.push({ at, pod: key, status: 201, budget: budget() });
  }

  /** DELETE of a pod: no budget asked. */
  delete(namespace: string, name: string): void {
    const pod = this.kube.pods.get(KubeState.key(namespace, name));
    if (!pod) throw new EvictionError(404, 'NotFound', `pods "${name}" not found`);
    this.markDeleted(pod, 'delete');
  }

  private markDeleted(pod: KubeObject, via: 'eviction' | 'delete'): void {
    const key = KubeState.key(pod.metadata.namespace, pod.metadata.name);
    if (this.terminating.has(key)) return;
    const now = this.kube.now();
    const grace = Number((pod.spec?.terminationGracePeriodSeconds as number | undefined) ?? TERMINATION_GRACE_MS / 1000) * 1000;
    pod.metadata.deletionTimestamp = new Date(now + grace).toISOString();
    pod.metadata.deletionGracePeriodSeconds = grace / 1000;
    this.terminating.set(key, { goneAt: now + grace, via });
  }

  /** A node deleted (its instance terminated): its pods go with it, and their controllers replace them elsewhere. */
  nodeGone(node: string): void {
    const now = this.kube.now();
    for (const pod of this.kube.podsOn(node)) {
      const key = KubeState.key(pod.metadata.namespace, pod.metadata.name);
      this.terminating.delete(key);
      this.removals.push({ at: now, pod: key, node, via: 'node-gone' });
      this.kube.pods.delete(key);
      this.kube.lives.delete(key);
      if (ownerKind(pod) !== 'DaemonSet' && !isMirrorPod(pod)) this.replace(pod, now);
    }
  }

  /** Brings deletions and replacements up to the virtual now. */
  settle(): void {
    const now = this.kube.now();
    for (const [key, t] of [...this.terminating]) {
      if (t.goneAt > now) continue;
      this.terminating.delete(key);
      const pod = this.kube.pods.get(key);
      if (!pod) continue;
      this.removals.push({ at: t.goneAt, pod: key, node: pod.spec?.nodeName as string | undefined, via: t.via });
      this.kube.pods.delete(key);
      this.kube.lives.delete(key);
      this.replace(pod, t.goneAt);
    }
    // The scheduler: Pending replacements placed once a node has room.
    for (const pod of this.kube.pods.values()) if (!pod.spec?.nodeName && pod.metadata.labels?.['sim/replacement']) this.place(pod, now);
  }

  private replace(old: KubeObject, at: number): void {
    const kind = ownerKind(old);
    if (!isMirrorPod(old) && kind !== 'ReplicaSet' && kind !== 'StatefulSet' && kind !== 'DaemonSet') return;
    const node = old.spec?.nodeName as string | undefined;
    if (kind === 'DaemonSet' && (!node || !this.kube.nodes.has(node))) return;
    const sameName = isMirrorPod(old) || kind === 'StatefulSet';
    const name = sameName ? old.metadata.name : `${old.metadata.name.replace(/-r\d+$/, '')}-r${++this.replacements}`;
    const { deletionTimestamp: _d, deletionGracePeriodSeconds: _g, ...metadata } = old.metadata;
    const pod: KubeObject = {
      ...old,
      metadata: {
        ...metadata,
        name,
        uid: randomUUID(),
        labels: { ...old.metadata.labels, ...(kind === 'DaemonSet' || isMirrorPod(old) ? {} : { 'sim/replacement': 'true' }) },
      },
      spec: { ...old.spec, nodeName: kind === 'DaemonSet' || isMirrorPod(old) ? node : undefined },
      status: { phase: 'Pending' },
    };
    const key = KubeState.key(pod.metadata.namespace, name);
    this.kube.pods.set(key, pod);
    if (pod.spec?.nodeName)
      this.kube.lives.set(key, { startedAt: at, readyAt: at + (isMirrorPod(old) ? 0 : REPLACEMENT_READY_MS), crashLoop: false, degraded: false });
    else this.place(pod, at);
  }

  /** Places a Pending pod on the schedulable node with the fewest pods, preferring its old node group; none: it stays Pending. */
  private place(pod: KubeObject, at: number): void {
    const nodes = [...this.kube.nodes.values()].filter(schedulable);
    if (nodes.length === 0) {
      this.kube.lives.set(KubeState.key(pod.metadata.namespace, pod.metadata.name), { startedAt: at, readyAt: null, crashLoop: false, degraded: false });
      return;
    }
    const load = (n: KubeObject) => this.kube.podsOn(n.metadata.name).length;
    const [node] = nodes.sort((a, b) => load(a) - load(b) || a.metadata.name.localeCompare(b.metadata.name));
    pod.spec = { ...pod.spec, nodeName: node!.metadata.name };
    pod.status = { phase: 'Running' };
    this.kube.lives.set(KubeState.key(pod.metadata.namespace, pod.metadata.name), {
      startedAt: at,
      readyAt: at + REPLACEMENT_READY_MS,
      crashLoop: false,
      degraded: false,
    });
  }
}
