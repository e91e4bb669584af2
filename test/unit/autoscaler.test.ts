import { describe, expect, it } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { EKSClient, ListNodegroupsCommand } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import type { Clients } from '../../src/clients.js';
import type { AwsClients } from '../../src/fleet/aws-clients.js';
import { restoreRecorded } from '../../src/commands/restore.js';
import { settingsWith } from './settings.js';
import {
  findAutoscaler,
  findScalers,
  isStale,
  LEASE_ANNOTATION,
  pauseAutoscaler,
  PAUSED_ANNOTATION,
  PAUSED_AT_ANNOTATION,
  readPause,
  renewLease,
  restoreAutoscaler,
} from '../../src/effects/autoscaler.js';

const NOW = Date.parse('2026-11-21T00:00:00Z');
import type { KubeApi } from '../../src/model/kube-api.js';

/** A deployment store that applies JSON Patches like the API server, resourceVersion test included. */
function fakeKube(deployments: V1Deployment[]): KubeApi & { deployments: V1Deployment[]; patches: number } {
  const api = {
    deployments,
    patches: 0,
    listNodes: async () => [],
    listPods: async () => [],
    listPodDisruptionBudgets: async () => [],
    listWorkloads: async () => ({ deployments: [], statefulSets: [], daemonSets: [], replicaSets: [] }),
    listEvents: async () => [],
    listAllDeployments: async () => structuredClone(deployments),
    async readDeployment(namespace: string, name: string) {
      const d = deployments.find((x) => x.metadata?.namespace === namespace && x.metadata?.name === name);
      if (!d) throw Object.assign(new Error('not found'), { code: 404 });
      return structuredClone(d);
    },
    async patchDeployment(namespace: string, name: string, ops: object[]) {
      const d = deployments.find((x) => x.metadata?.namespace === namespace && x.metadata?.name === name)!;
      for (const op of ops as { op: string; path: string; value: unknown }[]) {
        if (op.op === 'test' && op.path === '/metadata/resourceVersion' && op.value !== d.metadata?.resourceVersion)
          throw Object.assign(new Error('conflict'), { code: 422 });
        const annotation = /^\/metadata\/annotations\/(.+)$/.exec(op.path)?.[1]?.replace(/~1/g, '/').replace(/~0/g, '~');
        if (op.op === 'test' && annotation && d.metadata?.annotations?.[annotation] !== op.value) throw Object.assign(new Error('test failed'), { code: 422 });
        if (op.op === 'add' && annotation) d.metadata!.annotations = { ...d.metadata!.annotations, [annotation]: op.value as string };
        if (op.path === '/spec/replicas') d.spec!.replicas = op.value as number;
        if (op.path === '/metadata/annotations') d.metadata!.annotations = op.value as Record<string, string>;
      }
      d.metadata!.resourceVersion = String(Number(d.metadata!.resourceVersion) + 1);
      api.patches++;
      return d;
    },
  };
  return api;
}

const ca = (replicas: number, extra: Partial<V1Deployment['metadata']> = {}): V1Deployment => ({
  metadata: { name: 'cluster-autoscaler', namespace: 'kube-system', labels: { app: 'cluster-autoscaler' }, resourceVersion: '1', ...extra },
  spec: { replicas, selector: {}, template: {} },
});
const ref = { namespace: 'kube-system', name: 'cluster-autoscaler' };

describe('cluster-autoscaler pause and restore', () => {
  it('records the count on the deployment, scales to zero, and restores exactly that count', async () => {
    const kube = fakeKube([ca(3)]);
    expect(await pauseAutoscaler(kube, ref, NOW)).toBe(3);
    expect(kube.deployments[0]?.spec?.replicas).toBe(0);
    expect(kube.deployments[0]?.metadata?.annotations?.[PAUSED_ANNOTATION]).toBe('3');
    expect(await restoreAutoscaler(kube, ref)).toEqual({ kind: 'restored', replicas: 3 });
    expect(kube.deployments[0]?.spec?.replicas).toBe(3);
    expect(kube.deployments[0]?.metadata?.annotations?.[PAUSED_ANNOTATION]).toBeUndefined();
    // twice is harmless
    expect(await restoreAutoscaler(kube, ref, 3)).toEqual({ kind: 'already-restored' });
    expect(kube.deployments[0]?.spec?.replicas).toBe(3);
  });

  it('keeps the count an earlier, interrupted run recorded, never 0', async () => {
    const kube = fakeKube([ca(0, { annotations: { [PAUSED_ANNOTATION]: '2', [PAUSED_AT_ANNOTATION]: '2026-11-20T23:00:00.000Z' } })]);
    expect(await pauseAutoscaler(kube, ref, NOW)).toBe(2);
    // it takes the pause over: still at zero, same count and start, its own lease
    expect(kube.deployments[0]?.spec?.replicas).toBe(0);
    expect(kube.deployments[0]?.metadata?.annotations).toEqual({
      [PAUSED_ANNOTATION]: '2',
      [PAUSED_AT_ANNOTATION]: '2026-11-20T23:00:00.000Z',
      [LEASE_ANNOTATION]: new Date(NOW).toISOString(),
    });
    expect(await restoreAutoscaler(kube, ref)).toEqual({ kind: 'restored', replicas: 2 });
  });

  it('leaves a deployment someone scaled up meanwhile at its count, and drops the record', async () => {
    const kube = fakeKube([ca(2)]);
    await pauseAutoscaler(kube, ref, NOW);
    kube.deployments[0]!.spec!.replicas = 5;
    expect(await restoreAutoscaler(kube, ref)).toEqual({ kind: 'left-alone', replicas: 5, recorded: 2 });
    expect(kube.deployments[0]?.spec?.replicas).toBe(5);
    expect(kube.deployments[0]?.metadata?.annotations?.[PAUSED_ANNOTATION]).toBeUndefined();
  });

  it('reads again when someone wrote between its read and its patch', async () => {
    const kube = fakeKube([ca(2)]);
    const read = kube.readDeployment.bind(kube);
    let first = true;
    kube.readDeployment = async (ns, name) => {
      const d = await read(ns, name);
      if (first) {
        first = false;
        kube.deployments[0]!.metadata!.resourceVersion = '7'; // a write by someone else
      }
      return d;
    };
    expect(await pauseAutoscaler(kube, ref, NOW)).toBe(2);
    expect(kube.deployments[0]?.spec?.replicas).toBe(0);
  });

  it('finds it by AWS’s labels or the Helm chart’s, and refuses to guess between two', async () => {
    expect(await findAutoscaler(fakeKube([ca(1)]))).toEqual(ref);
    const helm = ca(1, { name: 'cluster-autoscaler-aws-cluster-autoscaler', labels: { 'app.kubernetes.io/name': 'aws-cluster-autoscaler' } });
    expect(await findAutoscaler(fakeKube([helm]))).toEqual({ namespace: 'kube-system', name: 'cluster-autoscaler-aws-cluster-autoscaler' });
    expect(await findAutoscaler(fakeKube([]))).toBeUndefined();
    await expect(findAutoscaler(fakeKube([ca(1), helm]))).rejects.toThrow(
      'found more than one cluster-autoscaler (kube-system/cluster-autoscaler, kube-system/cluster-autoscaler-aws-cluster-autoscaler): ' +
        'name the one to pause with the cluster-autoscaler input (namespace/name)',
    );
  });

  /** A Deployment in `namespace` with one container: its image, command and args. */
  const deployment = (
    namespace: string,
    name: string,
    labels: Record<string, string>,
    container: { image: string; command?: string[]; args?: string[] },
  ): V1Deployment => ({
    metadata: { name, namespace, labels, resourceVersion: '1' },
    spec: { replicas: 1, selector: {}, template: { spec: { containers: [{ name: 'main', ...container }] } } },
  });
  const image = 'registry.k8s.io/autoscaling/cluster-autoscaler:v1.32.1';
  const command = ['./cluster-autoscaler', '--v=4', '--cloud-provider=aws', '--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled'];

  it('finds it in any namespace, each way its manifests and chart make it, and says how', async () => {
    const found = async (...ds: V1Deployment[]) => findScalers(fakeKube([deployment('apps', 'web', { app: 'web' }, { image: 'nginx:1' }), ...ds]));
    // AWS's example manifest
    expect(await found(deployment('kube-system', 'cluster-autoscaler', { app: 'cluster-autoscaler' }, { image, command }))).toEqual({
      autoscaler: { namespace: 'kube-system', name: 'cluster-autoscaler' },
      by: 'label app=cluster-autoscaler',
      karpenter: [],
    });
    // the Helm chart, `helm install my-release autoscaler/cluster-autoscaler` into the current namespace
    const chartLabels = { 'app.kubernetes.io/instance': 'my-release', 'app.kubernetes.io/name': 'aws-cluster-autoscaler' };
    expect(await found(deployment('default', 'my-release-aws-cluster-autoscaler', chartLabels, { image, command }))).toEqual({
      autoscaler: { namespace: 'default', name: 'my-release-aws-cluster-autoscaler' },
      by: 'label app.kubernetes.io/name=aws-cluster-autoscaler',
      karpenter: [],
    });
    // by the chart's name alone (labels changed), and the manifest's
    expect((await found(deployment('ops', 'infra-aws-cluster-autoscaler', {}, { image: 'mirror.example/ca:1' }))).by).toBe('name infra-aws-cluster-autoscaler');
    expect((await found(deployment('ops', 'cluster-autoscaler', {}, { image: 'mirror.example/ca:1' }))).by).toBe('name cluster-autoscaler');
    // by its image, today's and the older registry's, tag or digest
    expect(await found(deployment('platform', 'scaler', {}, { image }))).toEqual({
      autoscaler: { namespace: 'platform', name: 'scaler' },
      by: 'image registry.k8s.io/autoscaling/cluster-autoscaler',
      karpenter: [],
    });
    expect((await found(deployment('platform', 'scaler', {}, { image: 'k8s.gcr.io/autoscaling/cluster-autoscaler@sha256:abc' }))).by).toBe(
      'image k8s.gcr.io/autoscaling/cluster-autoscaler',
    );
    // a mirrored image: by the cluster-autoscaler binary started with --cloud-provider=aws (either spelling)
    const mirrored = '123456789012.dkr.ecr.us-east-1.amazonaws.com/mirror/cluster-autoscaler:v1.32.1';
    expect((await found(deployment('platform', 'scaler', {}, { image: mirrored, command }))).by).toBe('its command, cluster-autoscaler --cloud-provider=aws');
    expect(
      (await found(deployment('platform', 'scaler', {}, { image: mirrored, args: ['/cluster-autoscaler', '--cloud-provider', 'aws'] }))).autoscaler,
    ).toEqual({
      namespace: 'platform',
      name: 'scaler',
    });
    // not this cluster's: a cluster-autoscaler for another provider (Cluster API, scaling other clusters)
    expect(
      await found(
        deployment('capi', 'cluster-autoscaler', { app: 'cluster-autoscaler' }, { image, command: ['./cluster-autoscaler', '--cloud-provider=clusterapi'] }),
      ),
    ).toEqual({
      karpenter: [],
    });
    expect(await found()).toEqual({ karpenter: [] });
  });

  it('recognises Karpenter by its chart’s label, image or name, and never takes it for cluster-autoscaler', async () => {
    const karpenter = deployment(
      'kube-system',
      'karpenter',
      { 'app.kubernetes.io/name': 'karpenter', 'app.kubernetes.io/instance': 'karpenter' },
      { image: 'public.ecr.aws/karpenter/controller:1.6.0' },
    );
    expect(await findScalers(fakeKube([karpenter]))).toEqual({ karpenter: ['kube-system/karpenter'] });
    const renamed = deployment('karpenter', 'nodes', {}, { image: 'public.ecr.aws/karpenter/controller:1.6.0@sha256:abc' });
    const ca1 = deployment('default', 'my-release-aws-cluster-autoscaler', { 'app.kubernetes.io/name': 'aws-cluster-autoscaler' }, { image, command });
    expect(await findScalers(fakeKube([renamed, ca1]))).toEqual({
      autoscaler: { namespace: 'default', name: 'my-release-aws-cluster-autoscaler' },
      by: 'label app.kubernetes.io/name=aws-cluster-autoscaler',
      karpenter: ['karpenter/nodes'],
    });
  });

  it('names both when two are found in different namespaces', async () => {
    const one = deployment('kube-system', 'cluster-autoscaler', { app: 'cluster-autoscaler' }, { image, command });
    const two = deployment('default', 'my-release-aws-cluster-autoscaler', { 'app.kubernetes.io/name': 'aws-cluster-autoscaler' }, { image, command });
    await expect(findScalers(fakeKube([one, two]))).rejects.toThrow(
      'found more than one cluster-autoscaler (kube-system/cluster-autoscaler, default/my-release-aws-cluster-autoscaler): ' +
        'name the one to pause with the cluster-autoscaler input (namespace/name)',
    );
  });

  it('renews the lease only while the pause stands, and tells a live pause from one whose job is gone', async () => {
    const kube = fakeKube([ca(2)]);
    await pauseAutoscaler(kube, ref, NOW);
    await renewLease(kube, ref, 2, NOW + 30_000);
    const pause = await readPause(kube, ref);
    expect(pause).toEqual({ ...ref, replicas: 2, current: 0, pausedAt: new Date(NOW).toISOString(), leaseRenewedAt: new Date(NOW + 30_000).toISOString() });
    // stale only when the lease is older than ten minutes and no update runs
    expect(isStale(pause!, NOW + 30_000 + 9 * 60_000, false)).toBe(false);
    expect(isStale(pause!, NOW + 30_000 + 11 * 60_000, false)).toBe(true);
    expect(isStale(pause!, NOW + 30_000 + 11 * 60_000, true)).toBe(false);
    expect(isStale({ ...pause!, leaseRenewedAt: null }, NOW, false)).toBe(true);
    // once restored (by the post step, a person, another run), a late renewal writes nothing
    await restoreAutoscaler(kube, ref);
    await expect(renewLease(kube, ref, 2, NOW + 60_000)).rejects.toMatchObject({ code: 422 });
    expect(kube.deployments[0]?.metadata?.annotations).toEqual({});
    expect(await readPause(kube, ref)).toBeUndefined();
  });
});

/** EKS updating no node group of the cluster (the post step asks before it restores). */
const eks = new EKSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
mockClient(eks).on(ListNodegroupsCommand).resolves({ nodegroups: [] });
const idleEks = { eks } as unknown as AwsClients;

describe("the post step's restore", () => {
  const record = (cluster: string) => ({ cluster, region: 'us-east-1', namespace: 'kube-system', name: 'cluster-autoscaler', replicas: 3 });

  it('restores every recorded pause side by side; one that never answers is cut at its deadline, named, and keeps its record', async () => {
    const paused = () => fakeKube([ca(0, { annotations: { [PAUSED_ANNOTATION]: '3' } })]);
    const hung = paused();
    // `hung` answers nothing, ever, and ignores its signal: only the deadline can end the wait.
    const kubes: Record<string, KubeApi & { deployments: V1Deployment[] }> = {
      a: paused(),
      b: paused(),
      hung: { ...hung, readDeployment: () => new Promise<V1Deployment>(() => undefined) },
    };
    const signals = new Map<string, AbortSignal | undefined>();
    const kubeFor = (cluster: { name: string }, signal?: AbortSignal) => {
      signals.set(cluster.name, signal);
      return kubes[cluster.name]!;
    };
    const clients: Clients = {
      clientsFor: () => idleEks,
      github: async () => null,
      kube: async () => kubeFor,
    };
    const logs: string[] = [];
    const warnings: string[] = [];
    const started = Date.now();
    await restoreRecorded(
      settingsWith({ kubeconfig: '/dev/null' }),
      clients,
      ['hung', 'a', 'b'].map(record),
      { log: (l) => logs.push(l), warn: (w) => warnings.push(w) },
      300,
    );
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1500);
    expect(logs.sort()).toEqual([
      'a: cluster-autoscaler kube-system/cluster-autoscaler: restored to 3 replicas',
      'b: cluster-autoscaler kube-system/cluster-autoscaler: restored to 3 replicas',
    ]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^hung: cluster-autoscaler kube-system\/cluster-autoscaler \(us-east-1\): could not be restored: not done within the post step's 0.3 s\./,
    );
    expect(warnings[0]).toContain('kubectl -n kube-system scale deployment cluster-autoscaler --replicas=3');
    expect(warnings[0]).toContain('command: restore');
    expect(kubes.a?.deployments[0]?.spec?.replicas).toBe(3);
    expect(hung.deployments[0]?.metadata?.annotations?.[PAUSED_ANNOTATION]).toBe('3');
    // each client was made with its cluster's own signal: the hung one's aborted at its deadline
    expect(new Set(signals.values()).size).toBe(3);
    expect(signals.get('hung')?.aborted).toBe(true);
  });

  it('stops retrying a cluster once its deadline passes, and names the last error', async () => {
    let tries = 0;
    const down = {
      ...fakeKube([]),
      readDeployment: () => (tries++, Promise.reject(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }))),
    };
    const clients: Clients = { clientsFor: () => idleEks, github: async () => null, kube: async () => () => down };
    const warnings: string[] = [];
    const started = Date.now();
    await restoreRecorded(settingsWith({ kubeconfig: '/dev/null' }), clients, [record('down')], { log: () => undefined, warn: (w) => warnings.push(w) }, 500);
    expect(Date.now() - started).toBeLessThan(1500);
    // the first retry waits 2 s: past the deadline, so no second try follows
    await new Promise((r) => setTimeout(r, 2500));
    expect(tries).toBe(1);
    expect(warnings[0]).toContain("not done within the post step's 0.5 s (last: connect ECONNREFUSED 10.0.0.1:443)");
  });
});
