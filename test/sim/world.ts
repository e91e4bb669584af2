import { AccountParameters } from './account-parameters.js';
import { createHash, randomUUID } from 'node:crypto';
import type { FleetSpec, SimAutoscaler, SimCluster, SimNodegroup, SimOptions, SimWorkload, UpdateFailure } from './fleet.js';
import { KubeState, type KubeObject } from './kube.js';
import { PodLifecycle } from './eviction.js';
import { LiveGroup } from './asg.js';
import { releasesOf } from './releases.js';
import { architectureOf, ImageRegistry, SELF_MANAGED_INSTANCE_PROFILE } from './images.js';

/** Virtual time: runs `speed` times faster than the wall clock, from the wall clock's start. */
export class Clock {
  readonly realStart = Date.now();
  constructor(
    readonly speed = 1,
    public virtualStart = Date.now(),
  ) {}
  /** Jumps forward: days of a soak pass at once (an action started after it sees the later time). */
  advance(ms: number): void {
    this.virtualStart += ms;
  }
  now(): number {
    return this.at(Date.now());
  }
  /** The virtual time of a wall-clock instant. */
  at(realMs: number): number {
    return this.virtualStart + (realMs - this.realStart) * this.speed;
  }
}

export type Phase = 'setup' | 'scale-up' | 'upgrade' | 'scale-down';
type Step = 'setup' | 'cordon' | 'drain' | 'terminate' | 'scale-down' | 'finish';

export interface UpdateError {
  errorCode: string;
  errorMessage: string;
  resourceIds: string[];
}

/** One managed node group version update, moving through EKS's four phases on the virtual clock. */
export interface NodegroupUpdate {
  id: string;
  cluster: SimCluster;
  ng: SimNodegroup;
  token?: string;
  /** DescribeUpdate's `type`: UpdateNodegroupVersion makes a VersionUpdate, UpdateNodegroupConfig a ConfigUpdate. */
  type: 'VersionUpdate' | 'ConfigUpdate';
  status: 'InProgress' | 'Successful' | 'Failed' | 'Cancelled';
  createdAt: number;
  endedAt?: number;
  params: { type: string; value: string }[];
  errors: UpdateError[];
  target: { version: string; releaseVersion: string; image: string; templateVersion?: string };
  force: boolean;
  phases: { phase: Phase; at: number }[];
  step: Step;
  nextAt: number;
  original: { desired: number; max: number };
  surge: number;
  blockedSince?: number;
  failure?: UpdateFailure;
  /** Whether cluster-autoscaler scaled the group during scale down (and EKS then left the size). */
  autoscalerInterfered: boolean;
  /** cluster-autoscaler's replicas when the update started and entered each phase. */
  autoscalerReplicas: number[];
}

export interface Asg {
  name: string;
  min: number;
  max: number;
  desired: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** When a released Windows AMI goes private, after its release date (UNVERIFIED: see offered()). */
const WINDOWS_PRIVATE_AFTER_MS = 120 * 24 * 60 * MINUTE;
/** EKS's surge: up to twice the number of Availability Zones (the simulated groups span 2). */
const AZS = 2;

export function imageFor(release: string): string {
  return `ami-${createHash('sha1').update(release).digest('hex').slice(0, 17)}`;
}

/** The simulated account beyond the describe calls: Auto Scaling groups, nodes, pods, updates. */
export class World {
  readonly clock: Clock;
  readonly kube = new Map<SimCluster, KubeState>();
  /** Per cluster: evictions, deletions and the replacement pods that follow (./eviction.ts). */
  readonly pods = new Map<SimCluster, PodLifecycle>();
  readonly asgs = new Map<SimNodegroup, Asg>();
  readonly updates: NodegroupUpdate[] = [];
  /** Live self-managed Auto Scaling groups (SimSelfManaged.live), by `region/name`. */
  readonly groups = new Map<string, LiveGroup>();
  /**
   * Launch configurations live groups use and CreateLaunchConfiguration made, by `region/name`: the
   * fields as the Query API names them (`SecurityGroups.member.1`, `InstanceMonitoring.Enabled`), which
   * DescribeLaunchConfigurations answers with the same names (Auto Scaling API reference, LaunchConfiguration).
   */
  readonly launchConfigurations = new Map<string, Record<string, string>>();
  readonly images: ImageRegistry;
  /** The account's own SSM parameters (the health gate's durable marks), per region. */
  readonly parameters: AccountParameters;
  private nodeCounter = 0;
  /** The workload each simulated pod belongs to. */
  private readonly workloadOf = new WeakMap<KubeObject, SimWorkload>();

  constructor(
    readonly fleet: FleetSpec,
    readonly options: SimOptions,
    /** A clock to share (the hub's, for a member account's World), so every account's updates and soaks line up. */
    clock?: Clock,
  ) {
    this.clock = clock ?? new Clock(options.clockSpeed ?? 1);
    this.images = new ImageRegistry(fleet.accountId ?? '123456789012');
    this.parameters = new AccountParameters(this.clock);
    for (const cluster of fleet.clusters) this.initTemplates(cluster);
    for (const cluster of fleet.clusters) this.initCluster(cluster);
    for (const cluster of fleet.clusters) for (const ng of cluster.nodegroups) this.initHistory(cluster, ng);
    for (const cluster of fleet.clusters) for (const ng of cluster.nodegroups) this.createdAt(ng);
    for (const cluster of fleet.clusters) this.initGroups(cluster);
  }

  /** The live self-managed groups of a cluster, their instances Ready nodes from the start. */
  private initGroups(cluster: SimCluster): void {
    for (const g of (cluster.selfManaged ?? []).filter((x) => x.live)) {
      const live = g.live!;
      const number = (t: { id: string; version: string } | null) => {
        const template = t ? this.images.templates.get(t.id) : undefined;
        return t?.version === '$Latest' ? template?.versions.at(-1)?.number : t?.version === '$Default' ? template?.defaultVersion : Number(t?.version);
      };
      const imageOf = (t: { id: string; version: string } | null, lc?: string) => {
        if (lc) return this.launchConfigurations.get(`${cluster.region}/${lc}`)?.ImageId ?? '';
        return (t ? this.images.templates.get(t.id) : undefined)?.versions.find((v) => v.number === number(t))?.imageId ?? '';
      };
      const lt = g.launchTemplate;
      const ref = (t: { id: string; name: string; version: string }) => ({ id: t.id, name: t.name, version: t.version });
      const lc = g.launchConfiguration;
      // A live group's launch configuration has the fields a copy must keep (a test's fixture).
      if (lc)
        this.launchConfigurations.set(`${cluster.region}/${lc.name}`, {
          LaunchConfigurationName: lc.name,
          ImageId: this.images.resolve(cluster.region, lc.image).id,
          InstanceType: live.instanceType ?? 'm5.large',
          IamInstanceProfile: `${cluster.name}-nodes`,
          'SecurityGroups.member.1': 'sg-0nodes00000000001',
          UserData: Buffer.from(`#!/bin/bash\n/etc/eks/bootstrap.sh ${cluster.name}`).toString('base64'),
          'InstanceMonitoring.Enabled': 'false',
          'MetadataOptions.HttpTokens': 'required',
          'BlockDeviceMappings.member.1.DeviceName': '/dev/xvda',
          'BlockDeviceMappings.member.1.Ebs.VolumeSize': '50',
          'BlockDeviceMappings.member.1.Ebs.VolumeType': 'gp3',
        });
      const group = new LiveGroup(
        {
          name: g.name,
          cluster: cluster.name,
          region: cluster.region,
          azs: live.azs ?? [`${cluster.region}a`, `${cluster.region}b`],
          min: live.min ?? 0,
          max: live.max ?? g.desiredSize,
          desired: g.desiredSize,
          instanceType: live.instanceType ?? 'm5.large',
          template: lt && !lt.mixed ? ref(lt) : null,
          eksctl: live.eksctl ?? false,
          mixed: lt?.mixed
            ? {
                main: ref(lt),
                overrides: (g.overrides ?? []).map((o) => ({ instanceType: o.instanceType, ...(o.launchTemplate ? { template: ref(o.launchTemplate) } : {}) })),
              }
            : null,
          launchConfiguration: lc?.name ?? null,
          ...(live.instancesShowNumber ? { numberOf: (t: { id: string; version: string }) => String(number(t)) } : {}),
          ...(live.timings ? { timings: live.timings } : {}),
        },
        this.kubeOf(cluster),
        this.podLifecycle(cluster),
        imageOf,
        this.clock.now(),
        (id) => architectureOf(this.images.images.get(id)?.name ?? ''),
      );
      this.groups.set(`${cluster.region}/${g.name}`, group);
    }
  }

  /** A live self-managed group by region and name. */
  groupOf(region: string, name: string): LiveGroup | undefined {
    return this.groups.get(`${region}/${name}`);
  }

  /**
   * Launch templates and their images: each node group's and self-managed group's template version.
   * A CUSTOM node group's releaseVersion is its image id (as EKS shows it).
   */
  private initTemplates(cluster: SimCluster): void {
    for (const ng of cluster.nodegroups) {
      const lt = ng.launchTemplate;
      if (!lt) continue;
      const image = lt.image ? this.images.resolve(cluster.region, lt.image) : undefined;
      this.images.template(lt.id, lt.name, cluster.region, Number(lt.version) || 1, {
        ...(image ? { imageId: image.id } : {}),
        tagSpecifications: !!lt.tagSpecifications,
        userData: Buffer.from(`# ${ng.name}`).toString('base64'),
      });
      if (ng.amiType === 'CUSTOM' && image) ng.releaseVersion = image.id;
    }
    for (const g of cluster.selfManaged ?? []) {
      const lt = g.launchTemplate;
      if (lt) {
        const image = this.images.resolve(cluster.region, lt.image);
        // The group's version first: it is the template's default.
        this.images.template(lt.id, lt.name, cluster.region, Number(lt.version) || 1, {
          imageId: lt.ssmParameter ? `resolve:ssm:${lt.ssmParameter}` : image.id,
          tagSpecifications: false,
          instanceProfile: SELF_MANAGED_INSTANCE_PROFILE,
          userData: '',
        });
        for (const o of lt.older ?? [])
          this.images.template(lt.id, lt.name, cluster.region, o.version, {
            imageId: this.images.resolve(cluster.region, o.image).id,
            tagSpecifications: false,
            instanceProfile: SELF_MANAGED_INSTANCE_PROFILE,
            userData: '',
          });
      }
      for (const o of g.overrides ?? []) {
        if (!o.launchTemplate) continue;
        const image = this.images.resolve(cluster.region, o.launchTemplate.image);
        this.images.template(o.launchTemplate.id, o.launchTemplate.name, cluster.region, Number(o.launchTemplate.version) || 1, {
          imageId: image.id,
          tagSpecifications: false,
          instanceProfile: SELF_MANAGED_INSTANCE_PROFILE,
          userData: '',
        });
      }
      for (const c of g.launchConfiguration ? [g.launchConfiguration, ...(g.launchConfiguration.older ?? [])] : [])
        this.images.resolve(cluster.region, c.image);
    }
  }

  /** The image label of a node running a release: a CUSTOM node group's release is its image id. */
  nodeImage(ng: SimNodegroup, release: string): string {
    return ng.amiType === 'CUSTOM' ? release : imageFor(release);
  }

  private readonly created = new Map<SimNodegroup, number>();
  /** When EKS created a node group: `createdMinutesAgo` before the simulator started, else 2025-01-01. */
  createdAt(ng: SimNodegroup): number {
    if (!this.created.has(ng))
      this.created.set(ng, ng.createdMinutesAgo !== undefined ? this.clock.virtualStart - ng.createdMinutesAgo * MINUTE : Date.parse('2025-01-01T00:00:00Z'));
    return this.created.get(ng)!;
  }

  /** Past updates of a node group, ended long ago, as ListUpdates and DescribeUpdate show them. */
  private initHistory(cluster: SimCluster, ng: SimNodegroup): void {
    for (const h of ng.history ?? []) {
      const at = this.clock.now() - h.minutesAgo * MINUTE;
      this.updates.push({
        id: randomUUID(),
        cluster,
        ng,
        type: 'VersionUpdate',
        status: h.status,
        createdAt: at,
        endedAt: at + 20 * MINUTE,
        params: [
          { type: 'Version', value: ng.version },
          { type: 'ReleaseVersion', value: h.releaseVersion },
        ],
        errors: h.status === 'Failed' ? [{ errorCode: 'NodeCreationFailure', errorMessage: 'Simulated past failure', resourceIds: [] }] : [],
        target: { version: ng.version, releaseVersion: h.releaseVersion, image: imageFor(h.releaseVersion) },
        force: false,
        phases: [],
        step: 'finish',
        nextAt: Infinity,
        original: { desired: ng.desiredSize ?? 2, max: ng.maxSize ?? 3 },
        surge: 0,
        autoscalerInterfered: false,
        autoscalerReplicas: [],
      });
    }
    const config = ng.configUpdates;
    for (let i = 0; i < (config?.count ?? 0); i++) {
      const at = this.clock.now() - (1 + i * (config!.everyMinutes ?? 60)) * MINUTE;
      this.updates.push({
        id: randomUUID(),
        cluster,
        ng,
        type: 'ConfigUpdate',
        status: 'Successful',
        createdAt: at,
        endedAt: at + MINUTE,
        params: [{ type: 'DesiredSize', value: String(1 + (i % 3)) }],
        errors: [],
        // Not a rollout: no target image (the health model looks for nodes on an update's image).
        target: { version: ng.version, releaseVersion: ng.releaseVersion, image: '' },
        force: false,
        phases: [],
        step: 'finish',
        nextAt: Infinity,
        original: { desired: ng.desiredSize ?? 2, max: ng.maxSize ?? 3 },
        surge: 0,
        autoscalerInterfered: false,
        autoscalerReplicas: [],
      });
    }
  }

  private initCluster(cluster: SimCluster): void {
    const kube = new KubeState(() => this.clock.now());
    this.kube.set(cluster, kube);
    for (const ng of cluster.nodegroups) {
      const desired = ng.desiredSize ?? 2;
      this.asgs.set(ng, { name: `eks-${ng.name}-sim`, min: ng.minSize ?? 1, max: ng.maxSize ?? Math.max(desired, 3), desired });
      for (let i = 0; i < desired; i++) this.launchNode(cluster, ng, this.nodeImage(ng, ng.releaseVersion), ng.releaseVersion, ng.inPlace);
    }
    const autoscaler =
      cluster.autoscaler === undefined
        ? { namespace: 'kube-system', name: 'cluster-autoscaler', labels: { app: 'cluster-autoscaler' }, replicas: 1 }
        : cluster.autoscaler;
    if (autoscaler) {
      this.controller(cluster, autoscaler);
      this.autoscalers.set(cluster, KubeState.key(autoscaler.namespace, autoscaler.name));
    }
    for (const c of cluster.controllers ?? []) this.controller(cluster, c);
    for (const w of cluster.workloads ?? []) this.initWorkload(cluster, w);
    for (const b of cluster.pdbs ?? []) {
      kube.pdbs.set(KubeState.key(b.namespace, b.name), {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: b.name, namespace: b.namespace },
        spec: {
          ...(b.matchLabels ? { selector: { matchLabels: b.matchLabels } } : {}),
          ...(b.unhealthyPodEvictionPolicy ? { unhealthyPodEvictionPolicy: b.unhealthyPodEvictionPolicy } : {}),
          ...(b.minAvailable !== undefined ? { minAvailable: b.minAvailable } : {}),
          ...(b.maxUnavailable !== undefined ? { maxUnavailable: b.maxUnavailable } : {}),
        },
      });
    }
  }

  /** The Deployment of each cluster's cluster-autoscaler (`namespace/name`), the one that scales its groups. */
  private readonly autoscalers = new Map<SimCluster, string>();

  /** A controller's Deployment, its pod template's one container as its manifest or chart writes it. */
  private controller(cluster: SimCluster, c: SimAutoscaler): void {
    const command = c.command ?? [
      './cluster-autoscaler',
      '--v=4',
      '--cloud-provider=aws',
      `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/${cluster.name}`,
    ];
    const container = { name: c.name, image: c.image ?? 'registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.0', command };
    const kube = this.kubeOf(cluster);
    const key = KubeState.key(c.namespace, c.name);
    const g = c.gitops;
    // The marks each tool leaves (src/decision/gitops.ts cites them): Argo CD 3.x's tracking annotation, Flux's labels.
    const labels =
      g?.tool === 'flux-kustomize'
        ? { ...c.labels, 'kustomize.toolkit.fluxcd.io/name': g.app, 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' }
        : c.labels;
    const annotations: Record<string, string> =
      g?.tool === 'argocd'
        ? { 'argocd.argoproj.io/tracking-id': `${g.app}:apps/Deployment:${c.namespace}/${c.name}` }
        : g?.ssa
          ? { 'kustomize.toolkit.fluxcd.io/ssa': g.ssa }
          : {};
    const d: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: c.name, namespace: c.namespace, labels, annotations, uid: randomUUID(), resourceVersion: '1', generation: 1 },
      spec: { replicas: c.replicas, selector: { matchLabels: c.labels }, template: { metadata: { labels: c.labels }, spec: { containers: [container] } } },
      status: { replicas: c.replicas, readyReplicas: c.replicas },
    };
    kube.deployments.set(key, d);
    if (g) {
      // Applied server-side by its controller: Argo CD's `argocd-controller` (argo-cd common/common.go ArgoCDSSAManager), Flux's `kustomize-controller`.
      const manager = g.tool === 'argocd' ? 'argocd-controller' : 'kustomize-controller';
      kube.recordManager(d, manager, 'Apply', true, this.clock.now() - 86_400_000);
      kube.gitops.set(key, {
        key,
        manager,
        operation: 'Apply',
        replicas: c.replicas,
        afterMs: g.revertAfterSeconds === null ? null : g.revertAfterSeconds * 1000,
        dueAt: null,
        reverts: [],
      });
    }
  }

  /** The cluster's cluster-autoscaler Deployment, if it has one. */
  autoscalerOf(cluster: SimCluster): KubeObject | undefined {
    const key = this.autoscalers.get(cluster);
    return key ? this.kubeOf(cluster).deployments.get(key) : undefined;
  }

  /**
   * A workload's object (and a Deployment's ReplicaSet) and its pods, each owned by its controller
   * through `ownerReferences` as Kubernetes sets them, spread over the node group's nodes.
   */
  private initWorkload(cluster: SimCluster, w: SimWorkload): void {
    const kube = this.kubeOf(cluster);
    const kind = w.kind ?? 'Deployment';
    const meta = (name: string, owner?: { kind: string; name: string; uid: string }) => ({
      name,
      namespace: w.namespace,
      labels: w.labels,
      uid: randomUUID(),
      ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', ...owner, controller: true, blockOwnerDeletion: true }] } : {}),
    });
    const spec = { replicas: w.replicas, selector: { matchLabels: w.labels } };
    const object: KubeObject = {
      apiVersion: 'apps/v1',
      kind,
      metadata: meta(w.name),
      spec: kind === 'DaemonSet' ? { selector: spec.selector } : spec,
      status: {},
    };
    const key = KubeState.key(w.namespace, w.name);
    kube.workloads.push({ kind, namespace: w.namespace, name: w.name, nodegroup: w.nodegroup });
    let podOwner: { kind: string; name: string; uid: string } = { kind, name: w.name, uid: object.metadata.uid as string };
    if (kind === 'Deployment') {
      kube.deployments.set(key, object);
      const hash = createHash('sha1').update(key).digest('hex').slice(0, 10);
      const rs: KubeObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta(`${w.name}-${hash}`, podOwner), spec, status: {} };
      kube.replicasets.set(KubeState.key(w.namespace, rs.metadata.name), rs);
      podOwner = { kind: 'ReplicaSet', name: rs.metadata.name, uid: rs.metadata.uid as string };
    } else if (kind === 'StatefulSet') kube.statefulsets.set(key, object);
    else kube.daemonsets.set(key, object);
    const nodes = this.nodesOf(cluster, w.nodegroup);
    const count = kind === 'DaemonSet' ? nodes.length : w.replicas;
    for (let i = 0; i < count; i++) {
      const name = kind === 'StatefulSet' ? `${w.name}-${i}` : `${podOwner.name}-${createHash('sha1').update(`${key}/${i}`).digest('hex').slice(0, 5)}`;
      const pod: KubeObject = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { ...meta(name, podOwner), annotations: {} },
        spec: { nodeName: nodes[i % Math.max(1, nodes.length)]?.metadata.name },
        status: { phase: 'Running' },
      };
      kube.pods.set(KubeState.key(w.namespace, name), pod);
      this.workloadOf.set(pod, w);
      // Running (and ready) since before the simulation; the first `notReady` never are.
      kube.lives.set(KubeState.key(w.namespace, name), {
        startedAt: this.clock.now() - 3_600_000,
        readyAt: this.clock.now() - 3_000_000,
        crashLoop: false,
        degraded: i < (w.notReady ?? 0),
        failure: i < (w.notReady ?? 0) ? 'Readiness probe failed: dial tcp 10.0.0.1:8080: connect: connection refused' : undefined,
      });
    }
  }

  /** A DaemonSet's pod on a new node of its node group, placed (and started) at `t`. */
  private daemonPodsFor(cluster: SimCluster, ng: SimNodegroup, node: KubeObject, t: number): void {
    const kube = this.kubeOf(cluster);
    for (const w of (cluster.workloads ?? []).filter((x) => x.kind === 'DaemonSet' && x.nodegroup === ng.name)) {
      const ds = kube.daemonsets.get(KubeState.key(w.namespace, w.name));
      if (!ds) continue;
      const name = `${w.name}-${createHash('sha1').update(node.metadata.name).digest('hex').slice(0, 5)}`;
      const pod: KubeObject = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace: w.namespace,
          labels: w.labels,
          uid: randomUUID(),
          annotations: {},
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: w.name, uid: ds.metadata.uid, controller: true }],
        },
        spec: { nodeName: node.metadata.name },
        status: { phase: 'Running' },
      };
      kube.pods.set(KubeState.key(w.namespace, name), pod);
      this.workloadOf.set(pod, w);
      this.reschedule(cluster, pod, node, t);
    }
  }

  kubeOf(cluster: SimCluster): KubeState {
    return this.kube.get(cluster) as KubeState;
  }

  podLifecycle(cluster: SimCluster): PodLifecycle {
    let lifecycle = this.pods.get(cluster);
    if (!lifecycle) this.pods.set(cluster, (lifecycle = new PodLifecycle(this.kubeOf(cluster))));
    return lifecycle;
  }

  asgOf(ng: SimNodegroup): Asg {
    return this.asgs.get(ng) as Asg;
  }

  nodesOf(cluster: SimCluster, nodegroup: string): KubeObject[] {
    return [...this.kubeOf(cluster).nodes.values()]
      .filter((n) => n.metadata.labels?.['eks.amazonaws.com/nodegroup'] === nodegroup)
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name, 'en', { numeric: true }));
  }

  /**
   * What a node reports as `status.nodeInfo.osImage`: the kubelet's /etc/os-release PRETTY_NAME
   * (Kubernetes API reference, NodeSystemInfo.osImage). Bottlerocket's is `Bottlerocket OS <version>
   * (<variant>)`, `Bottlerocket OS 1.12.0 (aws-k8s-1.25)` (bottlerocket-os/bottlerocket QUICKSTART-EKS.md);
   * Amazon Linux 2's `Amazon Linux 2`; AL2023's carries its OS release, not the EKS AMI's (UNVERIFIED
   * exact form, the action reads only Bottlerocket's); Windows' is not modelled.
   */
  private osImage(ng: SimNodegroup, release: string, inPlace?: string): string {
    let amiType = ng.amiType;
    let minor = ng.version;
    let version = release.split('-')[0] ?? release;
    if (amiType === 'CUSTOM') {
      const name = this.images.images.get(release)?.name ?? '';
      const m = /^bottlerocket-aws-k8s-(\d+\.\d+)(-[a-z-]+)?-(x86_64|aarch64)-v(\d+\.\d+\.\d+)-/.exec(name);
      if (m) [amiType, minor, version] = [`BOTTLEROCKET${m[2] ?? ''}`, m[1]!, m[4]!];
      else if (name.includes('al2023')) amiType = 'AL2023';
      else if (name.startsWith('amazon-eks-')) amiType = 'AL2';
    }
    if (amiType.startsWith('BOTTLEROCKET')) {
      const variant = /_NVIDIA/.test(amiType) || /-nvidia/.test(amiType) ? '-nvidia' : '';
      const fips = /FIPS|fips/.test(amiType) ? '-fips' : '';
      return `Bottlerocket OS ${inPlace ?? version} (aws-k8s-${minor}${variant}${fips})`;
    }
    if (amiType.startsWith('AL2023')) return 'Amazon Linux 2023';
    if (amiType.startsWith('AL2')) return 'Amazon Linux 2';
    return '';
  }

  private launchNode(cluster: SimCluster, ng: SimNodegroup, image: string, release: string, inPlace?: string): KubeObject {
    const n = ++this.nodeCounter;
    const name = `ip-10-0-${Math.floor(n / 250)}-${n % 250}.ec2.internal`;
    const node: KubeObject = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels: {
          'eks.amazonaws.com/nodegroup': ng.name,
          'eks.amazonaws.com/nodegroup-image': image,
          'eks.amazonaws.com/capacityType': 'ON_DEMAND',
          'kubernetes.io/hostname': name,
          'topology.kubernetes.io/zone': `${cluster.region}${n % AZS === 0 ? 'a' : 'b'}`,
        },
        creationTimestamp: new Date(this.clock.now()).toISOString(),
      },
      spec: {},
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        nodeInfo: { kubeletVersion: `v${release.split('-')[0]}`, osImage: this.osImage(ng, release, inPlace) },
      },
    };
    this.kubeOf(cluster).nodes.set(name, node);
    this.daemonPodsFor(cluster, ng, node, this.clock.now());
    return node;
  }

  /** What UpdateNodegroupVersion accepts for a node group, as EKS checks it. */
  private allowedRelease(ng: SimNodegroup, version: string): string | undefined {
    if (ng.amiType.startsWith('AL2')) return releasesOf(ng.amiType, version).at(-1)?.releaseVersion;
    const windows = /^WINDOWS_(CORE|FULL)_(\d{4})_/.exec(ng.amiType);
    if (windows) {
      const edition = windows[1] === 'CORE' ? 'Core' : 'Full';
      const param = this.fleet.parameters.find((p) => p.name.endsWith(`/Windows_Server-${windows[2]}-English-${edition}-EKS_Optimized-${version}`));
      return param ? (JSON.parse(param.value) as { release_version?: string }).release_version : undefined;
    }
    const param = this.fleet.parameters.find((p) => p.name.includes(`aws-k8s-${version}/`) && p.name.includes(ng.amiType.includes('ARM') ? 'arm64' : 'x86_64'));
    return param?.value;
  }

  private offered(ng: SimNodegroup, version: string, release: string): boolean {
    if (ng.amiType.startsWith('AL2')) return releasesOf(ng.amiType, version).some((r) => r.releaseVersion === release);
    // A Windows release whose AMI AWS made private cannot be launched. AWS makes released Windows AMIs
    // private (EC2 Windows AMI reference, SNS topic ec2-windows-ami-private) on a schedule it does not
    // state; modelled as 120 days after the release's date (docs/check.md, UNVERIFIED).
    const date = ng.amiType.startsWith('WINDOWS') ? /-(\d{4})[.-](\d{2})[.-](\d{2})$/.exec(release) : null;
    if (date && this.clock.now() >= Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3])) + WINDOWS_PRIVATE_AFTER_MS) return false;
    return this.allowedRelease(ng, version) === release || release === ng.releaseVersion;
  }

  /** UpdateNodegroupVersion: validation, idempotency by clientRequestToken, then the update starts. */
  startUpdate(
    cluster: SimCluster,
    ng: SimNodegroup,
    p: Record<string, unknown>,
    fail: (status: number, code: string, message: string) => never,
  ): NodegroupUpdate {
    this.advance();
    const token = p.clientRequestToken as string | undefined;
    const same = token ? this.updates.find((u) => u.token === token && u.ng === ng) : undefined;
    if (same) return same;
    if (this.updates.some((u) => u.ng === ng && u.status === 'InProgress') || (ng.status ?? 'ACTIVE') !== 'ACTIVE') {
      fail(409, 'ResourceInUseException', `Nodegroup ${ng.name} is currently not in ACTIVE state or has an update in progress.`);
    }
    const version = (p.version as string | undefined) ?? ng.version;
    if (!/^\d+\.\d+$/.test(version)) fail(400, 'InvalidParameterException', `Requested version ${version} is not valid.`);
    if (compareMinor(version, cluster.version) > 0) {
      fail(400, 'InvalidParameterException', `Requested Nodegroup version ${version} is newer than the cluster version ${cluster.version}.`);
    }
    if (compareMinor(version, ng.version) < 0)
      fail(400, 'InvalidParameterException', `Nodegroup version cannot be downgraded from ${ng.version} to ${version}.`);
    let release = p.releaseVersion as string | undefined;
    let templateVersion: string | undefined;
    const lt = p.launchTemplate as { id?: string; name?: string; version?: string } | undefined;
    if (lt) {
      // Only the version of the node group's own template may change (EKS API reference,
      // LaunchTemplateSpecification: the template's id or name cannot be changed after the node group
      // is created; the refusal's text is UNVERIFIED).
      const own = ng.launchTemplate;
      if (!own || (lt.id && lt.id !== own.id) || (lt.name && lt.name !== own.name))
        fail(400, 'InvalidParameterException', 'You cannot change the launch template ID or name of a node group.');
      const t = this.images.findTemplate(cluster.region, own.id);
      const v = t?.versions.find((x) => String(x.number) === String(lt.version));
      if (!v) fail(400, 'InvalidParameterException', `Launch template ${own.id} version ${lt.version} does not exist.`);
      templateVersion = String(v.number);
      if (ng.amiType === 'CUSTOM') {
        if (!v.imageId)
          fail(400, 'InvalidParameterException', `Launch template version ${templateVersion} must specify an AMI for a node group with a custom AMI.`);
        release = v.imageId;
      }
    }
    if (ng.amiType === 'CUSTOM') {
      // EKS API reference, UpdateNodegroupVersion: with a launch template that names a custom AMI, do
      // not specify version or releaseVersion. The exact texts are UNVERIFIED.
      if (p.releaseVersion) fail(400, 'InvalidParameterException', 'You cannot specify releaseVersion for a node group with a custom AMI.');
      if (p.version) fail(400, 'InvalidParameterException', 'You cannot specify version for a node group with a custom AMI.');
      release ??= ng.releaseVersion;
    } else {
      const allowed = this.allowedRelease(ng, version);
      release ??= allowed;
      if (!release) fail(400, 'InvalidParameterException', `No ${ng.amiType} release exists for kubernetes version ${version}.`);
      if (!this.offered(ng, version, release)) {
        // EKS's refusal has had two texts: the 2020 one names the release it allows; the current one
        // (eksctl #7976, 2025) only says the release is not valid for that Kubernetes version.
        if (this.options.faults?.refusalText === '2020') {
          fail(400, 'InvalidParameterException', `Requested Nodegroup release version ${release} is invalid. Allowed release version is ${allowed}`);
        }
        fail(400, 'InvalidParameterException', `Requested release version ${release} is not valid for kubernetes version ${version}.`);
      }
    }
    const now = this.clock.now();
    const asg = this.asgOf(ng);
    const update: NodegroupUpdate = {
      id: randomUUID(),
      cluster,
      ng,
      ...(token ? { token } : {}),
      type: 'VersionUpdate',
      status: 'InProgress',
      createdAt: now,
      // A CUSTOM node group's update to a launch template version names only the template (EKS API
      // reference, UpdateNodegroupVersion, example 2: params LaunchTemplateName and LaunchTemplateVersion,
      // no ReleaseVersion); one by release names the version and release (example 1). A node group of
      // an EKS AMI type with a launch template: both, UNVERIFIED.
      params: [
        ...(ng.amiType === 'CUSTOM' && templateVersion
          ? []
          : [
              { type: 'Version', value: version },
              { type: 'ReleaseVersion', value: release },
            ]),
        ...(templateVersion
          ? [
              { type: 'LaunchTemplateName', value: ng.launchTemplate!.name },
              { type: 'LaunchTemplateVersion', value: templateVersion },
            ]
          : []),
      ],
      errors: [],
      target: { version, releaseVersion: release, image: this.nodeImage(ng, release), ...(templateVersion ? { templateVersion } : {}) },
      force: p.force === true,
      phases: [{ phase: 'setup', at: now }],
      step: 'setup',
      nextAt: now + 30 * SECOND,
      original: { desired: asg.desired, max: asg.max },
      // MINIMAL "terminates the old instances before launching the new instances" (EKS API reference, NodegroupUpdateConfig): no surge.
      surge: ng.updateConfig?.updateStrategy === 'MINIMAL' ? 0 : Math.min(asg.desired, 2 * AZS),
      autoscalerInterfered: false,
      autoscalerReplicas: [this.autoscalerReplicas(cluster)],
      ...(this.options.faults?.updateFailures?.[`${cluster.name}/${ng.name}`]
        ? { failure: this.options.faults.updateFailures[`${cluster.name}/${ng.name}`] }
        : {}),
    };
    ng.status = 'UPDATING';
    this.updates.push(update);
    return update;
  }

  /** Brings every running update up to the virtual now. Called before each request is answered. */
  advance(): void {
    const now = this.clock.now();
    for (const u of this.updates) {
      while (u.status === 'InProgress' && u.nextAt <= now) this.step(u);
    }
    for (const kube of this.kube.values()) kube.reconcileGitOps();
    for (const [key, g] of this.groups) {
      const name = key.slice(key.indexOf('/') + 1);
      const faults = this.options.faults;
      if (faults?.asgCapacity?.[name] !== undefined) g.capacityLimit = faults.asgCapacity[name];
      if (faults?.neverReadyGroups) g.neverReady = faults.neverReadyGroups.includes(name);
      g.settle(now);
    }
    for (const lifecycle of this.pods.values()) lifecycle.settle();
  }

  /** cluster-autoscaler's replica count, or -1 when the cluster has none. */
  autoscalerReplicas(cluster: SimCluster): number {
    const d = this.autoscalerOf(cluster);
    return d ? Number(d.spec?.replicas ?? 0) : -1;
  }

  private enter(u: NodegroupUpdate, phase: Phase, at: number): boolean {
    u.phases.push({ phase, at });
    u.autoscalerReplicas.push(this.autoscalerReplicas(u.cluster));
    if (u.failure && (u.failure.phase ?? 'upgrade') === phase) {
      this.fail(u, at, {
        errorCode: u.failure.errorCode,
        errorMessage: u.failure.errorMessage ?? `Simulated ${u.failure.errorCode}`,
        resourceIds: [u.ng.name],
      });
      return false;
    }
    return true;
  }

  private oldNodes(u: NodegroupUpdate): KubeObject[] {
    return this.nodesOf(u.cluster, u.ng.name).filter((n) => n.metadata.labels?.['eks.amazonaws.com/nodegroup-image'] !== u.target.image);
  }

  private step(u: NodegroupUpdate): void {
    const t = u.nextAt;
    const kube = this.kubeOf(u.cluster);
    const asg = this.asgOf(u.ng);
    switch (u.step) {
      case 'setup': {
        if (!this.enter(u, 'scale-up', t)) return;
        asg.desired += u.surge;
        asg.max += u.surge;
        for (let i = 0; i < u.surge; i++) this.launchNode(u.cluster, u.ng, u.target.image, u.target.releaseVersion);
        u.step = 'cordon';
        u.nextAt = t + 90 * SECOND;
        return;
      }
      case 'cordon': {
        if (!this.enter(u, 'upgrade', t)) return;
        for (const node of this.oldNodes(u)) {
          node.spec = { ...node.spec, unschedulable: true, taints: [{ key: 'eks.amazonaws.com/nodegroup', value: 'unschedulable', effect: 'NoSchedule' }] };
        }
        u.step = 'drain';
        u.nextAt = t;
        return;
      }
      case 'drain': {
        const node = this.oldNodes(u)[0];
        if (!node) {
          u.step = 'scale-down';
          u.nextAt = t;
          return;
        }
        // A drain leaves DaemonSet pods: eviction-based drains skip them (kubectl drain
        // --ignore-daemonsets; the DaemonSet controller would recreate them anyway). UNVERIFIED that
        // EKS's drain does exactly this; they go with their node when it is terminated.
        const pods = kube.podsOn(node.metadata.name).filter((p) => !isDaemonPod(p));
        // Each pod is evicted through the eviction API, which judges it against its budgets
        // (kubernetes pkg/registry/core/pod/storage/eviction.go; KubeState.evictionRefusal).
        const blocked = pods.filter((p) => kube.evictionRefusal(p) !== undefined);
        if (blocked.length > 0 && !u.force) {
          u.blockedSince ??= t;
          if (t - u.blockedSince >= 15 * MINUTE) {
            this.fail(u, t, {
              errorCode: 'PodEvictionFailure',
              errorMessage: `Reached max retries while trying to evict pods from nodes in node group ${u.ng.name}`,
              resourceIds: [node.metadata.name],
            });
            return;
          }
          u.nextAt = t + 30 * SECOND;
          return;
        }
        u.blockedSince = undefined;
        const fresh = this.nodesOf(u.cluster, u.ng.name).filter((n) => !n.spec?.unschedulable);
        pods.forEach((p, i) => this.reschedule(u.cluster, p, fresh[i % Math.max(1, fresh.length)], t));
        u.step = 'terminate';
        u.nextAt = t + 60 * SECOND;
        return;
      }
      case 'terminate': {
        const node = this.oldNodes(u)[0];
        if (node) {
          this.removeNode(u.cluster, u.ng, node, t);
          // The Auto Scaling group keeps its desired size: the replacement comes from the new template.
          const fresh = this.launchNode(u.cluster, u.ng, u.target.image, u.target.releaseVersion);
          // Without surge (MINIMAL) the drained pods had nowhere to go: they wait for the replacement.
          for (const p of kube.pods.values())
            if (!p.spec?.nodeName && this.workloadOf.get(p)?.nodegroup === u.ng.name && !isDaemonPod(p)) this.reschedule(u.cluster, p, fresh, t);
        }
        u.step = 'drain';
        u.nextAt = t + 30 * SECOND;
        return;
      }
      case 'scale-down': {
        if (!this.enter(u, 'scale-down', t)) return;
        const autoscaler = this.autoscalerOf(u.cluster);
        if (autoscaler && Number(autoscaler.spec?.replicas ?? 0) > 0) {
          // cluster-autoscaler sees pending capacity and scales the group up; EKS then leaves scale down
          // without restoring the size it had before the update.
          asg.desired += 1;
          asg.max = Math.max(asg.max, asg.desired);
          this.launchNode(u.cluster, u.ng, u.target.image, u.target.releaseVersion);
          u.autoscalerInterfered = true;
        } else {
          asg.desired = u.original.desired;
          asg.max = u.original.max;
          for (const extra of this.nodesOf(u.cluster, u.ng.name).slice(asg.desired)) this.removeNode(u.cluster, u.ng, extra, t);
        }
        u.step = 'finish';
        u.nextAt = t + 60 * SECOND;
        return;
      }
      case 'finish': {
        if (u.target.templateVersion && u.ng.launchTemplate) u.ng.launchTemplate.version = u.target.templateVersion;
        u.ng.releaseVersion = u.target.releaseVersion;
        u.ng.version = u.target.version;
        u.ng.status = 'ACTIVE';
        u.status = 'Successful';
        u.endedAt = t;
        return;
      }
    }
  }

  /** A failed update stops where it is: EKS leaves the nodes it made and the ones it had not drained. */
  private fail(u: NodegroupUpdate, t: number, error: UpdateError): void {
    u.status = 'Failed';
    u.errors.push(error);
    u.endedAt = t;
    u.ng.status = 'ACTIVE';
  }

  /** Terminates a node: its DaemonSet pods go with it, its other pods move to the group's other schedulable nodes. */
  private removeNode(cluster: SimCluster, ng: SimNodegroup, node: KubeObject, t: number): void {
    const kube = this.kubeOf(cluster);
    kube.nodes.delete(node.metadata.name);
    for (const p of kube.podsOn(node.metadata.name).filter(isDaemonPod)) {
      kube.pods.delete(KubeState.key(p.metadata.namespace, p.metadata.name));
      kube.lives.delete(KubeState.key(p.metadata.namespace, p.metadata.name));
    }
    const rest = this.nodesOf(cluster, ng.name).filter((n) => !n.spec?.unschedulable);
    kube.podsOn(node.metadata.name).forEach((p, i) => this.reschedule(cluster, p, rest[i % Math.max(1, rest.length)], t));
  }

  /**
   * Places a pod on a node at `t`, and decides what it does there: on a node of an update's target
   * image, a workload the new AMI breaks never gets ready or crash-loops, a slow one takes minutes;
   * elsewhere it is ready within seconds. A degraded pod stays degraded.
   */
  private reschedule(cluster: SimCluster, pod: KubeObject, node: KubeObject | undefined, t: number): void {
    const kube = this.kubeOf(cluster);
    const w = this.workloadOf.get(pod);
    const key = KubeState.key(pod.metadata.namespace, pod.metadata.name);
    pod.spec = { ...pod.spec, nodeName: node?.metadata.name };
    const onNew = !!node && this.updates.some((u) => u.target.image === node.metadata.labels?.['eks.amazonaws.com/nodegroup-image']);
    const mode = !onNew ? 'healthy' : w?.unhealthyOnNewImage ? 'never-ready' : (w?.onNewImage ?? 'healthy');
    const degraded = kube.lives.get(key)?.degraded ?? false;
    pod.status = { ...pod.status, phase: node ? 'Running' : 'Pending' };
    kube.lives.set(key, {
      startedAt: t,
      readyAt: !node || mode === 'never-ready' || mode === 'crash-loop' ? null : t + (mode === 'slow' ? (w?.readyAfterMinutes ?? 5) * MINUTE : 20 * SECOND),
      crashLoop: mode === 'crash-loop',
      degraded,
      ...(mode === 'never-ready'
        ? { failure: 'Readiness probe failed: HTTP probe failed with statuscode: 503' }
        : degraded
          ? { failure: kube.lives.get(key)?.failure }
          : {}),
    });
  }
}

function isDaemonPod(pod: KubeObject): boolean {
  return (pod.metadata.ownerReferences as { kind: string }[] | undefined)?.[0]?.kind === 'DaemonSet';
}

function compareMinor(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}
