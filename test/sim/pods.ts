import type { Clock } from './world.js';
import { KubeState } from './kube.js';

/**
 * `count` pods of one ReplicaSet labelled `app`, spread over `nodes` in turn, Running and Ready for an
 * hour as the simulator's own workloads start (./world.ts initWorkload): for nodes the simulator's
 * workloads do not place pods on (a self-managed group's, which carry no eks.amazonaws.com/nodegroup label).
 */
export function placePods(state: KubeState, clock: Clock, app: { namespace: string; name: string }, count: number, nodes: readonly string[]): void {
  for (let i = 0; i < count; i++) {
    const name = `${app.name}-${i}`;
    state.pods.set(KubeState.key(app.namespace, name), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: app.namespace,
        labels: { app: app.name },
        ownerReferences: [{ kind: 'ReplicaSet', name: `${app.name}-1`, uid: 'u', controller: true }],
      },
      spec: { nodeName: nodes[i % nodes.length] },
      status: { phase: 'Running' },
    });
    state.lives.set(KubeState.key(app.namespace, name), {
      startedAt: clock.now() - 3_600_000,
      readyAt: clock.now() - 3_000_000,
      crashLoop: false,
      degraded: false,
    });
  }
}
