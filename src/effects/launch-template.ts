import type { Nodegroup } from '@aws-sdk/client-eks';
import { CreateLaunchTemplateVersionCommand, paginateDescribeLaunchTemplateVersions, type EC2Client } from '@aws-sdk/client-ec2';
import type { PlanItem } from '../model/plan.js';
import { describeError } from '../fleet/aws-clients.js';
import type { Executor, PreflightCheck } from './executor.js';
import { managedExecutor, param, type ManagedTarget } from './managed-update.js';

/**
 * A CUSTOM managed node group is moved to its target image through its launch template: a new
 * version naming the image, which EKS rolls out. EKS takes no version or releaseVersion for it (EKS
 * API reference, UpdateNodegroupVersion). It is at its target when it runs that version.
 */
export const imageTarget: ManagedTarget = {
  prepare: async (check, nodegroup, ctx) => {
    check.template = await prepareTemplate(ctx.clients.ec2, ctx.cluster.name, check.item, nodegroup, check.problems);
  },
  goesTo: (u, check) => check.template?.made !== undefined && param(u, 'LaunchTemplateVersion') === check.template.made,
  isAt: (ng, check) => check.template?.made !== undefined && ng.launchTemplate?.version === check.template.made,
  describeAt: (ng, check) => ({ at: `launch template version ${ng?.launchTemplate?.version}`, want: `launch template version ${check.template?.made}` }),
  updateParams: async (check, ctx) => {
    const template = check.template!;
    const label = `${ctx.cluster.name}/${check.item.nodegroup}`;
    let version: string;
    try {
      version = template.made ?? (await createTemplateVersion(ctx.clients.ec2, ctx.cluster.name, check.item, template));
    } catch (error) {
      throw new Error(`CreateLaunchTemplateVersion failed: ${describeError(error)}`);
    }
    const how = template.made ? ' (made by an earlier run)' : ` (new, from version ${template.current}; the default version is unchanged)`;
    ctx.deps.log(`${label}: launch template ${template.id} version ${version} names ${check.item.target?.imageId}${how}`);
    template.made = version;
    return { launchTemplate: { id: template.id, version } };
  },
};

export const imageExecutor: Executor = managedExecutor(imageTarget);

/** How the action marks the launch template version it makes, so a re-run finds it rather than making another. */
export function templateMarker(cluster: string, item: PlanItem): string {
  return `eks-ami-drift: ${item.target?.imageId} for ${cluster}/${item.nodegroup}`;
}

/**
 * A CUSTOM node group's launch template, before anything changes: the version it runs, the version an
 * earlier run made for this image (found by its description and image), and whether the caller may
 * make a version (CreateLaunchTemplateVersion with DryRun: DryRunOperation when allowed,
 * UnauthorizedOperation when not; EC2 API reference, DryRun).
 */
async function prepareTemplate(
  ec2: EC2Client,
  cluster: string,
  item: PlanItem,
  nodegroup: Nodegroup | undefined,
  problems: string[],
): Promise<PreflightCheck['template']> {
  const lt = nodegroup?.launchTemplate;
  if (!lt?.id || !lt.version) {
    problems.push('a CUSTOM node group without a launch template id and version: nothing to update through');
    return undefined;
  }
  const template = { id: lt.id, name: lt.name ?? null, current: lt.version } as NonNullable<PreflightCheck['template']>;
  try {
    const marker = templateMarker(cluster, item);
    for await (const page of paginateDescribeLaunchTemplateVersions({ client: ec2 }, { LaunchTemplateId: lt.id })) {
      const ours = (page.LaunchTemplateVersions ?? []).find((v) => v.VersionDescription === marker && v.LaunchTemplateData?.ImageId === item.target?.imageId);
      if (ours?.VersionNumber !== undefined) template.made = String(ours.VersionNumber);
    }
  } catch (error) {
    problems.push(`cannot read launch template ${lt.id}: ${describeError(error)}`);
    return template;
  }
  if (template.made) return template;
  try {
    await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        DryRun: true,
        LaunchTemplateId: lt.id,
        SourceVersion: lt.version,
        LaunchTemplateData: { ImageId: item.target?.imageId },
      }),
    );
  } catch (error) {
    const code = (error as { name?: string }).name;
    if (code === 'UnauthorizedOperation')
      problems.push(
        `not allowed to make a version of launch template ${lt.id} naming ${item.target?.imageId}: ` +
          `grant ec2:CreateLaunchTemplateVersion (${describeError(error)})`,
      );
    else if (code !== 'DryRunOperation') problems.push(`launch template ${lt.id}: ${describeError(error)}`);
  }
  return template;
}

/**
 * Makes the launch template version naming the target image: a copy of the version the node group
 * runs (SourceVersion), with only ImageId changed (EC2 API reference, CreateLaunchTemplateVersion:
 * what is given overrides the source). The template's default version is left as it is.
 */
async function createTemplateVersion(ec2: EC2Client, cluster: string, item: PlanItem, template: NonNullable<PreflightCheck['template']>): Promise<string> {
  const { LaunchTemplateVersion } = await ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: template.id,
      SourceVersion: template.current,
      VersionDescription: templateMarker(cluster, item),
      LaunchTemplateData: { ImageId: item.target?.imageId },
    }),
  );
  if (LaunchTemplateVersion?.VersionNumber === undefined) throw new Error('CreateLaunchTemplateVersion returned no version number');
  return String(LaunchTemplateVersion.VersionNumber);
}
