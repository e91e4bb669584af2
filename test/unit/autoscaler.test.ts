import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
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

import { describeWriter, gitOpsFinding, gitOpsOwner, replicasWriter } from '../../src/decision/gitops.js';
import { watchPause } from '../../src/effects/autoscaler-watch.js';

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

/** EKS updating no node group of the cluster (the post step asks before it restores), and no self-managed group left mid-replacement. */
const eks = new EKSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
mockClient(eks).on(ListNodegroupsCommand).resolves({ nodegroups: [] });
const autoscaling = new AutoScalingClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
mockClient(autoscaling).on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
const idleEks = { eks, autoscaling } as unknown as AwsClients;

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
      member: () => Promise.reject(new Error('no accounts')),
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
    const clients: Clients = {
      clientsFor: () => idleEks,
      github: async () => null,
      kube: async () => () => down,
      member: () => Promise.reject(new Error('no accounts')),
    };
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

describe('a cluster-autoscaler kept by Argo CD or Flux', () => {
  const argoManaged = (extra: Partial<V1Deployment['metadata']> = {}) =>
    ca(2, { annotations: { 'argocd.argoproj.io/tracking-id': 'platform-ca:apps/Deployment:kube-system/cluster-autoscaler' }, ...extra });

  it('names Argo CD by its tracking annotation, and the setting that keeps its self-heal off the pause', () => {
    const owner = gitOpsOwner(argoManaged());
    expect(owner).toEqual(expect.objectContaining({ tool: 'Argo CD', owner: 'Application platform-ca', by: 'annotation argocd.argoproj.io/tracking-id' }));
    const line = gitOpsFinding('kube-system/cluster-autoscaler', owner!);
    expect(line).toContain('cluster-autoscaler kube-system/cluster-autoscaler is kept by Argo CD (Application platform-ca');
    expect(line).toContain('`ignoreDifferences` on `/spec/replicas`');
    expect(line).toContain('`RespectIgnoreDifferences=true`');
  });

  it('takes the instance label as Argo CD 2.x only where kubectl applied it and Helm did not install it', () => {
    const instance = { app: 'cluster-autoscaler', 'app.kubernetes.io/instance': 'platform-ca' };
    const applied = { 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
    expect(gitOpsOwner(ca(2, { labels: instance, annotations: applied }))?.owner).toBe('Application platform-ca');
    // `helm install` sets the same label, and its release annotation
    expect(gitOpsOwner(ca(2, { labels: instance }))).toBeUndefined();
    expect(gitOpsOwner(ca(2, { labels: instance, annotations: { ...applied, 'meta.helm.sh/release-name': 'platform-ca' } }))).toBeUndefined();
    // an Argo CD field manager settles it
    const managedFields = [{ manager: 'argocd-controller', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }];
    expect(gitOpsOwner(ca(2, { labels: instance, managedFields }))?.by).toBe('label app.kubernetes.io/instance and field manager argocd-controller');
  });

  it('names Flux by its Kustomization or HelmRelease labels, and says when the Deployment is applied only if absent', () => {
    const ks = { app: 'cluster-autoscaler', 'kustomize.toolkit.fluxcd.io/name': 'infra', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' };
    const kept = gitOpsOwner(ca(2, { labels: ks }))!;
    expect(kept).toEqual(expect.objectContaining({ tool: 'Flux', owner: 'Kustomization flux-system/infra', leavesItAlone: null }));
    expect(gitOpsFinding('kube-system/cluster-autoscaler', kept)).toContain('`spec.ignore: [{paths: ["/spec/replicas"]');
    const once = gitOpsOwner(ca(2, { labels: ks, annotations: { 'kustomize.toolkit.fluxcd.io/ssa': 'IfNotPresent' } }))!;
    expect(once.leavesItAlone).toBe('kustomize.toolkit.fluxcd.io/ssa: IfNotPresent');
    expect(gitOpsFinding('kube-system/cluster-autoscaler', once)).toContain('so Flux should leave the pause alone');
    const hr = { app: 'cluster-autoscaler', 'helm.toolkit.fluxcd.io/name': 'ca', 'helm.toolkit.fluxcd.io/namespace': 'kube-system' };
    const helm = gitOpsOwner(ca(2, { labels: hr }))!;
    expect(helm.owner).toBe('HelmRelease kube-system/ca');
    expect(gitOpsFinding('kube-system/cluster-autoscaler', helm)).toContain('`spec.driftDetection.ignore: [{paths: ["/spec/replicas"]');
    expect(gitOpsOwner(ca(2))).toBeUndefined();
  });

  it('names who set spec.replicas from managedFields: the manager that owns the field', () => {
    const managedFields = [
      { manager: 'argocd-controller', operation: 'Apply', time: new Date('2026-11-21T00:00:05Z'), fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
      { manager: 'eks-ami-drift', operation: 'Update', time: new Date('2026-11-21T00:00:09Z'), fieldsV1: { 'f:metadata': {} } },
    ];
    const w = replicasWriter(ca(2, { managedFields }));
    expect(w).toEqual({ manager: 'argocd-controller', operation: 'Apply', time: '2026-11-21T00:00:05.000Z' });
    expect(describeWriter(w)).toBe('argocd-controller (Argo CD)');
    expect(describeWriter(replicasWriter(ca(2)))).toBe('an unknown writer (no managedFields entry owns spec.replicas)');
  });

  it('notices a revert at the next poll, pauses again once per node group, then lets it run and counts how long', async () => {
    let now = NOW;
    const kube = fakeKube([argoManaged()]);
    await pauseAutoscaler(kube, ref, now);
    const warnings: string[] = [];
    const watch = watchPause(() => kube, ref, 'prod', now, { now: () => now, log: () => undefined, warn: (l) => warnings.push(l) }, gitOpsOwner(argoManaged()));
    const revert = (at: number) => {
      const d = kube.deployments[0]!;
      d.spec!.replicas = 2;
      d.metadata!.managedFields = [{ manager: 'argocd-controller', operation: 'Apply', time: new Date(at), fieldsV1: { 'f:spec': { 'f:replicas': {} } } }];
    };
    now += 30_000;
    await watch.check('general');
    expect(watch.reverts).toEqual([]);
    revert(now + 5_000); // Argo CD's self-heal, 5 s after the pause
    now += 30_000; // the next poll
    await watch.check('general');
    expect(kube.deployments[0]?.spec?.replicas).toBe(0);
    expect(kube.deployments[0]?.metadata?.annotations?.[PAUSED_ANNOTATION]).toBe('2');
    expect(watch.reverts).toEqual([expect.objectContaining({ by: 'argocd-controller (Argo CD)', replicas: 2, nodegroup: 'general', action: 're-paused' })]);
    expect(warnings[0]).toContain('prod: cluster-autoscaler kube-system/cluster-autoscaler was scaled back to 2 by argocd-controller (Argo CD) during general');
    expect(warnings[0]).toContain('`RespectIgnoreDifferences=true`');
    // undone again during the same node group: not fought, warned once
    revert(now + 5_000);
    now += 30_000;
    await watch.check('general');
    now += 30_000;
    await watch.check('general');
    expect(kube.deployments[0]?.spec?.replicas).toBe(2);
    expect(watch.reverts.map((r) => r.action)).toEqual(['re-paused', 'left-running']);
    expect(warnings.filter((w) => w.includes('not fighting a controller'))).toHaveLength(1);
    // the next node group gets its one re-pause
    await watch.check('batch');
    expect(kube.deployments[0]?.spec?.replicas).toBe(0);
    watch.stop(now);
    // ran 25 s (reverted 5 s into a 30 s poll), then 55 s (reverted 5 s into the next, re-paused two polls on)
    expect(watch.runningMs()).toBe(80_000);
    expect(watch.writers()).toEqual(['argocd-controller (Argo CD)']);
  });
});
