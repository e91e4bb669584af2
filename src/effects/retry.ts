/**
 * Whether waiting and trying again can help: throttling, a server error, a connection that broke
 * (no HTTP status at all), or a token that expired between two calls (401: the Kubernetes client
 * builds a new one). Access denied, not found and bad requests are final.
 */
export function isTransient(error: unknown): boolean {
  const e = error as { code?: unknown; $metadata?: { httpStatusCode?: number }; $retryable?: unknown; name?: string };
  const status = e?.$metadata?.httpStatusCode ?? (typeof e?.code === 'number' ? e.code : undefined);
  if (status === undefined) return !/AccessDenied|Unauthorized|Forbidden|NotFound|Validation|InvalidParameter/.test(e?.name ?? '');
  return status === 401 || status === 409 || status === 429 || status >= 500 || e.$retryable !== undefined;
}

/**
 * Calls `attempt` until it succeeds or fails for good: at most `tries` times, waiting 2, 4, 8… seconds
 * (at most 30) between transient failures. For the calls that must not give up easily: restoring
 * cluster-autoscaler. Once `signal` aborts, no further attempt starts.
 */
export async function retryTransient<T>(attempt: () => Promise<T>, sleep: (ms: number) => Promise<void>, tries = 5, signal?: AbortSignal): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= tries || !isTransient(error) || signal?.aborted) throw error;
      await sleep(Math.min(30_000, 1000 * 2 ** i));
      if (signal?.aborted) throw error;
    }
  }
}

/**
 * Runs `work` with a deadline of `ms` of wall-clock time: past it, `work`'s signal aborts (for the
 * calls it makes to end) and the result is `late()`'s error, whatever `work` still waits on.
 */
export async function withDeadline<T>(ms: number, late: () => Error, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  // AbortSignal.timeout: wall-clock time, and its timer does not keep the process alive.
  const signal = AbortSignal.timeout(ms);
  const passed = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(late()), { once: true }));
  passed.catch(() => undefined);
  return Promise.race([work(signal), passed]);
}
