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
