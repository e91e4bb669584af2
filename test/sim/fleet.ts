import type { NodeTimings } from './asg.js';
import type { IdentitySpec } from './identity.js';
import type { SimImageSpec } from './images.js';
import type { ThrottleModel } from './throttle.js';
import type { SimAutoMode, SimKarpenter } from './karpenter.js';
import type { MemberAccountSpec } from './members.js';
/** The description a simulator is started from: what the fleet looks like before anything happens. */
export interface SimNodegroup {
  name: string;
  amiType: string;
  /** Kubernetes minor, `1.31`. */
  version: string;
  releaseVersion: string;
  desiredSize?: number;
  minSize?: number;
  maxSize?: number;
  status?: string;
  /**
   * Made from a launch template (terraform-aws-eks's default). `image`: the AMI the template version
   * names (a CUSTOM node group must have one; its releaseVersion is then that image's id).
   */
  launchTemplate?: { id: string; name: string; version: string; tagSpecifications?: boolean; image?: SimImageSpec };
  /** The node group's tags (DescribeNodegroup's `tags`; TagResource and UntagResource change them). */
  tags?: Record<string, string>;
  /** Minutes since EKS created it (DescribeNodegroup's createdAt); 2025-01-01 when absent. */
  createdMinutesAgo?: number;
  /**
   * Bottlerocket only: the OS version its nodes were updated to in place (the Bottlerocket update
   * operator, brupop; bottlerocket-os/bottlerocket-update-operator #705), newer than its release. The
   * nodes it has when the simulator starts report it as their osImage; nodes it launches later start
   * on the release they were launched with.
   */
  inPlace?: string;
  /**
   * DescribeNodegroup's updateConfig (EKS API reference, NodegroupUpdateConfig); `{ maxUnavailable: 1 }`
   * when absent. MINIMAL "terminates the old instances before launching the new instances": the
   * simulated update then adds no surge nodes. The simulator replaces one node at a time whatever
   * maxUnavailable says (the action only reports it).
   */
  updateConfig?: { maxUnavailable?: number; maxUnavailablePercentage?: number; updateStrategy?: 'DEFAULT' | 'MINIMAL' };
  /** ON_DEMAND when absent. CAPACITY_BLOCK node groups are updated only at desired size 0 (EKS user guide, Capacity Blocks). */
  capacityType?: 'ON_DEMAND' | 'SPOT' | 'CAPACITY_BLOCK';
  /** nodeRepairConfig.enabled (node auto repair). */
  nodeRepair?: boolean;
  /** Past version updates, already ended, oldest first: a long history. */
  history?: { releaseVersion: string; status: 'Successful' | 'Failed' | 'Cancelled'; minutesAgo: number }[];
  /**
   * Past UpdateNodegroupConfig updates (scaling, labels, taints: IaC and scheduled scaling make
   * hundreds), each a `ConfigUpdate` in the node group's ListUpdates (EKS user guide, update-nodegroup-config;
   * aws-samples/eks-workshop-v2 website/docs/fundamentals/managed-node-groups/taints/configuring-taints.md
   * shows one: `"type": "ConfigUpdate"`, params `TaintsToAdd`). `count` of them, Successful, one every
   * `everyMinutes` (60 when absent) back from a minute ago: they surround the version updates in time.
   */
  configUpdates?: { count: number; everyMinutes?: number };
}

/**
 * A controller Deployment: cluster-autoscaler, or (in `controllers`) Karpenter. Its one container runs
 * `image` with `command`; cluster-autoscaler's default is AWS's example manifest's
 * (kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/examples/cluster-autoscaler-autodiscover.yaml).
 */
export interface SimAutoscaler {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  replicas: number;
  /** `registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.0` when absent. */
  image?: string;
  /** `./cluster-autoscaler --cloud-provider=aws --node-group-auto-discovery=asg:tag=…` when absent. */
  command?: string[];
  /** A GitOps controller keeps this Deployment as Git says: its marks on it, and its self-heal (./kube.ts GitOpsActor). */
  gitops?: SimGitOps;
}

/**
 * Argo CD (an Application, tracked by annotation, applied server-side as `argocd-controller`) or Flux
 * (a Kustomization's labels, applied as `kustomize-controller`) keeping a Deployment at Git's replicas.
 */
export interface SimGitOps {
  tool: 'argocd' | 'flux-kustomize';
  /** The Application's or the Kustomization's name. */
  app: string;
  /** Seconds after spec.replicas leaves Git's value that it is set back (Argo CD's self-heal: 5); null: never (the fix is in place). */
  revertAfterSeconds: number | null;
  /** Flux's `kustomize.toolkit.fluxcd.io/ssa` annotation on the Deployment. */
  ssa?: string;
}

/**
 * A workload whose pods run on one node group's nodes: a Deployment (through a ReplicaSet), a
 * StatefulSet, or a DaemonSet (one pod per node of the node group; `replicas` is then ignored).
 */
export interface SimWorkload {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  nodegroup: string;
  replicas: number;
  /** `Deployment` when absent. */
  kind?: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  /**
   * What its pods do once they run on a node of a new AMI: become ready within seconds (`healthy`,
   * the default), after `readyAfterMinutes` (`slow`), never (`never-ready`: a failing readiness
   * probe), or restart over and over (`crash-loop`).
   */
  onNewImage?: 'healthy' | 'slow' | 'never-ready' | 'crash-loop';
  /** For `slow`: minutes until a pod on a new node is ready (5 when absent). */
  readyAfterMinutes?: number;
  /** Pods never ready on any node, from the start: a workload already degraded before any update. */
  notReady?: number;
  /** Its pods never become ready on nodes of a new AMI (the same as `onNewImage: 'never-ready'`). */
  unhealthyOnNewImage?: boolean;
}

export interface SimPdb {
  name: string;
  namespace: string;
  /** The selector's labels: `{}` selects every pod of the namespace, `null` leaves the selector out (no pod). */
  matchLabels: Record<string, string> | null;
  minAvailable?: number;
  maxUnavailable?: number;
  /** policy/v1 `unhealthyPodEvictionPolicy`; absent: the API's default, IfHealthyBudget. */
  unhealthyPodEvictionPolicy?: 'IfHealthyBudget' | 'AlwaysAllow';
}

/** An Auto Scaling group of the cluster's that EKS does not manage (tagged kubernetes.io/cluster/<name>). */
export interface SimSelfManaged {
  name: string;
  desiredSize: number;
  /**
   * The group's launch template (as `LaunchTemplate`, or inside a mixed instances policy with `mixed`).
   * `older`: earlier versions of the template with their images, which instances may still run.
   * `ssmParameter`: the version's ImageId is `resolve:ssm:<parameter>` instead of an AMI id.
   */
  launchTemplate?: {
    id: string;
    name: string;
    version: string;
    image: SimImageSpec;
    mixed?: boolean;
    byName?: boolean;
    older?: { version: number; image: SimImageSpec }[];
    ssmParameter?: string;
  };
  /** `older`: launch configurations it was made from before, which instances may still run (DescribeLaunchConfigurations lists them). */
  launchConfiguration?: { name: string; image: SimImageSpec; older?: { name: string; image: SimImageSpec }[] };
  /**
   * Its instances, by what each was launched from: a version of the group's template (`version`), an
   * override's template (`template`: its id), or a launch configuration. Absent: `desiredSize`
   * instances of the group's own template version (its number) or configuration.
   */
  instances?: { count: number; instanceType?: string; version?: string; template?: string; launchConfiguration?: string }[];
  /**
   * Live: its instances join the cluster as Kubernetes nodes and Auto Scaling's write calls
   * (SetDesiredCapacity, UpdateAutoScalingGroup, TerminateInstanceInAutoScalingGroup, Suspend/ResumeProcesses)
   * and DescribeScalingActivities work on it (./asg.ts). Its launch template's version is a number.
   * Absent: the group is as described above, with no nodes (what the check reads).
   */
  live?: {
    min?: number;
    max?: number;
    azs?: string[];
    instanceType?: string;
    eksctl?: boolean;
    instancesShowNumber?: boolean;
    timings?: Partial<NodeTimings>;
  };
  /** Overrides of its mixed instances policy (`mixed`): instance types, some with a launch template of their own. */
  overrides?: { instanceType: string; launchTemplate?: { id: string; name: string; version: string; image: SimImageSpec } }[];
}

export interface SimCluster {
  name: string;
  region: string;
  /** Control plane's Kubernetes minor. */
  version: string;
  nodegroups: SimNodegroup[];
  /** The cluster-autoscaler deployment; AWS's example manifest when absent, none when null. */
  autoscaler?: SimAutoscaler | null;
  /** More controller Deployments (Karpenter, a second cluster-autoscaler): served, no pods, never scale a group. */
  controllers?: SimAutoscaler[];
  workloads?: SimWorkload[];
  pdbs?: SimPdb[];
  selfManaged?: SimSelfManaged[];
  /** The cluster's tags (DescribeCluster's `tags`), such as the staged rollout's stage. */
  tags?: Record<string, string>;
  /** Karpenter installed: its EC2NodeClasses and NodePools, their NodeClaims and nodes (./karpenter.ts). */
  karpenter?: SimKarpenter;
  /** EKS Auto Mode runs the cluster (DescribeCluster computeConfig.enabled), with these NodePools and their nodes. */
  autoMode?: SimAutoMode;
}

export interface SimParameter {
  name: string;
  value: string;
  /** ISO 8601. */
  lastModified: string;
  /** Regions where it exists; every region when absent. */
  regions?: string[];
}

export interface FleetSpec {
  accountId?: string;
  clusters: SimCluster[];
  parameters: SimParameter[];
  /**
   * AWS images (by name) not yet copied to some regions: there, their per-release `image_id` parameter
   * does not exist (awslabs/amazon-eks-ami#2673: v20260403 was missing from us-east-1 and us-west-1).
   */
  unpublished?: { image: string; regions: string[] }[];
  /**
   * DescribeClusterVersions' calendar (YYYY-MM-DD); when absent, EKS's published dates for 1.29 to 1.35
   * (EKS user guide, Kubernetes version lifecycle; as tabulated by endoflife.date/amazon-eks).
   */
  clusterVersions?: { version: string; endOfStandardSupport: string; endOfExtendedSupport: string }[];
}

/** Makes the next update of a node group fail when it enters a phase (default: upgrade). */
export interface UpdateFailure {
  errorCode: string;
  errorMessage?: string;
  phase?: 'scale-up' | 'upgrade' | 'scale-down';
}

export interface Faults {
  /** Share (0..1) of AWS requests answered with a throttling error. */
  throttleRate?: number;
  /** Share (0..1) of AWS requests answered with a 5xx. */
  serverErrorRate?: number;
  /** Latency added to every AWS request, in milliseconds. */
  latencyMs?: number;
  /**
   * AWS's request throttling: token buckets per account and Region as AWS documents them (EC2
   * `Describe*`, Parameter Store's reads), and `unverified` for each operation AWS documents no rate
   * for (EKS, Auto Scaling, STS, ...). Past a bucket, the service's throttling error. See throttle.ts.
   */
  throttling?: ThrottleModel;
  /** IAM actions (`eks:DescribeCluster`) allowed; any other gets AccessDenied. Absent: all allowed. */
  allow?: string[];
  /**
   * By IAM action: the resource ARNs (IAM wildcards `*` and `?`) `allow` grants it on; an action absent
   * here is allowed on every resource. Checked for sts:AssumeRole (the hub's policy names the member roles).
   */
  allowResources?: Record<string, string[]>;
  /** Seed of the fault generator, so a run can be repeated. */
  seed?: number;
  /** By live self-managed group name: the most instances EC2 can run for it; launches past it fail with InsufficientInstanceCapacity. */
  asgCapacity?: Record<string, number>;
  /** Live self-managed groups (by name) whose new instances' nodes register and never become Ready. */
  neverReadyGroups?: string[];
  /** Kubernetes RBAC rules allowed (`list nodes`, `patch deployments/scale`); absent: all allowed. */
  kubeAllow?: string[];
  /** Which text EKS refuses a release with: the current one (default) or the 2020 one. */
  refusalText?: 'current' | '2020';
  /**
   * GetParameterHistory on AWS's public parameters refused whatever IAM allows: whether AWS answers it
   * for /aws/service parameters is UNVERIFIED, so both answers are modelled.
   */
  publicParameterHistory?: 'answered' | 'refused';
  /** By `cluster/nodegroup`: the update fails with this error. */
  updateFailures?: Record<string, UpdateFailure>;
  /**
   * Clusters (by name) whose Kubernetes API server accepts connections and never answers: their
   * DescribeCluster endpoint is then a TCP server on 127.0.0.1 that reads the request and sends nothing
   * back. Issue 22 (item 8) measured it: a private endpoint behind a proxy, or a firewall that drops
   * after the handshake, made a read-only check of twelve such clusters run until it was killed.
   */
  kubeHang?: string[];
  /**
   * ListUpdates' order: a fixed shuffle (default: no documented order, users see a random one,
   * aws/containers-roadmap#1439), or `newest-last`, oldest first: as legal, and the worst case for a
   * reader that stops after N ids, since the newest updates come last.
   */
  updatesListed?: 'shuffled' | 'newest-last';
  /**
   * The account can no longer create launch configurations (new accounts since October 1, 2024: Auto
   * Scaling user guide, "Create a launch configuration"): CreateLaunchConfiguration answers 400
   * UnsupportedOperation with the text users report (infrablocks/terraform-aws-bastion#123).
   */
  noLaunchConfigurations?: boolean;
}

export interface SimOptions {
  /**
   * The action runs on the simulator's clock (runAction's `clock`): tokens, sessions and OIDC
   * tokens are then judged by the virtual time. Without it they are judged by the wall clock.
   */
  sharedClock?: boolean;
  /** Credentials: static keys (default), a static session that expires, a role to assume. */
  identity?: IdentitySpec;
  /** Items per page of list operations, so clients must follow nextToken. */
  pageSize?: number;
  faults?: Faults;
  /** Virtual seconds per real second for node group updates (default 1). */
  clockSpeed?: number;
  /**
   * Member accounts (the `accounts` input): each its own fleet and role, assumed from the hub's sessions
   * with STS AssumeRole (./members.ts). Absent: one account, as before.
   */
  members?: MemberAccountSpec[];
}
