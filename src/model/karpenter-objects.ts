/*
 * Karpenter's objects as the check reads them (karpenter.k8s.aws/v1 EC2NodeClass, karpenter.sh/v1
 * NodePool and NodeClaim), and EKS Auto Mode's node pools: only the fields the action uses. Shapes
 * only, from aws/karpenter-provider-aws pkg/apis/v1 (ec2nodeclass.go, ec2nodeclass_status.go) and
 * kubernetes-sigs/karpenter pkg/apis/v1 (nodepool.go, nodeclaim.go).
 */

/** A node selector requirement (core/v1 NodeSelectorRequirement), as NodePools and `status.amis` carry them. */
export interface Requirement {
  key: string;
  operator: string;
  values: string[];
}

/** One of an EC2NodeClass's `spec.amiSelectorTerms`: an alias (`al2023@v20260505`), or ids, names, tags, an SSM parameter. */
export interface AmiSelectorTerm {
  alias?: string;
  id?: string;
  name?: string;
  owner?: string;
  tags?: Record<string, string>;
  ssmParameter?: string;
}

/** One image of an EC2NodeClass's `status.amis`: what its selector terms resolve to now, per instance requirements. */
export interface ResolvedAmi {
  id: string;
  name: string | null;
  deprecated: boolean;
  requirements: Requirement[];
}

/** One of a NodePool's `spec.disruption.budgets`: how many nodes at once, when (cron schedule and duration), for which reasons. */
export interface DisruptionBudget {
  nodes: string;
  schedule: string | null;
  duration: string | null;
  /** `Drifted`, `Underutilized`, `Empty`; null: every reason. */
  reasons: string[] | null;
}

/** A karpenter.sh/v1 NodePool. */
export interface NodePoolRead {
  name: string;
  /** `spec.template.spec.nodeClassRef`: an EC2NodeClass (group karpenter.k8s.aws) or an Auto Mode NodeClass (group eks.amazonaws.com). */
  nodeClassRef: { group: string; kind: string; name: string };
  requirements: Requirement[];
  /** `spec.template.spec.expireAfter` (`336h`, `Never`); null: not set. */
  expireAfter: string | null;
  /** `spec.disruption.budgets`; empty: Karpenter's default (10% of the nodes). */
  budgets: DisruptionBudget[];
}

/** A karpenter.sh/v1 NodeClaim: the only place a node's image shows (`status.imageID`). */
export interface NodeClaimRead {
  name: string;
  nodePool: string | null;
  nodeClass: string | null;
  imageId: string | null;
  nodeName: string | null;
  /** `metadata.creationTimestamp` (ISO 8601): when Karpenter made it; the staged rollout counts a version's soak from it. */
  createdAt?: string | null;
  /** Its `Ready` condition (Launched, Registered and Initialized all True); null: not said yet. */
  ready?: boolean | null;
}

/** An EC2NodeClass with the NodePools that use it and the NodeClaims made from it. */
export interface NodeClassRead {
  name: string;
  amiFamily: string | null;
  terms: AmiSelectorTerm[];
  amis: ResolvedAmi[];
  /** Its `Ready` condition; null: no status yet. */
  ready: { status: string; message: string | null } | null;
  nodePools: NodePoolRead[];
  nodeClaims: NodeClaimRead[];
}

/** An EKS Auto Mode NodePool (on an `eks.amazonaws.com` NodeClass) and its nodes. */
export interface AutoModePoolRead {
  pool: NodePoolRead;
  /** Its nodes (labelled `eks.amazonaws.com/compute-type: auto` and `karpenter.sh/nodepool`), with their creation time (ISO 8601). */
  nodes: { name: string; createdAt: string | null }[];
}

/** What the check says of an EC2NodeClass, beside the node group fields. */
export interface NodeClassReport {
  /** Its selector terms as text: `alias al2023@v20260505`, `id ami-…`, `tags team=x`. */
  selector: string;
  /** The images `status.amis` names now. */
  resolved: string[];
  nodePools: string[];
  /** The architectures and variants its NodePools allow, as Karpenter's AMI family reads them: `x86_64/standard`, `arm64/nvidia`. */
  required: string[];
  /** Those the pinned version is not published for (Karpenter skips them: such nodes cannot launch). */
  missing: string[];
  /** NodeClaims made from it, and those whose image is not one the class resolves now (drifted, not yet replaced). */
  nodes: number;
  onOlderImage: number;
  /** The alias it should move to (`al2023@v20260625`), when it should. */
  targetAlias: string | null;
  /** Its NodePools' disruption budgets: within them Karpenter replaces the drifted nodes (shown in the pull request). */
  budgets?: { nodePool: string; budgets: DisruptionBudget[] }[];
}

/** What the check says of an EKS Auto Mode NodePool: nothing to pin, what replaces its nodes and when. */
export interface AutoModeReport {
  nodeClass: string;
  /** `336h`, `Never`; null: not set. */
  expireAfter: string | null;
  /** Auto Mode's own limit on a node's life, in days (21). */
  maxLifetimeDays: number;
  /** Its nodes' ages in days, oldest first. */
  nodeAgesDays: number[];
  budgets: DisruptionBudget[];
}
