import { afterEach, describe, expect, it } from '@jest/globals';
import { DRAIN_TAINT } from '../../src/decision/drain.js';
import { DrainTimeoutError, drainNode, type DrainProgress } from '../../src/effects/drain.js';
import { eksKubeApi, eksToken } from '../../src/fleet/kube-client.js';
import type { Faults, FleetSpec, SimPdb } from '../sim/fleet.js';
import { KubeState } from '../sim/kube.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { startSimulator, type Simulator } from '../sim/server.js';

/*
 * The drain (src/effects/drain.ts) against the simulator's Kubernetes API and its eviction API
 * (test/sim/eviction.ts): budgets respected, DaemonSet and mirror pods left, no pod deleted outside the
 * eviction API, the timeout naming the pods a budget holds, `force`.
 */

const credentials = { accessKeyId: 'AKIASIMULATOR0000000', secretAccessKey: 'simulator-secret-key-not-real-0000000000' };
const release = releasesOf('AL2023_x86_64_STANDARD', '1.33').at(-1)!.releaseVersion;
const MINUTE = 60_000;

function fleet(pdb: SimPdb, more: SimPdb[] = []): FleetSpec {
  return {
    clusters: [
      {
        name: 'prod',
        region: 'us-east-1',
        version: '1.33',
        nodegroups: [{ name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: release, desiredSize: 3 }],
        // Six web pods, two on each of the three nodes; one agent pod per node.
        workloads: [
          { name: 'web', namespace: 'shop', labels: { app: 'web' }, nodegroup: 'general', replicas: 6 },
          { name: 'agent', namespace: 'kube-system', labels: { app: 'agent' }, nodegroup: 'general', replicas: 0, kind: 'DaemonSet' },
        ],
        pdbs: [pdb, ...more],
      },
    ],
    parameters: amazonLinuxParameters(),
  };
}

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(pdb: SimPdb, more: SimPdb[] = [], faults: Faults = {}) {
  sim = await startSimulator(fleet(pdb, more), { faults });
  const kube = eksKubeApi('prod', { server: `${sim.url}/k8s/us-east-1/prod` }, () => eksToken('prod', 'us-east-1', async () => credentials));
  const cluster = sim.world.fleet.clusters[0]!;
  const state = sim.world.kubeOf(cluster);
  const node = [...state.nodes.keys()].sort()[0]!;
  const clock = sim.world.clock;
  const options = {
    now: () => clock.now(),
    // The drain's waits pass on the simulator's clock at once (it runs at wall speed otherwise): no test depends on how long a request takes.
    sleep: async (ms: number) => {
      clock.advance(ms);
      await new Promise((r) => setImmediate(r));
    },
    pollIntervalMs: 10_000,
  };
  return { sim, kube, cluster, state, node, options, lifecycle: sim.world.podLifecycle(cluster) };
}

const webOn = (state: KubeState, node: string) => state.podsOn(node).filter((p) => p.metadata.labels?.app === 'web');

describe('drainNode against the simulated Kubernetes API', () => {
  it('evicts every web pod through the eviction API, one at a time under a budget allowing one disruption', async () => {
    const { sim, kube, state, node, options, lifecycle } = await start({ name: 'web', namespace: 'shop', matchLabels: { app: 'web' }, maxUnavailable: 1 });
    const before = webOn(state, node).map((p) => `shop/${p.metadata.name}`);
    expect(before).toHaveLength(2);
    const progress: DrainProgress[] = [];
    const result = await drainNode(kube, node, { ...options, onProgress: (p) => progress.push(p) });

    expect(result.evicted.sort()).toEqual(before.sort());
    expect(result.deleted).toEqual([]);
    expect(webOn(state, node)).toEqual([]);
    // The node is cordoned and carries the drain's taint.
    const served = state.nodes.get(node)!;
    expect(served.spec?.unschedulable).toBe(true);
    expect(served.spec?.taints).toEqual([{ key: 'eks-ami-drift/replacing', value: 'true', effect: 'NoSchedule' }]);
    // The second eviction waited on the budget (429) until the first pod's replacement was ready.
    expect(lifecycle.evictions.filter((e) => e.status === 429).length).toBeGreaterThan(0);
    expect(progress.some((p) => p.waitingOnBudget.length === 1)).toBe(true);
    // Never more than one web pod unavailable: after every eviction, healthy >= desired (6 - 1).
    const accepted = lifecycle.evictions.filter((e) => e.status === 201);
    expect(accepted).toHaveLength(2);
    for (const e of accepted) expect(e.budget).toMatchObject({ name: 'web', desiredHealthy: 5, currentHealthy: 5, disruptionsAllowed: 0 });
    // No pod deleted outside the eviction API: no DELETE request, every removal by eviction.
    expect(sim.kubeLog.filter((c) => c.method === 'DELETE')).toEqual([]);
    expect(lifecycle.removals.map((r) => r.via)).toEqual(['eviction', 'eviction']);
    // The six web pods run again, none on the drained node.
    const web = [...state.pods.values()].filter((p) => p.metadata.labels?.app === 'web');
    expect(web).toHaveLength(6);
    expect(web.filter((p) => p.spec?.nodeName === node)).toEqual([]);
  });

  it('leaves DaemonSet and mirror pods on the node and never asks to evict them', async () => {
    const { kube, state, node, options } = await start({ name: 'web', namespace: 'shop', matchLabels: { app: 'web' }, maxUnavailable: 2 });
    // A static pod's mirror, as the kubelet creates it (annotation kubernetes.io/config.mirror).
    state.pods.set(KubeState.key('kube-system', `kube-proxy-${node}`), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `kube-proxy-${node}`, namespace: 'kube-system', annotations: { 'kubernetes.io/config.mirror': 'abc123' } },
      spec: { nodeName: node },
      status: { phase: 'Running' },
    });
    const agent = state.podsOn(node).find((p) => p.metadata.labels?.app === 'agent')!;
    const result = await drainNode(kube, node, options);

    expect(result.left.sort((a, b) => a.pod.localeCompare(b.pod))).toEqual([
      { pod: `kube-system/${agent.metadata.name}`, why: 'daemonset' },
      { pod: `kube-system/kube-proxy-${node}`, why: 'mirror' },
    ]);
    const evictionsAsked = state.writes.filter((w) => w.what.startsWith('POST pods/eviction')).map((w) => w.what);
    expect(evictionsAsked).toHaveLength(2);
    expect(evictionsAsked.some((w) => w.includes('kube-system/'))).toBe(false);
    expect(
      state
        .podsOn(node)
        .map((p) => p.metadata.labels?.app ?? 'mirror')
        .sort(),
    ).toEqual(['agent', 'mirror']);
  });

  it('fails after the drain timeout naming the pods a budget that never allows a disruption holds, leaving them running', async () => {
    const { sim, kube, state, node, options, lifecycle } = await start({ name: 'web', namespace: 'shop', matchLabels: { app: 'web' }, minAvailable: 6 });
    const pods = webOn(state, node).map((p) => `shop/${p.metadata.name}`);
    const error = await drainNode(kube, node, { ...options, timeoutMs: 15 * MINUTE }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DrainTimeoutError);
    const message = (error as Error).message;
    expect(message).toContain(`node ${node} was not drained within 15 minute(s): 2 pod(s) still there`);
    for (const p of pods) expect(message).toContain(p);
    expect(message).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(message).toContain('The disruption budget web needs 6 healthy pods and has 6 currently');
    // Both pods still run there; nothing was deleted; the node stays cordoned for a later run to find.
    expect(webOn(state, node)).toHaveLength(2);
    expect(lifecycle.removals).toEqual([]);
    expect(sim.kubeLog.filter((c) => c.method === 'DELETE')).toEqual([]);
    expect(state.nodes.get(node)!.spec?.unschedulable).toBe(true);
    // 429s retried with backoff (5, 10, 20, 40 s, then every minute): about 18 per pod over 15 minutes, not one per 10 s poll (90).
    const refusals = lifecycle.evictions.filter((e) => e.status === 429).length;
    expect(refusals).toBeGreaterThanOrEqual(2 * 16);
    expect(refusals).toBeLessThanOrEqual(2 * 19);
  });

  it('with force, deletes the pods a budget holds once the timeout has passed', async () => {
    const { kube, state, node, options, lifecycle } = await start({ name: 'web', namespace: 'shop', matchLabels: { app: 'web' }, minAvailable: 6 });
    const pods = webOn(state, node).map((p) => `shop/${p.metadata.name}`);
    const result = await drainNode(kube, node, { ...options, timeoutMs: 5 * MINUTE, force: true });
    expect(result.evicted).toEqual([]);
    expect(result.deleted.sort()).toEqual(pods.sort());
    expect(webOn(state, node)).toEqual([]);
    expect(lifecycle.removals.map((r) => r.via)).toEqual(['delete', 'delete']);
    expect(result.durationMs).toBeGreaterThanOrEqual(5 * MINUTE);
  });

  it('is idempotent on a node an earlier run cordoned and tainted, and stops when its signal aborts', async () => {
    const { kube, state, node, options } = await start({ name: 'web', namespace: 'shop', matchLabels: { app: 'web' }, minAvailable: 6 });
    const n = state.nodes.get(node)!;
    n.spec = { ...n.spec, unschedulable: true, taints: [{ key: 'dedicated', value: 'web', effect: 'NoSchedule' }, { ...DRAIN_TAINT }] };
    const controller = new AbortController();
    const run = drainNode(kube, node, { ...options, signal: controller.signal, onProgress: () => controller.abort(new Error('the run was cancelled')) });
    await expect(run).rejects.toThrow('the run was cancelled');
    // No second taint, no node patch at all.
    expect(state.writes.filter((w) => w.what.startsWith('PATCH nodes'))).toEqual([]);
    expect(state.nodes.get(node)!.spec?.taints).toHaveLength(2);
  });

  it('names the pods under two budgets, which the eviction API refuses whatever they allow (500)', async () => {
    const { kube, state, node, options, lifecycle } = await start({ name: 'web', namespace: 'shop', matchLabels: { app: 'web' }, maxUnavailable: 3 }, [
      { name: 'everything', namespace: 'shop', matchLabels: {}, maxUnavailable: 3 },
    ]);
    const error = await drainNode(kube, node, { ...options, timeoutMs: 2 * MINUTE }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(DrainTimeoutError);
    expect(error!.message).toContain('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    expect(lifecycle.evictions.every((e) => e.status === 500)).toBe(true);
    expect(webOn(state, node)).toHaveLength(2);
  });

  it('without the RBAC rule for pods/eviction, fails on the first eviction with the API server 403 and deletes nothing', async () => {
    const kubeAllow = ['list nodes', 'get nodes', 'patch nodes', 'list pods'];
    const { kube, state, node, options, lifecycle } = await start({ name: 'web', namespace: 'shop', matchLabels: { app: 'web' }, maxUnavailable: 1 }, [], {
      kubeAllow,
    });
    await expect(drainNode(kube, node, options)).rejects.toMatchObject({ code: 403 });
    expect(lifecycle.removals).toEqual([]);
    expect(webOn(state, node)).toHaveLength(2);
    // With the rule, the same drain goes through.
    sim!.setFaults({ kubeAllow: [...kubeAllow, 'create pods/eviction'] });
    expect((await drainNode(kube, node, options)).evicted).toHaveLength(2);
  });
});
