import type { V1Pod } from '@kubernetes/client-node';
import { cordonPatch, DEFAULT_DRAIN_TIMEOUT_MS, evictionBackoffMs, podDisposition, podKey, type PodDisposition } from '../decision/drain.js';
import type { DrainKubeApi } from '../model/kube-api.js';

/*
 * Draining one node, as the seeds do it by hand before its instance is terminated: cordon it and taint it
 * (../decision/drain.ts DRAIN_TAINT), evict its pods through the eviction API so that PodDisruptionBudgets
 * are respected, retry the ones a budget holds back (429), and wait until they are gone.
 *
 * Contract for the self-managed executor (./self-managed-roll.ts):
 * - `drainNode` returns once no pod to evict is left on the node (DaemonSet, mirror and finished pods stay:
 *   they go with the instance); the node stays cordoned and tainted, for the instance to be terminated.
 * - Past `timeoutMs` (15 minutes by default, as EKS gives a managed node group's node: EKS user guide,
 *   "Understand each phase of node updates", upgrade phase; PodEvictionFailure after it) it throws a
 *   DrainTimeoutError naming the pods still there and the budgets holding them, unless `force`: then it
 *   deletes them (DELETE, no budget asked; EKS's force "doesn't fail the update if it can't drain the
 *   nodes due to a pod disruption budget" and drains regardless) and waits for them to be gone, at most
 *   `timeoutMs` more.
 * - It is safe to call again on a node an earlier run was draining: cordoning and tainting are
 *   idempotent, pods already terminating are waited on, not evicted twice.
 * - Every request goes through the caller's KubeApi, with its deadlines; `signal` ends the drain between
 *   requests (it throws the signal's reason).
 */

export interface DrainProgress {
  node: string;
  /** Pods still to go, `namespace/name`. */
  podsLeft: string[];
  /** Of those, the ones the eviction API refused last (a budget allows no disruption now). */
  waitingOnBudget: string[];
  elapsedMs: number;
}

export interface DrainOptions {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Per node (default 15 minutes). */
  timeoutMs?: number;
  /** How often the node's pods are listed and progress reported (default 10 s). */
  pollIntervalMs?: number;
  /** Past the timeout, delete the pods left instead of failing. */
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: DrainProgress) => void;
}

export interface DrainResult {
  node: string;
  /** Pods evicted through the eviction API. */
  evicted: string[];
  /** Pods deleted under `force` after the timeout. */
  deleted: string[];
  /** Pods left on the node, and why. */
  left: { pod: string; why: Exclude<PodDisposition, 'evict' | 'terminating'> }[];
  durationMs: number;
}

export class DrainTimeoutError extends Error {
  constructor(
    readonly node: string,
    readonly pods: string[],
    /** The eviction API's last refusal per pod held back. */
    readonly refusals: Record<string, string>,
    timeoutMs: number,
  ) {
    const named = pods
      .slice(0, 5)
      .map((p) => (refusals[p] ? `${p} (${refusals[p]})` : p))
      .join(', ');
    super(
      `node ${node} was not drained within ${Math.round(timeoutMs / 60_000)} minute(s): ${pods.length} pod(s) still there: ${named}` +
        `${pods.length > 5 ? ', …' : ''}. Allow the disruption (the PodDisruptionBudget named), or set force to delete them past the timeout`,
    );
  }
}

/** Cordons the node and puts the drain's taint on it; nothing when it already has both. */
export async function cordonAndTaint(kube: Pick<DrainKubeApi, 'readNode' | 'patchNode'>, node: string): Promise<void> {
  const patch = cordonPatch(await kube.readNode(node));
  if (patch.length > 0) await kube.patchNode(node, patch);
}

const status = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
};

/** The message of a Kubernetes Status the client threw (its body), else the error's own. */
function statusMessage(error: unknown): string {
  const body = (error as { body?: unknown })?.body;
  try {
    const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string; details?: { causes?: { message?: string }[] } } | undefined;
    const cause = parsed?.details?.causes?.[0]?.message;
    if (parsed?.message) return cause ? `${parsed.message} ${cause}` : parsed.message;
  } catch {
    // not JSON: the error's message below
  }
  return error instanceof Error ? error.message : String(error);
}

/** Cordons, taints and drains one node: see the contract above. */
export async function drainNode(kube: DrainKubeApi, node: string, options: DrainOptions): Promise<DrainResult> {
  const { now, sleep, timeoutMs = DEFAULT_DRAIN_TIMEOUT_MS, pollIntervalMs = 10_000, force = false, signal, onProgress } = options;
  const startedAt = now();
  const aborted = () => {
    if (signal?.aborted) throw signal.reason ?? new Error('the drain was aborted');
  };
  aborted();
  await cordonAndTaint(kube, node);
  const evicted = new Set<string>();
  const deleted = new Set<string>();
  /** Pods the eviction API refused: how many times, when to ask again, and what it said. */
  const refused = new Map<string, { times: number; retryAt: number; message: string }>();
  let forcedAt: number | undefined;
  for (;;) {
    aborted();
    const pods: V1Pod[] = await kube.listPods(`spec.nodeName=${node}`);
    const todo = pods.filter((p) => {
      const d = podDisposition(p);
      return d === 'evict' || d === 'terminating';
    });
    const left = pods.flatMap((p) => {
      const why = podDisposition(p);
      return why === 'evict' || why === 'terminating' ? [] : [{ pod: podKey(p), why }];
    });
    if (todo.length === 0) {
      return { node, evicted: [...evicted], deleted: [...deleted], left, durationMs: now() - startedAt };
    }
    const elapsed = now() - startedAt;
    if (forcedAt === undefined && elapsed >= timeoutMs) {
      const names = todo.map(podKey);
      if (!force)
        throw new DrainTimeoutError(
          node,
          names,
          Object.fromEntries([...refused].filter(([p]) => names.includes(p)).map(([p, r]) => [p, r.message])),
          timeoutMs,
        );
      forcedAt = now();
      for (const p of todo.filter((x) => podDisposition(x) === 'evict')) {
        aborted();
        try {
          await kube.deletePod(p.metadata?.namespace ?? '', p.metadata?.name ?? '');
          deleted.add(podKey(p));
        } catch (error) {
          if (status(error) !== 404) throw error;
        }
      }
    } else if (forcedAt !== undefined && now() - forcedAt >= timeoutMs) {
      throw new DrainTimeoutError(node, todo.map(podKey), {}, timeoutMs);
    }
    if (forcedAt === undefined) {
      for (const p of todo) {
        const key = podKey(p);
        if (podDisposition(p) !== 'evict' || (refused.get(key)?.retryAt ?? 0) > now()) continue;
        aborted();
        try {
          await kube.evictPod(p.metadata?.namespace ?? '', p.metadata?.name ?? '');
          evicted.add(key);
          refused.delete(key);
        } catch (error) {
          const code = status(error);
          if (code === 404) continue; // gone meanwhile
          // 429: a budget allows no disruption now; 500: more than one budget covers the pod (a
          // misconfiguration someone may fix): both asked again later, until the timeout names them.
          if (code !== 429 && code !== 500) throw error;
          const times = (refused.get(key)?.times ?? 0) + 1;
          refused.set(key, { times, retryAt: now() + evictionBackoffMs(times), message: statusMessage(error) });
        }
      }
    }
    const podsLeft = todo.map(podKey);
    onProgress?.({ node, podsLeft, waitingOnBudget: podsLeft.filter((p) => refused.has(p)), elapsedMs: now() - startedAt });
    await sleep(pollIntervalMs);
  }
}
