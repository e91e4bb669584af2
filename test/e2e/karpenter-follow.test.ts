import { afterEach, describe, expect, it } from '@jest/globals';
import { EKSClient } from '@aws-sdk/client-eks';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { ClusterState } from '../../src/model/fleet.js';
import type { Manifest, PlanItem } from '../../src/model/plan.js';
import type { UpgradeSettings } from '../../src/model/settings.js';
import type { AwsClients } from '../../src/fleet/aws-clients.js';
import { eksKubeApi, eksToken } from '../../src/fleet/kube-client.js';
import { kindById, planNodegroup } from '../../src/kinds/registry.js';
import { upgradeCluster } from '../../src/effects/cluster-upgrade.js';
import type { Executor } from '../../src/effects/executor.js';
import { upgradeEntry } from '../../src/model/upgrade-report.js';
import { addPinnedNodeClasses } from '../../src/commands/upgrade-node-classes.js';
import { amazonLinuxParameters } from '../sim/releases.js';
import { placePods } from '../sim/pods.js';
import { readmeRbacRules } from './readme.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import type { SimKarpenter, SimNodePool } from '../sim/karpenter.js';

/*
 * The upgrade of a Karpenter node class pinned in the cluster's manifest (issue 25, item 3), against the
 * simulator's Kubernetes API (test/sim/karpenter.ts, karpenter-drift.ts): GitOps applies the merged
 * alias after a delay (or never), Karpenter re-resolves status.amis and replaces drifted NodeClaims
 * within the NodePool's budgets on the virtual clock. The plan is read as the upgrade command reads it
 * (addPinnedNodeClasses, the karpenter kind's plan), then the cluster's upgrade runs the kind's executor.
 * The manifest object is given as the shared interface has it (Manifest.nodeClasses): its parsing is
 * another branch's.
 */

const credentials = { accessKeyId: 'AKIASIMULATOR0000000', secretAccessKey: 'simulator-secret-key-not-real-0000000000' };
const FILE = 'deploy/karpenter/general.yaml';
const OLD = 'al2023@v20260505';
const NEW = 'al2023@v20260625';
const MINUTE = 60_000;

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const pool = (over: Partial<SimNodePool> = {}): SimNodePool => ({
  name: 'general',
  nodeClass: 'general',
  requirements: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }],
  nodes: [{ count: 4 }],
  ...over,
});

async function start(karpenter: Partial<SimKarpenter> = {}, settings: Partial<UpgradeSettings> = {}, kubeAllow?: string[]) {
  sim = await startSimulator(
    {
      clusters: [
        {
          name: 'kp',
          region: 'us-east-1',
          version: '1.35',
          nodegroups: [],
          karpenter: {
            nodeClasses: [{ name: 'general', alias: OLD }],
            nodePools: [pool()],
            gitops: [{ nodeClass: 'general', alias: NEW, afterMinutes: 3 }],
            replaceMinutes: 2,
            ...karpenter,
          },
        },
      ],
      parameters: amazonLinuxParameters(),
    },
    kubeAllow ? { faults: { kubeAllow } } : {},
  );
  const s = sim;
  const kube = eksKubeApi('kp', { server: `${s.url}/k8s/us-east-1/kp` }, () => eksToken('kp', 'us-east-1', async () => credentials));
  // The NodeClaims each read of the upgrade saw: how many Karpenter runs at once.
  const claimsSeen: number[] = [];
  const list = kube.listClusterObjects.bind(kube);
  kube.listClusterObjects = async (group, version, plural) => {
    const items = await list(group, version, plural);
    if (plural === 'nodeclaims') claimsSeen.push(items.length);
    return items;
  };
  const clock = s.world.clock;
  const log: string[] = [];
  // As readRegion reads it: no EKS node group (nodegroupNames, which the pause's release asks EKS about).
  const cluster: ClusterState = { name: 'kp', region: 'us-east-1', version: '1.35', nodegroups: [], nodegroupNames: [] };
  const manifest: Manifest = { cluster: 'kp', region: 'us-east-1', nodegroups: {}, nodeClasses: { general: { alias: NEW, file: FILE, line: 4 } } };
  const upgradeSettings: UpgradeSettings = {
    dryRun: false,
    force: false,
    releaseVersion: null,
    followControlPlane: false,
    pauseClusterAutoscaler: true,
    clusterAutoscaler: 'auto',
    maxParallel: 1,
    waitTimeoutMs: 30 * MINUTE,
    pollIntervalMs: 30_000,
    healthTimeoutMs: 10 * MINUTE,
    ...settings,
  };
  const deps = {
    // EKS, for the pause's release (it asks whether a node group update still runs); nothing else of AWS is used.
    clientsFor: () =>
      ({
        eks: new EKSClient({ region: 'us-east-1', endpoint: s.url, credentials, maxAttempts: 1 }),
        // Where a failed health gate writes its mark (src/effects/karpenter-follow.ts).
        ssm: new SSMClient({ region: 'us-east-1', endpoint: s.url, credentials, maxAttempts: 1 }),
      }) as unknown as AwsClients,
    kubeFor: () => kube,
    sha: 'abc',
    now: () => clock.now(),
    // Waits pass on the simulator's clock at once: no test depends on how long a request takes.
    sleep: async (ms: number) => {
      clock.advance(ms);
      await new Promise((r) => setImmediate(r));
    },
    log: (line: string) => log.push(line),
    warn: (line: string) => log.push(`warning: ${line}`),
    recordPause: () => undefined,
  };
  const read = () => addPinnedNodeClasses([cluster], new Map([[cluster, manifest]]), () => kube);
  /** Reads and plans as the upgrade command does, then runs the cluster's upgrade. */
  const upgrade = async () => {
    const failed = await addPinnedNodeClasses([cluster], new Map([[cluster, manifest]]), () => kube);
    expect(failed).toEqual([]);
    const ng = cluster.nodegroups.find((n) => n.name === 'general')!;
    const item = planNodegroup({
      cluster,
      ng,
      nodeClassPin: manifest.nodeClasses!.general!,
      manifestPresent: true,
      explicit: null,
      followControlPlane: false,
      latest: () => undefined,
    });
    // As the upgrade command does: only an update goes to the cluster's upgrade.
    if (item.action !== 'update') return { item, result: null };
    const kind = kindById(item.nodeKind);
    const result = await upgradeCluster(cluster, [{ item, executor: await kind.executor!(), healthTarget: kind.healthTarget(item) }], upgradeSettings, deps);
    return { item, result };
  };
  const simCluster = s.world.fleet.clusters[0]!;
  const state = s.world.kubeOf(simCluster);
  return {
    s,
    upgrade,
    read,
    cluster,
    manifest,
    deps,
    upgradeSettings,
    kube,
    log,
    state,
    claimsSeen,
    autoscalerReplicas: () => s.world.autoscalerReplicas(simCluster),
  };
}

/** The images of the simulator's NodeClaims now, read through its API. */
async function claimImages(s: Simulator): Promise<string[]> {
  const res = await fetch(`${s.url}/k8s/us-east-1/kp/apis/karpenter.sh/v1/nodeclaims`, {
    headers: { authorization: `Bearer ${(await eksToken('kp', 'us-east-1', async () => credentials)).token}` },
  });
  const body = (await res.json()) as { items: { status: { imageID: string } }[] };
  return body.items.map((i) => i.status.imageID);
}

async function resolvedImages(s: Simulator): Promise<string[]> {
  const res = await fetch(`${s.url}/k8s/us-east-1/kp/apis/karpenter.k8s.aws/v1/ec2nodeclasses`, {
    headers: { authorization: `Bearer ${(await eksToken('kp', 'us-east-1', async () => credentials)).token}` },
  });
  const body = (await res.json()) as { items: { status: { amis: { id: string }[] } }[] };
  return body.items[0]!.status.amis.map((a) => a.id);
}

describe('upgrade of a pinned Karpenter node class: follows GitOps and Karpenter’s drift', () => {
  it('waits for GitOps, follows the drift to every node on the new image, passes the health gate, never pauses cluster-autoscaler', async () => {
    const { s, upgrade, log, state, autoscalerReplicas } = await start();
    const replicasBefore = autoscalerReplicas();
    // AWS's example manifest (the simulator's default cluster-autoscaler, test/sim/fleet.ts) runs one replica.
    expect(replicasBefore).toBe(1);
    const before = await claimImages(s);
    const { item, result: r } = await upgrade();
    const result = r!;

    expect(item).toMatchObject({
      nodegroup: 'general',
      nodeKind: 'karpenter',
      action: 'update',
      current: { releaseVersion: OLD },
      target: { releaseVersion: NEW },
    });
    expect(item.reason).toContain(`would wait for GitOps to apply the EC2NodeClass in ${FILE} (${NEW})`);
    expect(result.nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([['general', 'upgraded']]);
    expect(result.nodegroups[0]!.reason).toContain(`${OLD} → ${NEW}, 4 NodeClaim(s) on its images (4 replaced by Karpenter); health gate passed`);
    // The waits and the progress, at the poll interval.
    expect(
      log.some((l) => l.includes(`kp/general: waiting for GitOps to apply ${NEW} (the EC2NodeClass in ${FILE}): the cluster's EC2NodeClass names ${OLD}`)),
    ).toBe(true);
    expect(log).toContain(`kp/general: the EC2NodeClass names ${NEW} and resolves 5 image(s); 4 of 5 NodeClaim(s) drifted`);
    // One replacement at a time (10% of 4, rounded up), each beside the node it replaces until that one is deleted.
    expect(log.filter((l) => l.includes('drift ·')).map((l) => l.replace(/ · [^·]+$/, ''))).toEqual([
      'kp/general: drift · drifted 4 · replaced 0/4 · nodes on the new image 1/5',
      'kp/general: drift · drifted 3 · replaced 1/4 · nodes on the new image 2/5',
      'kp/general: drift · drifted 2 · replaced 2/4 · nodes on the new image 3/5',
      'kp/general: drift · drifted 1 · replaced 3/4 · nodes on the new image 4/5',
    ]);
    expect(log.some((l) => l.startsWith('kp/general: health gate passed'))).toBe(true);
    // Every NodeClaim now runs an image the class resolves, none it ran before.
    const after = await claimImages(s);
    const resolved = await resolvedImages(s);
    expect(after).toHaveLength(4);
    expect(after.every((i) => resolved.includes(i) && !before.includes(i))).toBe(true);
    // cluster-autoscaler untouched: not paused, no write to any Deployment.
    expect(result.autoscaler).toBeNull();
    expect(autoscalerReplicas()).toBe(replicasBefore);
    expect(state.writes.filter((w) => w.what.includes('deployments'))).toEqual([]);
    expect(log).toContain("kp: cluster-autoscaler not paused: the plan follows only Karpenter's node classes, whose nodes Karpenter scales");
  });

  it("records the health gate's mark when the class's workloads do not come back, for later stages to wait on", async () => {
    const { s, upgrade, state, deps, kube } = await start({}, { healthTimeoutMs: 5 * MINUTE });
    await kube.listNodes(''); // the simulator makes Karpenter's nodes at the first request
    // A Deployment's pods on the class's nodes, Ready before the upgrade; from the first wait on, they never are again.
    const nodes = [...state.nodes.values()].filter((n) => n.metadata.labels?.['karpenter.k8s.aws/ec2nodeclass'] === 'general').map((n) => n.metadata.name);
    const rs = { kind: 'ReplicaSet', name: 'web-1', uid: 'rs-uid', controller: true };
    // Registered as the simulator's own workloads are, so the API serves its status counted from its pods (test/sim/kube.ts servedWorkload).
    state.workloads.push({ kind: 'Deployment', namespace: 'shop', name: 'web', nodegroup: '' });
    state.deployments.set('shop/web', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop', uid: 'dep-uid' },
      spec: { replicas: 2 },
    });
    state.replicasets.set('shop/web-1', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web-1', namespace: 'shop', uid: 'rs-uid', ownerReferences: [{ kind: 'Deployment', name: 'web', uid: 'dep-uid', controller: true }] },
      spec: { replicas: 2 },
    });
    placePods(state, s.world.clock, { namespace: 'shop', name: 'web' }, 2, nodes.slice(0, 2));
    for (const key of ['shop/web-0', 'shop/web-1']) {
      const pod = state.pods.get(key)!;
      pod.metadata.ownerReferences = [rs];
    }
    const sleep = deps.sleep;
    deps.sleep = async (ms: number) => {
      for (const key of ['shop/web-0', 'shop/web-1']) state.lives.get(key)!.degraded = true;
      await sleep(ms);
    };
    const { result } = await upgrade();
    expect(result!.nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([['general', 'unhealthy']]);
    const parameter = '/eks-ami-drift/unhealthy/kp/ec2nodeclass.general';
    expect(result!.nodegroups[0]!.health?.parameter).toBe(parameter);
    expect(JSON.parse(s.world.parameters.get('us-east-1', parameter)!.value)).toMatchObject({ target: NEW, cluster: 'kp', nodegroup: 'ec2nodeclass.general' });
    expect(result!.nodegroups[0]!.wayBack).toContain(`aws ssm delete-parameter --name ${parameter}`);
  });

  it('leaves the pace to the NodePool’s budget: with nodes "1", never more than one replacement at a time', async () => {
    const { upgrade, claimsSeen } = await start({ nodePools: [pool({ budgets: [{ nodes: '1' }] })] });
    const { result } = await upgrade();
    expect(result!.nodegroups.map((n) => n.result)).toEqual(['upgraded']);
    // Four nodes, one replacement launched beside its old node at a time: five NodeClaims at most, and five seen.
    expect(Math.max(...claimsSeen)).toBe(5);
    expect(claimsSeen.at(-1)).toBe(4);
  });

  it('with nodes "50%", two replacements at a time', async () => {
    const { upgrade, claimsSeen } = await start({ nodePools: [pool({ budgets: [{ nodes: '50%' }] })] });
    const { result } = await upgrade();
    expect(result!.nodegroups.map((n) => n.result)).toEqual(['upgraded']);
    expect(Math.max(...claimsSeen)).toBe(6);
  });

  it('times out with the budget that blocks drift named, and how many are still drifted, when the NodePool allows no disruption', async () => {
    const { s, upgrade } = await start({ nodePools: [pool({ budgets: [{ nodes: '0' }] })] }, { waitTimeoutMs: 20 * MINUTE });
    const before = await claimImages(s);
    const { result } = await upgrade();
    const entry = result!.nodegroups[0]!;
    expect(entry.result).toBe('timed-out');
    expect(entry.reason).toContain(`4 of 4 NodeClaim(s) still drifted (not on an image ${NEW} resolves) after 20m (wait-timeout)`);
    expect(entry.reason).toContain('a disruption budget blocks drift: NodePool general: budget nodes: "0" allows 0 of 4 node(s) at a time');
    expect(entry.reason).toContain('widen the budget, or wait for the window');
    // Karpenter replaced nothing.
    expect(await claimImages(s)).toEqual(before);
  });

  it('names the window of a scheduled budget that blocks drift now', async () => {
    // A budget of 0 nodes whose window opened at the top of the current hour, for 3 hours: open all through the run.
    const hour = new Date().getUTCHours();
    const { upgrade } = await start(
      { nodePools: [pool({ budgets: [{ nodes: '0', schedule: `0 ${hour} * * *`, duration: '3h' }] })] },
      { waitTimeoutMs: 20 * MINUTE },
    );
    const { result } = await upgrade();
    const entry = result!.nodegroups[0]!;
    expect(entry.result).toBe('timed-out');
    expect(entry.reason).toContain(`NodePool general: budget nodes: "0" (its window "0 ${hour} * * *" for 3h is open until`);
  });

  it('times out naming the file when GitOps never applies the merged alias, with nothing changed in the cluster', async () => {
    const { s, upgrade, state, log } = await start({ gitops: [{ nodeClass: 'general', alias: NEW, afterMinutes: null }] }, { waitTimeoutMs: 15 * MINUTE });
    const before = await claimImages(s);
    const { result } = await upgrade();
    const entry = result!.nodegroups[0]!;
    expect(entry.result).toBe('timed-out');
    expect(entry.reason).toBe(
      `the merged pin ${NEW} was never applied: after 15m (wait-timeout) the cluster's EC2NodeClass general still names ${OLD}. ` +
        `Check that your GitOps (Argo CD, Flux) syncs the EC2NodeClass in ${FILE} to this cluster, then re-run the job; nothing was changed`,
    );
    expect(log).toContain(`warning: kp/general: ${entry.reason}`);
    expect(await claimImages(s)).toEqual(before);
    expect(state.writes).toEqual([]);
  });

  it('in a dry run, says what it would wait for and changes nothing', async () => {
    const { s, upgrade, state } = await start({}, { dryRun: true });
    const before = await claimImages(s);
    const { result } = await upgrade();
    expect(result!.nodegroups.map((n) => n.result)).toEqual(['planned']);
    expect(result!.nodegroups[0]!.reason).toBe(
      `the EC2NodeClass names ${OLD}: would wait for GitOps to apply the EC2NodeClass in ${FILE} (${NEW}) and Karpenter to resolve it, ` +
        'then follow Karpenter’s drift to nodes on its images (4 NodeClaim(s) now)',
    );
    expect(await claimImages(s)).toEqual(before);
    expect(state.writes).toEqual([]);
  });

  it('plans up-to-date once the class names the pin and every NodeClaim runs its images', async () => {
    const { upgrade } = await start({ nodeClasses: [{ name: 'general', alias: NEW }], gitops: [] });
    const { item, result } = await upgrade();
    expect(item.action).toBe('up-to-date');
    expect(item.reason).toBe(`already on ${NEW}, all 4 NodeClaim(s) on the images it resolves`);
    expect(result).toBeNull();
  });

  it('without the rbac:check rules, reports the node classes unread, naming the rules, and adds nothing to follow', async () => {
    const { read, cluster } = await start({}, {}, readmeRbacRules());
    const failed = await read();
    expect(failed.map((f) => f.error)).toEqual([
      'cannot read the EC2NodeClasses its manifest pins (Forbidden: ec2nodeclasses is forbidden: User "eks-ami-drift" cannot list resource ' +
        '"ec2nodeclasses"): grant the rbac:check rules of docs/iam-and-rbac.md; nothing was changed for them',
    ]);
    expect(cluster.nodegroups).toEqual([]);
  });

  it('with apply-node-classes, patches the EC2NodeClass to the merged alias itself, then follows the drift to a passed gate', async () => {
    const kubeAllow = [...readmeRbacRules(), ...readmeRbacRules('rbac:check'), ...readmeRbacRules('rbac:apply-node-classes')];
    const { s, upgrade, state, log } = await start(
      { gitops: [{ nodeClass: 'general', alias: NEW, afterMinutes: null }] },
      { applyNodeClasses: true },
      kubeAllow,
    );
    const { result } = await upgrade();
    expect(result!.nodegroups.map((n) => n.result)).toEqual(['upgraded']);
    expect(log).toContain(`kp/general: patched the EC2NodeClass's amiSelectorTerms to ${NEW} (apply-node-classes)`);
    // One write to the cluster: the class's selector terms.
    expect(state.writes.map((w) => [w.what, w.body])).toEqual([
      ['PATCH ec2nodeclasses general', [{ op: 'replace', path: '/spec/amiSelectorTerms', value: [{ alias: NEW }] }]],
    ]);
    const resolved = await resolvedImages(s);
    expect((await claimImages(s)).every((i) => resolved.includes(i))).toBe(true);
  });

  it('with apply-node-classes but no rule to patch ec2nodeclasses, stops before any change, naming the rules and the input', async () => {
    const kubeAllow = [...readmeRbacRules(), ...readmeRbacRules('rbac:check')];
    const { upgrade, state } = await start({}, { applyNodeClasses: true }, kubeAllow);
    const { result } = await upgrade();
    expect(result!.nodegroups.map((n) => [n.result, n.reason])).toEqual([
      [
        'blocked',
        'apply-node-classes is true, but the role may not patch ec2nodeclasses (karpenter.k8s.aws): grant the rbac:apply-node-classes rules of ' +
          'docs/iam-and-rbac.md, or set apply-node-classes: false to wait for your GitOps to apply the EC2NodeClass',
      ],
    ]);
    expect(state.writes).toEqual([]);
  });

  it('still pauses cluster-autoscaler for a node group rolled beside the node class, and only because of it', async () => {
    const { read, cluster, manifest, deps, upgradeSettings, autoscalerReplicas } = await start();
    const before = autoscalerReplicas();
    await read();
    const ng = cluster.nodegroups.find((n) => n.name === 'general')!;
    const follow = planNodegroup({
      cluster,
      ng,
      nodeClassPin: manifest.nodeClasses!.general!,
      manifestPresent: true,
      explicit: null,
      followControlPlane: false,
      latest: () => undefined,
    });
    // A node group's executor, as the managed and self-managed ones declare themselves: it records the replicas it rolls under.
    const seen: number[] = [];
    const nodegroupExecutor: Executor = {
      pausesAutoscaler: true,
      preflight: async () => undefined,
      roll: async (check) => {
        seen.push(autoscalerReplicas());
        return upgradeEntry(check.item, 'upgraded', 'rolled');
      },
    };
    const item: PlanItem = { ...follow, nodegroup: 'system', nodeKind: 'managed-release', action: 'update', reason: 'test' };
    const karpenter = kindById('karpenter');
    const result = await upgradeCluster(
      cluster,
      [
        { item, executor: nodegroupExecutor, healthTarget: {} },
        { item: follow, executor: await karpenter.executor!(), healthTarget: {} },
      ],
      { ...upgradeSettings, maxParallel: 2 },
      deps,
    );
    expect(result.nodegroups.map((n) => [n.nodegroup, n.result]).sort()).toEqual([
      ['general', 'upgraded'],
      ['system', 'upgraded'],
    ]);
    expect(seen).toEqual([0]);
    expect(result.autoscaler?.outcome).toBe('restored');
    expect(autoscalerReplicas()).toBe(before);
  });
});
