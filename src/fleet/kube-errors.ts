/* The Kubernetes API's errors as people read them; apart from the client, so that code which only names errors does not load it. */

/** `Forbidden: deployments.apps "x" is forbidden: ...` from a client-node ApiException. */
export function describeKubeError(error: unknown): string {
  const e = error as { code?: number; body?: unknown; message?: string };
  if (typeof e?.code === 'number' && e.body !== undefined) {
    try {
      const status = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { message?: string; reason?: string };
      if (status?.message) return `${status.reason ?? `HTTP ${e.code}`}: ${status.message}`;
    } catch {
      // not a Status object
    }
    return `HTTP ${e.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * A request to a cluster's Kubernetes API that did not end by its deadline: no connection within the
 * connect deadline, or no whole answer within the request deadline (`kube-timeout`). Transient: a
 * retry may get through.
 */
export class KubeDeadlineError extends Error {
  override name = 'KubeDeadlineError';
  constructor(
    readonly server: string,
    readonly phase: 'connect' | 'request',
    readonly ms: number,
  ) {
    super(
      phase === 'connect'
        ? `no connection to ${server} within ${seconds(ms)} (the connect deadline, half of kube-timeout)`
        : `${server} did not answer within ${seconds(ms)} (kube-timeout)`,
    );
  }
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

/** Whether a call ended by a deadline (by name: the error may come from another chunk of dist/). */
export function isKubeDeadline(error: unknown): error is KubeDeadlineError {
  return (error as { name?: unknown } | null)?.name === 'KubeDeadlineError';
}
