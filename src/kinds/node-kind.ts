import type { ClusterState, LatestRelease, NodegroupState, NodeKindId, ParameterRequest, PinKey } from '../model/fleet.js';
import type { NodegroupDecision } from '../model/check-report.js';
import type { PlanItem } from '../model/plan.js';
import type { DriftPolicy } from '../decision/drift.js';
import type { PlanInput } from '../decision/plan.js';
import type { Executor } from '../effects/executor.js';

/**
 * One kind of node, from discovery to upgrade. The check, the proposals and the upgrade ask these
 * questions of every node group and never ask which kind it is: adding a kind is one module here,
 * registered in ./registry.ts, and its tests.
 */
export interface NodeKind {
  readonly id: NodeKindId;
  /** Whether a node group read from AWS is of this kind. The registry asks the kinds in order. */
  matches(ng: NodegroupState): boolean;
  /**
   * Read what runs: whether its AMI is named by id (in a launch template or launch configuration), so
   * that the template or configuration and the image must be read (EC2, Auto Scaling) beyond EKS.
   */
  readonly readsImage: boolean;
  /** The release and AMI type it runs, as the staged rollout's proof counts them; undefined: not a member. */
  runningRelease(ng: NodegroupState): { release: string; amiType: string } | undefined;
  /** Find the published target: the SSM parameters it is compared with. */
  targetParameters(ng: NodegroupState): ParameterRequest[];
  /**
   * The parameters to read once the first ones are: a Karpenter alias's target version, confirmed for
   * every architecture and variant. Absent: none.
   */
  confirmParameters?(ng: NodegroupState, latest: (parameter: string) => LatestRelease | undefined): ParameterRequest[];
  /** Compare what runs with the published target: its status and the reason. Pure. */
  classify(cluster: ClusterState, ng: NodegroupState, latest: (parameter: string) => LatestRelease | undefined, policy: DriftPolicy): NodegroupDecision;
  /** The manifest key that pins it; null: the action reports it but neither proposes nor upgrades it. */
  readonly pinKey: PinKey | null;
  /** What the upgrade does with it, from its pin, the inputs and the latest release. Pure. */
  plan(input: PlanInput): PlanItem;
  /** The executor that rolls it, loaded when an upgrade needs it; null when the action does not roll this kind. */
  readonly executor: (() => Promise<Executor>) | null;
  /**
   * Find the target where it is used: the SSM parameter that holds a target release's own image in
   * the node group's region (it exists only where the image was copied), or undefined when its
   * target is read in its own region already (an image id) or AWS publishes none per release.
   */
  targetImageParameter(amiType: string, minor: string, release: string): string | undefined;
  /** What the health gate waits for on its new nodes: the image they must run, when the target names one. */
  healthTarget(item: PlanItem): { imageId?: string };
}
