import type { V1Node, V1Pod, V1Taint } from '@kubernetes/client-node';

/**
 * The taint the drain puts on a node it is taking out of service, beside cordoning it. NoSchedule keeps
 * new pods off (Kubernetes docs, "Taints and Tolerations"), also pods that would ignore `unschedulable`
 * by tolerating `node.kubernetes.io/unschedulable`; and the key lets a later run find the nodes an
 * earlier (killed) run was draining: `kubectl get nodes -l ...` cannot select taints, so a run lists the
 * group's nodes and looks for this key (`isBeingReplaced`).
 */
export const DRAIN_TAINT: Readonly<V1Taint> = { key: 'eks-ami-drift/replacing', value: 'true', effect: 'NoSchedule' };

/** kubelet's annotation on a static pod's mirror in the API server (kubernetes pkg/kubelet/types ConfigMirrorAnnotationKey). */
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

/** Default per-node drain timeout: EKS gives a managed node group's node 15 minutes to drain before PodEvictionFailure. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 15 * 60_000;

/** Whether a node carries the drain's taint: an earlier run was replacing it. */
export function isBeingReplaced(node: V1Node): boolean {
  return (node.spec?.taints ?? []).some((t) => t.key === DRAIN_TAINT.key && t.effect === DRAIN_TAINT.effect);
}

/**
 * The JSON Patch (RFC 6902) that cordons a node and adds the drain's taint, keeping its other taints;
 * empty when it is already both. `add` on an existing member replaces it (RFC 6902 section 4.1), so the
 * whole taint list is written: a taint another controller adds between the read and the patch would be
 * lost. No `test` guards it: the client turns a taint's `timeAdded` into a Date and back, and the value
 * it would test may not be the server's text byte for byte (UNVERIFIED); the window is one round trip.
 */
export function cordonPatch(node: V1Node): object[] {
  const taints = node.spec?.taints ?? [];
  const tainted = isBeingReplaced(node);
  if (node.spec?.unschedulable === true && tainted) return [];
  const ops: object[] = [];
  if (node.spec?.unschedulable !== true) ops.push({ op: 'add', path: '/spec/unschedulable', value: true });
  if (!tainted) {
    ops.push({ op: 'add', path: '/spec/taints', value: [...taints, { ...DRAIN_TAINT }] });
  }
  return ops;
}

/** What the drain does with a pod found on the node. */
export type PodDisposition =
  /** Evict it through the eviction API. */
  | 'evict'
  /** Already being deleted: wait until it is gone. */
  | 'terminating'
  /** A DaemonSet's: left (its controller ignores unschedulable and would recreate it at once: kubectl drain --ignore-daemonsets). */
  | 'daemonset'
  /** A static pod's mirror: left (the API server cannot delete it, the kubelet owns it: kubectl drain). */
  | 'mirror'
  /** Succeeded or Failed: nothing runs, it goes with the node. */
  | 'terminal';

export function podDisposition(pod: V1Pod): PodDisposition {
  if (pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return 'mirror';
  if ((pod.metadata?.ownerReferences ?? []).some((o) => o.kind === 'DaemonSet' && o.controller !== false)) return 'daemonset';
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 'terminal';
  if (pod.metadata?.deletionTimestamp) return 'terminating';
  return 'evict';
}

/** `namespace/name`. */
export const podKey = (pod: V1Pod): string => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

/**
 * How long to wait before asking again for a pod the eviction API refused with 429 (its budget allows
 * no disruption now: "you can try the eviction again later", Kubernetes docs, "API-initiated
 * Eviction"; the answer carries no Retry-After, kubernetes/kubernetes#36409). kubectl drain waits 5 s
 * between attempts; here 5 s doubling to at most 60 s, so a budget blocked for minutes costs a few
 * calls a minute per pod, not twelve.
 */
export function evictionBackoffMs(refusals: number): number {
  return Math.min(60_000, 5_000 * 2 ** Math.max(0, refusals - 1));
}

/**
 * What a roll of `instances` old nodes with `pods` pods to evict among them is expected to take
 * (docs/self-managed.md, "Expected duration"): the surge's new nodes Ready once for all, then each
 * old node's pods evicted one at a time, each until its replacement is Ready (a budget allowing one
 * disruption), then the health gate, each wait rounded up to the poll interval. The times a real
 * cluster takes are the team's: these are stated assumptions, not measurements.
 */
export const ROLL_ASSUMPTIONS = { readyMs: 3 * 60_000, podMs: 60_000 } as const;
export function expectedRollMs(instances: number, pods: number, pollMs: number, assume = ROLL_ASSUMPTIONS): number {
  const poll = Math.max(1, pollMs);
  const up = (ms: number) => Math.ceil(ms / poll) * poll;
  return up(assume.readyMs) + instances * poll + pods * up(assume.podMs) + up(assume.podMs);
}
