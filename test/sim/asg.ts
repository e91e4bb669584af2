import { createHash, randomUUID } from 'node:crypto';
import { AwsError } from './aws.js';
import type { KubeObject, KubeState } from './kube.js';
import type { PodLifecycle } from './eviction.js';

/*
 * Self-managed Auto Scaling groups whose instances join their cluster as Kubernetes nodes, on the
 * virtual clock: the part of Auto Scaling the self-managed upgrade (issue 24) drives.
 *
 * - Capacity: Auto Scaling launches or terminates instances until the group's InService and Pending
 *   instances equal its desired capacity (Auto Scaling user guide, "Set scaling limits": min <= desired
 *   <= max, SetDesiredCapacity and UpdateAutoScalingGroup refuse a desired capacity outside them).
 *   Scale-in picks instances as the default termination policy does, simplified: the Availability Zone
 *   with the most instances, then the oldest launch template version, then the oldest instance
 *   (user guide, "Default termination policy"; the billing-hour step is not modelled).
 * - TerminateInstanceInAutoScalingGroup: `ShouldDecrementDesiredCapacity` true lowers the desired
 *   capacity (refused below the group's minimum), false keeps it, so a replacement launches (Auto Scaling
 *   API reference, TerminateInstanceInAutoScalingGroup). Whether it works while Terminate is suspended
 *   is UNVERIFIED: modelled as it does (it is a user's request, not the Terminate process).
 * - Suspended processes (user guide, "Suspend and resume Amazon EC2 Auto Scaling processes" and "How
 *   suspended processes affect other processes",
 *   https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-suspend-resume-processes.html): Launch
 *   suspended: no instance launches (no scale-out, no replacement, no rebalancing); Terminate
 *   suspended: no scale-in (the group stays above its desired capacity); AZRebalance: no rebalancing
 *   between zones; HealthCheck: instances are no longer marked unhealthy; ReplaceUnhealthy: unhealthy
 *   instances are not replaced. AlarmNotification, ScheduledActions, AddToLoadBalancer and
 *   InstanceRefresh are accepted and listed: the simulator has no alarms, schedules, load balancers or
 *   instance refreshes for them to stop. SuspendProcesses without a list suspends all nine.
 * - Launch failures: past `capacityLimit` running instances a launch fails with
 *   InsufficientInstanceCapacity, recorded as a Failed scaling activity (API reference,
 *   DescribeScalingActivities: "If an attempt to launch instances failed, the StatusCode value is Failed
 *   ... and the StatusMessage element ... indicates the cause"; the message's wording follows EC2's
 *   InsufficientInstanceCapacity error, UNVERIFIED word for word); Auto Scaling tries again a minute later.
 * - Where instances come from: a launch template (a version number, `$Latest` or `$Default`, resolved at
 *   launch: Auto Scaling API reference, LaunchTemplateSpecification), a mixed instances policy (its
 *   overrides taken in turn, each with its own template or the policy's; the allocation strategies are
 *   not modelled), or a launch configuration. An instance shows the version as the group named it, an
 *   alias too, or with `numberOf` the number it resolved to (UNVERIFIED which: the action reads both). UpdateAutoScalingGroup with one of LaunchTemplate,
 *   MixedInstancesPolicy or LaunchConfigurationName replaces the others ("If you specify
 *   LaunchConfigurationName in your update request, you can't specify LaunchTemplate or
 *   MixedInstancesPolicy", API reference, UpdateAutoScalingGroup). A MixedInstancesPolicy update keeps
 *   the InstancesDistribution unless it is sent ("Any parameters that you don't specify are not
 *   changed", AWS CLI reference, update-auto-scaling-group); its LaunchTemplate's overrides are what is
 *   sent (none if none: whether an omitted list is kept is UNVERIFIED, the inconvenient answer modelled).
 * - Nodes: an instance is InService 30 s after launch; its kubelet registers the node 60 s after launch
 *   and it is Ready 90 s after (never, under the `neverReady` fault). These are the model's defaults,
 *   not AWS's figures: AWS documents no launch-to-Ready time (UNVERIFIED; it varies with the instance
 *   type, the image and the user data), so a group may set its own (`GroupSpec.timings`,
 *   `SimSelfManaged.live.timings`), and the bench (test/bench/self-managed.ts) varies them. The node
 *   has `spec.providerID` `aws:///<az>/<instance-id>` (the AWS cloud provider's form) and the labels the kubelet sets
 *   ("Node Labels Populated By The Kubelet", https://kubernetes.io/docs/reference/node/node-labels/:
 *   kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch, node.kubernetes.io/instance-type,
 *   topology.kubernetes.io/region and zone), and for an eksctl group eksctl's
 *   alpha.eksctl.io/cluster-name and alpha.eksctl.io/nodegroup-name (eksctl drains an unmanaged node
 *   group's nodes by the latter's label selector). A terminated instance's node is deleted with its pods
 *   (logged as removed by `node-gone`: not through the eviction API).
 */

export const SCALING_PROCESSES = [
  'Launch',
  'Terminate',
  'AddToLoadBalancer',
  'AlarmNotification',
  'AZRebalance',
  'HealthCheck',
  'InstanceRefresh',
  'ReplaceUnhealthy',
  'ScheduledActions',
] as const;
export type ScalingProcess = (typeof SCALING_PROCESSES)[number];

const SECOND = 1000;
export const IN_SERVICE_AFTER_MS = 30 * SECOND;
export const JOINS_AFTER_MS = 60 * SECOND;
export const READY_AFTER_MS = 90 * SECOND;

/** When, after its launch, an instance is InService, its node registered, and the node Ready (ms). */
export interface NodeTimings {
  inServiceMs: number;
  joinMs: number;
  readyMs: number;
}
export const DEFAULT_NODE_TIMINGS: NodeTimings = { inServiceMs: IN_SERVICE_AFTER_MS, joinMs: JOINS_AFTER_MS, readyMs: READY_AFTER_MS };
const TERMINATING_MS = 30 * SECOND;
const LAUNCH_RETRY_MS = 60 * SECOND;

export interface GroupInstance {
  id: string;
  az: string;
  instanceType: string;
  /** The launch template version it was launched from (or its launch configuration), and that version's image. */
  template: { id: string; name: string; version: string } | null;
  launchConfiguration?: string;
  imageId: string;
  lifecycle: 'Pending' | 'InService' | 'Terminating';
  health: 'Healthy' | 'Unhealthy';
  launchedAt: number;
  /** When it is gone (Terminating). */
  goneAt?: number;
  protectedFromScaleIn: boolean;
  node: string;
  neverReady: boolean;
}

export interface ScalingActivity {
  id: string;
  group: string;
  description: string;
  cause: string;
  start: number;
  end: number;
  status: 'Successful' | 'Failed';
  message?: string;
}

export interface GroupSpec {
  name: string;
  cluster: string;
  region: string;
  azs: string[];
  min: number;
  max: number;
  desired: number;
  instanceType: string;
  template: { id: string; name: string; version: string } | null;
  eksctl: boolean;
  mixed?: MixedPolicy | null;
  launchConfiguration?: string | null;
  /** Instances show the version number an alias resolved to at launch (the other answer to the UNVERIFIED above). */
  numberOf?: (template: TemplateRef) => string;
  /** Its instances' launch-to-node times; DEFAULT_NODE_TIMINGS for those not given. */
  timings?: Partial<NodeTimings>;
}

type TemplateRef = { id: string; name: string; version: string };
export interface MixedPolicy {
  main: TemplateRef;
  overrides: { instanceType: string; template?: TemplateRef }[];
}

/** One self-managed group's live state. */
export class LiveGroup {
  min: number;
  max: number;
  desired: number;
  template: GroupSpec['template'];
  mixed: MixedPolicy | null;
  launchConfiguration: string | null;
  /** The mixed instances policy's InstancesDistribution, as sent (a test's knob: nothing reads it). */
  instancesDistribution: Record<string, string> = { OnDemandBaseCapacity: '1', SpotAllocationStrategy: 'price-capacity-optimized' };
  readonly instances: GroupInstance[] = [];
  readonly suspended = new Map<ScalingProcess, number>();
  readonly activities: ScalingActivity[] = [];
  /**
   * Tags written with CreateOrUpdateTags and removed with DeleteTags (Auto Scaling API reference: a key
   * that exists is overwritten; a value is at most 256 characters, TagDescription.Value).
   */
  readonly tags = new Map<string, string>();
  /** An instance refresh someone started, as DescribeInstanceRefreshes lists it (a test's knob: nothing is replaced by it). */
  instanceRefresh: { id: string; status: string } | null = null;
  /** Fault knobs: the most instances EC2 can run for it; its new instances' nodes never become Ready. */
  capacityLimit = Infinity;
  neverReady = false;
  private nextLaunchAt = 0;
  private counter = 0;
  private readonly timings: NodeTimings;

  constructor(
    readonly spec: GroupSpec,
    private readonly kube: KubeState,
    private readonly pods: PodLifecycle,
    private readonly imageOf: (template: GroupSpec['template'], launchConfiguration?: string) => string,
    now: number,
    private readonly archOf: (imageId: string) => string = () => 'x86_64',
  ) {
    this.min = spec.min;
    this.max = spec.max;
    this.desired = spec.desired;
    this.template = spec.template;
    this.mixed = spec.mixed ?? null;
    this.launchConfiguration = spec.launchConfiguration ?? null;
    this.timings = { ...DEFAULT_NODE_TIMINGS, ...spec.timings };
    // The instances it runs at the start: InService, their nodes Ready, launched an hour ago.
    for (let i = 0; i < spec.desired; i++) this.launch(now - 3_600_000, false);
  }

  private active(): GroupInstance[] {
    return this.instances.filter((i) => i.lifecycle !== 'Terminating');
  }

  private activity(description: string, cause: string, at: number, status: ScalingActivity['status'] = 'Successful', message?: string): void {
    this.activities.push({ id: randomUUID(), group: this.spec.name, description, cause, start: at, end: at, status, ...(message ? { message } : {}) });
  }

  private launch(at: number, record = true): GroupInstance {
    const n = ++this.counter;
    const id = `i-${createHash('sha1').update(`${this.spec.cluster}/${this.spec.name}/${n}`).digest('hex').slice(0, 17)}`;
    // The zone with the fewest instances (Auto Scaling keeps the zones balanced).
    const count = (az: string) => this.active().filter((x) => x.az === az).length;
    const az = [...this.spec.azs].sort((a, b) => count(a) - count(b) || a.localeCompare(b))[0]!;
    const host = `ip-10-1-${Math.floor(n / 250)}-${n % 250}.${this.spec.region === 'us-east-1' ? 'ec2.internal' : `${this.spec.region}.compute.internal`}`;
    // A mixed instances policy's overrides in turn, each with its own template or the policy's.
    const override = this.mixed?.overrides.length ? this.mixed.overrides[(n - 1) % this.mixed.overrides.length] : undefined;
    const template = this.mixed ? (override?.template ?? this.mixed.main) : this.template;
    const lc = this.launchConfiguration ?? undefined;
    const instance: GroupInstance = {
      id,
      az,
      instanceType: override?.instanceType ?? this.spec.instanceType,
      template: template && !lc ? { ...template, ...(this.spec.numberOf ? { version: this.spec.numberOf(template) } : {}) } : null,
      ...(lc ? { launchConfiguration: lc } : {}),
      imageId: lc ? this.imageOf(null, lc) : this.imageOf(template),
      lifecycle: record ? 'Pending' : 'InService',
      health: 'Healthy',
      launchedAt: at,
      protectedFromScaleIn: false,
      node: host,
      neverReady: record && this.neverReady,
    };
    this.instances.push(instance);
    if (record)
      this.activity(`Launching a new EC2 instance: ${id}`, `an instance was started in response to a difference between desired and actual capacity`, at);
    else this.join(instance, at);
    return instance;
  }

  /** The kubelet registers the node (NotReady until `timings.readyMs` after launch). */
  private join(i: GroupInstance, now: number): void {
    if (this.kube.nodes.has(i.node)) return;
    const labels: Record<string, string> = {
      'kubernetes.io/hostname': i.node,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': this.archOf(i.imageId) === 'arm64' ? 'arm64' : 'amd64',
      'node.kubernetes.io/instance-type': i.instanceType,
      'topology.kubernetes.io/region': this.spec.region,
      'topology.kubernetes.io/zone': i.az,
      ...(this.spec.eksctl ? { 'alpha.eksctl.io/cluster-name': this.spec.cluster, 'alpha.eksctl.io/nodegroup-name': this.spec.name } : {}),
    };
    const node: KubeObject = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: i.node, labels, creationTimestamp: new Date(Math.max(i.launchedAt + this.timings.joinMs, 0)).toISOString() },
      spec: { providerID: `aws:///${i.az}/${i.id}` },
      status: {
        conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }],
        nodeInfo: { kubeletVersion: 'v1.33.0', osImage: 'Amazon Linux 2023' },
      },
    };
    this.kube.nodes.set(i.node, node);
    this.ready(i, now);
  }

  private ready(i: GroupInstance, now: number): void {
    const node = this.kube.nodes.get(i.node);
    if (!node || i.neverReady || now < i.launchedAt + this.timings.readyMs) return;
    node.status = { ...node.status, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] };
  }

  private terminate(i: GroupInstance, at: number, cause: string): void {
    if (i.lifecycle === 'Terminating') return;
    i.lifecycle = 'Terminating';
    i.goneAt = at + TERMINATING_MS;
    this.activity(`Terminating EC2 instance: ${i.id}`, cause, at);
  }

  /** Scale-in order: the zone with the most instances, the oldest template version, the oldest instance. */
  private scaleInOrder(): GroupInstance[] {
    const active = this.active().filter((i) => !i.protectedFromScaleIn);
    const inZone = (az: string) => active.filter((x) => x.az === az).length;
    const version = (i: GroupInstance) => Number(i.template?.version ?? 0);
    return active.sort((a, b) => inZone(b.az) - inZone(a.az) || version(a) - version(b) || a.launchedAt - b.launchedAt);
  }

  /** Brings the group up to the virtual now. */
  settle(now: number): void {
    for (const i of [...this.instances]) {
      if (i.lifecycle === 'Pending' && now >= i.launchedAt + this.timings.inServiceMs) i.lifecycle = 'InService';
      if (i.lifecycle !== 'Terminating' && now >= i.launchedAt + this.timings.joinMs) this.join(i, now);
      if (i.lifecycle !== 'Terminating') this.ready(i, now);
      if (i.lifecycle === 'Terminating' && now >= (i.goneAt ?? Infinity)) {
        this.instances.splice(this.instances.indexOf(i), 1);
        this.pods.nodeGone(i.node);
        this.kube.nodes.delete(i.node);
      }
    }
    const on = (p: ScalingProcess) => !this.suspended.has(p);
    // ReplaceUnhealthy: an unhealthy instance is terminated, and (Launch permitting) replaced below.
    if (on('ReplaceUnhealthy'))
      for (const i of this.active().filter((x) => x.health === 'Unhealthy'))
        this.terminate(i, now, 'an instance was taken out of service in response to a health check');
    const active = this.active();
    if (active.length < this.desired && on('Launch') && now >= this.nextLaunchAt) {
      for (let k = active.length; k < this.desired; k++) {
        const running = this.instances.length;
        if (running >= this.capacityLimit) {
          const az = this.spec.azs[0]!;
          this.activity(
            'Launching a new EC2 instance.  Status Reason: Could not launch On-Demand Instances. InsufficientInstanceCapacity',
            'an instance was started in response to a difference between desired and actual capacity',
            now,
            'Failed',
            `We currently do not have sufficient ${this.spec.instanceType} capacity in the Availability Zone you requested (${az}). ` +
              'Our system will be working on provisioning additional capacity. Launching EC2 instance failed.',
          );
          this.nextLaunchAt = now + LAUNCH_RETRY_MS;
          break;
        }
        this.launch(now);
      }
    }
    if (active.length > this.desired && on('Terminate')) {
      for (const i of this.scaleInOrder().slice(0, active.length - this.desired))
        this.terminate(i, now, 'an instance was taken out of service in response to a difference between desired and actual capacity');
    }
    // AZRebalance: zones more than one instance apart: launch in the smaller first (Launch permitting), then terminate in the larger.
    if (on('AZRebalance') && on('Launch') && this.active().length === this.desired && this.spec.azs.length > 1) {
      const count = (az: string) => this.active().filter((x) => x.az === az).length;
      const sorted = [...this.spec.azs].sort((a, b) => count(a) - count(b));
      const [small, large] = [sorted[0]!, sorted.at(-1)!];
      if (count(large) - count(small) > 1 && this.instances.length < this.capacityLimit) {
        const fresh = this.launch(now);
        fresh.az = small;
        const victim = this.scaleInOrder().find((x) => x.az === large);
        if (victim && on('Terminate'))
          this.terminate(victim, now, 'an instance was taken out of service in response to an Availability Zone rebalancing operation');
      }
    }
  }

  setDesired(desired: number, now: number): void {
    if (desired > this.max)
      throw new AwsError(400, 'ValidationError', `New SetDesiredCapacity value ${desired} is above max value ${this.max} for the AutoScalingGroup.`);
    if (desired < this.min)
      throw new AwsError(400, 'ValidationError', `New SetDesiredCapacity value ${desired} is below min value ${this.min} for the AutoScalingGroup.`);
    this.desired = desired;
    this.settle(now);
  }

  update(
    change: { min?: number; max?: number; desired?: number; template?: GroupSpec['template']; mixed?: MixedPolicy; launchConfiguration?: string },
    now: number,
  ): void {
    const min = change.min ?? this.min;
    const max = change.max ?? this.max;
    // UpdateAutoScalingGroup: a new min or max alone moves the desired capacity inside them (API reference, UpdateAutoScalingGroup).
    const desired = change.desired ?? Math.min(max, Math.max(min, this.desired));
    if (min > max || desired < min || desired > max)
      throw new AwsError(400, 'ValidationError', `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`);
    Object.assign(this, { min, max, desired });
    if (change.template || change.mixed || change.launchConfiguration) {
      this.template = change.template ?? null;
      this.mixed = change.mixed ?? null;
      this.launchConfiguration = change.launchConfiguration ?? null;
    }
    this.settle(now);
  }

  terminateInstance(id: string, decrement: boolean, now: number): GroupInstance {
    const i = this.instances.find((x) => x.id === id && x.lifecycle !== 'Terminating');
    if (!i) throw new AwsError(400, 'ValidationError', `Instance Id not found - No managed instance found for instance ID: ${id}`);
    if (decrement) {
      if (this.desired - 1 < this.min)
        throw new AwsError(
          400,
          'ValidationError',
          `Currently, desiredSize equals minSize (${this.min}). Terminating instance without replacement will violate group's min size constraint. ` +
            "Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.",
        );
      this.desired -= 1;
    }
    this.terminate(
      i,
      now,
      `At ${new Date(now).toISOString()} instance ${id} was taken out of service in response to a user request${decrement ? ', shrinking the capacity' : ''}.`,
    );
    this.settle(now);
    return i;
  }

  suspend(processes: string[], now: number): void {
    for (const p of this.processes(processes)) if (!this.suspended.has(p)) this.suspended.set(p, now);
  }

  resume(processes: string[], now: number): void {
    for (const p of this.processes(processes)) this.suspended.delete(p);
    this.settle(now);
  }

  private processes(names: string[]): ScalingProcess[] {
    if (names.length === 0) return [...SCALING_PROCESSES];
    const bad = names.find((n) => !(SCALING_PROCESSES as readonly string[]).includes(n));
    if (bad) throw new AwsError(400, 'ValidationError', `Unknown process type: ${bad}. Valid processes: ${SCALING_PROCESSES.join(', ')}`);
    return names as ScalingProcess[];
  }

  putTag(key: string, value: string): void {
    if (value.length > 256)
      throw new AwsError(
        400,
        'ValidationError',
        `1 validation error detected: Value at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256`,
      );
    this.tags.set(key, value);
  }

  /** HealthCheck (unless suspended) marks the instance unhealthy: a fault knob. */
  failHealthCheck(id: string, now: number): void {
    const i = this.instances.find((x) => x.id === id);
    if (i && !this.suspended.has('HealthCheck')) i.health = 'Unhealthy';
    this.settle(now);
  }
}
