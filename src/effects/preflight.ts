import { RunInstancesCommand, DescribeLaunchTemplateVersionsCommand, type _InstanceType, type EC2Client } from '@aws-sdk/client-ec2';
import type { Nodegroup } from '@aws-sdk/client-eks';
import type { KubeApi } from '../model/kube-api.js';
import type { ClusterState } from '../model/fleet.js';
import type { PlanItem } from '../model/plan.js';
import type { UpgradeSettings } from '../model/settings.js';
import { compareMinors } from '../decision/release.js';
import { describeError } from '../fleet/aws-clients.js';
import { describeKubeError } from '../fleet/kube-errors.js';
import { readBlockers, readPlacement, type Placement } from '../fleet/placement.js';
import type { PreflightCheck, UpgradeDeps } from './executor.js';
import { readBaselines } from './health-gate.js';
import type { HealthBaseline } from '../model/upgrade-report.js';

/** What the pre-flight reads of the cluster's Kubernetes API once, for every node group of the plan. */
export interface ClusterLook {
  blockers: Record<string, string[]>;
  baselines: Record<string, HealthBaseline>;
  /** Why the Kubernetes API could not be read as the upgrade needs: blocks every node group. */
  problem?: string;
}

/**
 * Read only: the cluster's pods, nodes and PodDisruptionBudgets (what would block a drain), and, for
 * the health gate, the workloads on each node group.
 */
export async function lookAtCluster(kube: KubeApi, items: readonly PlanItem[], settings: UpgradeSettings): Promise<ClusterLook> {
  const look: ClusterLook = { blockers: {}, baselines: {} };
  let placement: Placement;
  try {
    placement = await readPlacement(
      kube,
      items.map((i) => i.nodegroup),
    );
    look.blockers = await readBlockers(
      kube,
      items.map((i) => i.nodegroup),
      placement,
    );
  } catch (error) {
    return { ...look, problem: `cannot read nodes, pods and PodDisruptionBudgets: ${describeKubeError(error)}` };
  }
  if (settings.healthTimeoutMs > 0) {
    try {
      look.baselines = await readBaselines(kube, placement);
    } catch (error) {
      look.problem =
        'the health gate cannot read the workloads on the node groups (deployments, statefulsets, daemonsets, replicasets, events): ' +
        `${describeKubeError(error)}; grant the RBAC of docs/iam-and-rbac.md, or set health-timeout: 0 to upgrade without the gate`;
    }
  }
  return look;
}

/**
 * A node group's pre-flight record before its executor looks at it. A target that cannot apply (the plan
 * says why) blocks the cluster like any failed check.
 */
export function startCheck(item: PlanItem, look: ClusterLook): PreflightCheck {
  const baseline = look.baselines[item.nodegroup];
  const problems = item.action === 'block' ? [item.reason] : look.problem ? [look.problem] : [];
  return { item, failedAttempts: 0, blockers: [], problems, ...(baseline ? { baseline } : {}) };
}

/** What holds for every kind once its executor has looked: the control plane's version, and the budgets of a new roll. */
export function finishCheck(check: PreflightCheck, cluster: ClusterState, look: ClusterLook): void {
  const { item } = check;
  if (item.target && cluster.version && compareMinors(item.target.version, cluster.version) > 0) {
    check.problems.push(`target Kubernetes ${item.target.version} is newer than the control plane's ${cluster.version}`);
  }
  // An update already draining has its own disruptions: only a new roll is judged by budgets.
  // (Those of a kind whose nodes carry no node group label, a self-managed group's, are its executor's own.)
  if (!check.resume) check.blockers = [...check.blockers, ...(look.blockers[item.nodegroup] ?? [])];
}

/**
 * A node group made from a launch template: EKS reads the template version and launches instances
 * from it as the caller of UpdateNodegroupVersion, so the caller needs
 * `ec2:DescribeLaunchTemplateVersions` (else InvalidRequestException "You are not authorized to
 * describe the launch template version", re:Post QUCe-6r8biRj-GJQdakFnSXw) and, when the template
 * has tag specifications, `ec2:RunInstances` and `ec2:CreateTags` (EKS user guide, "Customize managed
 * nodes with launch templates", Tagging Amazon EC2 instances). Both are checked here, before the
 * pause: the version is read, and RunInstances is tried with DryRun, which answers DryRunOperation when
 * allowed and UnauthorizedOperation when not (EC2 API reference, DryRun). UNVERIFIED whether a dry run
 * also evaluates ec2:CreateTags for the template's tags, and whether EC2 checks authorization before
 * the other parameters: any other answer is a warning, not a block.
 */
export async function launchTemplateProblems(ec2: EC2Client, nodegroup: Nodegroup, deps: Pick<UpgradeDeps, 'warn'>): Promise<string[]> {
  const lt = nodegroup.launchTemplate ?? {};
  const label = `launch template ${lt.id ?? lt.name} version ${lt.version ?? '$Default'}`;
  let data;
  try {
    const { LaunchTemplateVersions } = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({
        ...(lt.id ? { LaunchTemplateId: lt.id } : { LaunchTemplateName: lt.name }),
        Versions: [lt.version ?? '$Default'],
      }),
    );
    data = LaunchTemplateVersions?.[0]?.LaunchTemplateData;
  } catch (error) {
    return [`cannot read ${label} (ec2:DescribeLaunchTemplateVersions, which EKS needs of the caller to update this node group): ${describeError(error)}`];
  }
  if (!data?.TagSpecifications?.length) return [];
  try {
    await ec2.send(
      new RunInstancesCommand({
        DryRun: true,
        MinCount: 1,
        MaxCount: 1,
        LaunchTemplate: { ...(lt.id ? { LaunchTemplateId: lt.id } : { LaunchTemplateName: lt.name }), ...(lt.version ? { Version: lt.version } : {}) },
        ...(nodegroup.subnets?.[0] ? { SubnetId: nodegroup.subnets[0] } : {}),
        ...(!data.InstanceType && nodegroup.instanceTypes?.[0] ? { InstanceType: nodegroup.instanceTypes[0] as _InstanceType } : {}),
      }),
    );
  } catch (error) {
    const code = (error as { name?: string }).name;
    if (code === 'DryRunOperation') return [];
    if (code === 'UnauthorizedOperation') {
      return [
        `not allowed to launch instances from ${label}, whose tag specifications EKS applies as the caller: ` +
          `grant ec2:RunInstances and ec2:CreateTags (${describeError(error)})`,
      ];
    }
    deps.warn(`${nodegroup.nodegroupName}: could not check ec2:RunInstances on ${label} by dry run: ${describeError(error)}`);
  }
  return [];
}

/**
 * Whether the caller may move an Auto Scaling group to a version of its launch template: Auto Scaling
 * checks the caller's `ec2:RunInstances`, and `iam:PassRole` for the instance profile the template
 * names, when a group is created or updated with a launch template (Auto Scaling user guide, "Control
 * Amazon EC2 launch template usage in Auto Scaling groups"), and its refusal ("You are not authorized to
 * use launch template") names neither. Tried before anything changes as RunInstances with DryRun on the
 * version the group uses (the new one differs only in its image). UNVERIFIED whether a dry run
 * evaluates iam:PassRole: a refusal is a problem, any other answer but DryRunOperation a warning.
 */
export async function launchPermissionProblem(ec2: EC2Client, id: string, version: string, warn: (line: string) => void): Promise<string | null> {
  try {
    await ec2.send(new RunInstancesCommand({ DryRun: true, MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateId: id, Version: version } }));
  } catch (error) {
    const code = (error as { name?: string }).name;
    if (code === 'DryRunOperation') return null;
    if (code === 'UnauthorizedOperation')
      return (
        `not allowed to launch from launch template ${id}, as Auto Scaling requires of whoever moves a group to a version of it: ` +
        `grant ec2:RunInstances and iam:PassRole for its instance profile's role (${describeError(error)})`
      );
    warn(`could not check ec2:RunInstances and iam:PassRole on launch template ${id} by dry run: ${describeError(error)}`);
  }
  return null;
}
