import {
  DescribeAutoScalingGroupsCommand,
  DescribeLaunchConfigurationsCommand,
  type AutoScalingGroup,
  type Instance,
  type LaunchTemplateSpecification,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplateVersionsCommand,
  ModifyLaunchTemplateCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { GetParametersCommand } from '@aws-sdk/client-ssm';
import { releaseImageParameter } from '../decision/ami-types.js';
import { eksImageOf } from '../decision/eks-images.js';
import { clusterTag } from '../fleet/autoscaling.js';
import { describeError } from '../fleet/aws-clients.js';
import type { ExecutorContext } from './executor.js';
import { active, type ReplaceRecord, type TemplateSpec } from './self-managed-record.js';

/*
 * Where a self-managed group's instances come from, read before anything changes (the pre-flight), and
 * how the record names it (./self-managed-record.ts): the group's own launch template (`LaunchTemplate`,
 * a version number, `$Latest` or `$Default`), a mixed instances policy's templates (its own and each
 * override's `LaunchTemplateSpecification`, each given the image of its architecture), or a launch
 * configuration (copied with the image). ./self-managed-change.ts makes the change and undoes it.
 */

/** A launch template as the group names it (Auto Scaling API reference, LaunchTemplateSpecification: Version defaults to `$Default`). */
export interface TemplateRef {
  id?: string;
  name?: string;
  version: string;
}

export type Source = { kind: 'template'; main: TemplateRef } | { kind: 'mixed'; main: TemplateRef; overrides: TemplateRef[] } | { kind: 'lc'; name: string };

/** What the pre-flight found: the record's source fields, and whether the group already runs the image. */
export interface SourcePlan {
  template: TemplateSpec;
  mixed?: boolean;
  specs?: TemplateSpec[];
  lc?: { from: string; to: string };
  reached: boolean;
}

const ref = (s: LaunchTemplateSpecification | undefined): TemplateRef | undefined =>
  s?.LaunchTemplateId || s?.LaunchTemplateName ? { id: s.LaunchTemplateId, name: s.LaunchTemplateName, version: s.Version ?? '$Default' } : undefined;
const key = (r: TemplateRef) => `${r.id ?? r.name}@${r.version}`;
export const isAlias = (version: string | undefined) => version === '$Latest' || version === '$Default';

/** The group's source, or why it has none to roll. */
export function sourceOf(g: AutoScalingGroup): Source | string {
  if (g.LaunchConfigurationName) return { kind: 'lc', name: g.LaunchConfigurationName };
  const policy = g.MixedInstancesPolicy?.LaunchTemplate;
  if (policy) {
    const main = ref(policy.LaunchTemplateSpecification);
    if (!main) return 'its mixed instances policy names no launch template';
    const overrides = new Map<string, TemplateRef>();
    for (const o of policy.Overrides ?? []) {
      const r = ref(o.LaunchTemplateSpecification);
      if (r && key(r) !== key(main)) overrides.set(key(r), r);
    }
    return { kind: 'mixed', main, overrides: [...overrides.values()] };
  }
  const main = ref(g.LaunchTemplate);
  return main ? { kind: 'template', main } : 'it has no launch template, mixed instances policy or launch configuration';
}

/**
 * The launch configuration copy's name: deterministic, so a re-run finds the copy an earlier run made
 * (at most 255 characters: Auto Scaling API reference, CreateLaunchConfiguration LaunchConfigurationName).
 */
export function copyName(from: string, image: string): string {
  const suffix = `-eks-ami-drift-${image}`;
  return `${from.replace(/-eks-ami-drift-ami-[0-9a-f]+$/, '').slice(0, 255 - suffix.length)}${suffix}`;
}

/** A version or alias resolved (DescribeLaunchTemplateVersions), with the image it names. */
export async function resolveVersion(ec2: EC2Client, t: TemplateRef): Promise<{ id: string; number: string; imageId?: string }> {
  const { LaunchTemplateVersions } = await ec2.send(
    new DescribeLaunchTemplateVersionsCommand({ ...(t.id ? { LaunchTemplateId: t.id } : { LaunchTemplateName: t.name }), Versions: [t.version] }),
  );
  const v = LaunchTemplateVersions?.[0];
  if (v?.VersionNumber === undefined) throw new Error(`launch template ${t.id ?? t.name} version ${t.version} not found`);
  return { id: v.LaunchTemplateId ?? t.id ?? '', number: String(v.VersionNumber), imageId: v.LaunchTemplateData?.ImageId };
}

/** Whether the caller may make a version (DryRun: DryRunOperation when allowed, UnauthorizedOperation when not; EC2 API reference, DryRun). */
async function dryRun(
  ec2: EC2Client,
  command: CreateLaunchTemplateVersionCommand | ModifyLaunchTemplateCommand,
  grant: string,
  id: string,
  problems: string[],
) {
  try {
    await ec2.send(command as never);
  } catch (error) {
    const code = (error as { name?: string }).name;
    const what = grant === 'ec2:ModifyLaunchTemplate' ? 'set the default version of' : 'make a version of';
    if (code === 'UnauthorizedOperation') problems.push(`not allowed to ${what} launch template ${id}: grant ${grant}`);
    else if (code !== 'DryRunOperation') problems.push(`launch template ${id}: ${describeError(error)}`);
  }
}

/**
 * The architecture of each image (DescribeImages `Architecture`: i386, x86_64, arm64, ...), and the
 * target's name, owner and alias. One call per image: an image deregistered since fails its call
 * (InvalidAMIID.NotFound) and is left out, not the others.
 */
async function describeImages(ec2: EC2Client, ids: string[]) {
  const found = await Promise.all(
    [...new Set(ids)].map(async (id) => {
      try {
        return (await ec2.send(new DescribeImagesCommand({ ImageIds: [id], IncludeDeprecated: true }))).Images?.[0];
      } catch (error) {
        if ((error as { name?: string }).name === 'InvalidAMIID.NotFound') return undefined;
        throw error;
      }
    }),
  );
  return new Map(found.flatMap((i) => (i?.ImageId ? [[i.ImageId, i] as const] : [])));
}

const ARCH: Record<string, string> = { x86_64: 'x86_64', arm64: 'ARM_64' };

/**
 * The image of another architecture of the target's EKS release: the release's own `image_id` SSM
 * parameter (../decision/ami-types.ts releaseImageParameter, the paths Karpenter resolves a pinned
 * alias by), for the AMI type the target's name tells with the architecture swapped. Throws naming what
 * is missing: the target not an EKS-optimized AMI of AWS's, no such AMI type, no parameter in the region.
 */
async function imageForArchitecture(
  ctx: ExecutorContext,
  target: { id: string; name?: string; owner?: string; alias?: string },
  arch: string,
): Promise<string> {
  const eks = eksImageOf({
    imageId: target.id,
    name: target.name ?? null,
    ownerId: target.owner ?? null,
    ownerAlias: target.alias ?? null,
    createdAt: null,
    deprecatedAt: null,
  });
  if (!eks)
    throw new Error(`the target image ${target.id} (${target.name ?? 'no name'}) is not an EKS-optimized AMI of AWS's, so its ${arch} image is not known`);
  const amiType = eks.amiType.replace(/x86_64|ARM_64/, ARCH[arch] ?? arch);
  const release = eks.release.startsWith('v') ? `${eks.minor}-${eks.release.slice(1)}` : eks.release;
  const parameter = amiType === eks.amiType ? undefined : releaseImageParameter(amiType, eks.minor, release);
  if (!parameter) throw new Error(`AWS publishes no ${arch} image of ${eks.amiType} (the target image ${target.id})`);
  try {
    // GetParameters (the policy's ssm:GetParameters on AWS's public parameters) rather than GetParameter: one action fewer to grant.
    const { Parameters, InvalidParameters } = await ctx.clients.ssm.send(new GetParametersCommand({ Names: [parameter] }));
    const value = Parameters?.[0]?.Value;
    if (!value) throw new Error(InvalidParameters?.length ? 'ParameterNotFound: not published in this region' : 'no value');
    return value;
  } catch (error) {
    throw new Error(`no ${arch} image of release ${eks.release} in ${ctx.cluster.region} (SSM parameter ${parameter}: ${describeError(error)})`);
  }
}

/**
 * Other groups of the cluster that follow `$Latest` of a template given a version (it becomes their
 * latest) or `$Default` of one whose default is set: they launch the new image from then on, without
 * a roll. Said as a warning, not stopped on (they may be in the same upgrade).
 */
async function warnShared(ctx: ExecutorContext, name: string, specs: TemplateSpec[]): Promise<void> {
  const affected: string[] = [];
  // A loop rather than the SDK's paginator, which refuses a client that is not the SDK's own class.
  let token: string | undefined;
  do {
    const page = await ctx.clients.autoscaling.send(
      new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'tag-key', Values: [clusterTag(ctx.cluster.name)] }], MaxRecords: 100, NextToken: token }),
    );
    token = page.NextToken;
    for (const other of page.AutoScalingGroups ?? []) {
      const source = other.AutoScalingGroupName === name ? undefined : sourceOf(other);
      if (!source || typeof source === 'string' || source.kind === 'lc') continue;
      const refs = source.kind === 'mixed' ? [source.main, ...source.overrides] : [source.main];
      for (const r of refs) {
        const s = specs.find((x) => x.id === r.id);
        if (s && (r.version === '$Latest' || (r.version === '$Default' && s.alias === '$Default')))
          affected.push(`${other.AutoScalingGroupName} (${r.version} of ${s.id})`);
      }
    }
  } while (token);
  if (affected.length > 0)
    ctx.deps.warn(
      `${ctx.cluster.name}/${name}: ${affected.join(', ')} follow the same launch template: they launch the new image from the template step on, ` +
        'without a roll of their own',
    );
}

/** An instance launched from what the record says it was made for: the copy, or a version made (an alias: UNVERIFIED which one the instance shows). */
export function fromNew(i: Instance, record: ReplaceRecord): boolean {
  if (!active(i)) return false;
  if (record.lc) return i.LaunchConfigurationName === record.lc.to;
  const lt = i.LaunchTemplate;
  return [record.template, ...(record.specs ?? [])].some(
    (s) =>
      s.version !== undefined &&
      (lt?.LaunchTemplateId === s.id || !lt?.LaunchTemplateId) &&
      (lt?.Version === s.version || (s.alias !== undefined && lt?.Version === s.alias && !record.old.includes(i.InstanceId ?? ''))),
  );
}

/**
 * The pre-flight's read of the group's source (nothing changes): each template version resolved, its
 * image and architecture, the image each gets, and whether a version may be made (and, for `$Default`,
 * the default version set); a launch configuration read and its copy named. Problems are pushed.
 */
export async function planSource(ctx: ExecutorContext, g: AutoScalingGroup, image: string, problems: string[]): Promise<SourcePlan | undefined> {
  const source = sourceOf(g);
  if (typeof source === 'string') {
    problems.push(source);
    return undefined;
  }
  const staying = (g.Instances ?? []).filter(active);
  if (source.kind === 'lc') {
    const { LaunchConfigurations } = await ctx.clients.autoscaling.send(new DescribeLaunchConfigurationsCommand({ LaunchConfigurationNames: [source.name] }));
    const lc = LaunchConfigurations?.[0];
    if (!lc) {
      problems.push(`its launch configuration ${source.name} was not found`);
      return undefined;
    }
    const reached = lc.ImageId === image && staying.every((i) => i.LaunchConfigurationName === source.name);
    return { template: { id: '', from: '' }, lc: { from: source.name, to: copyName(source.name, image) }, reached };
  }
  const { ec2 } = ctx.clients;
  const refs = source.kind === 'mixed' ? [source.main, ...source.overrides] : [source.main];
  const resolved = await Promise.all(refs.map((r) => resolveVersion(ec2, r)));
  // Architectures matter only with several templates: one template gets the target image (no DescribeImages).
  const images =
    source.kind === 'mixed' ? await describeImages(ec2, [image, ...resolved.flatMap((r) => (r.imageId?.startsWith('ami-') ? [r.imageId] : []))]) : undefined;
  const target = images?.get(image);
  if (images && !target) {
    problems.push(`the target image ${image} was not found (DescribeImages)`);
    return undefined;
  }
  const targetArch = target?.Architecture ?? 'x86_64';
  const forArch = new Map<string, string>([[targetArch, image]]);
  const specs: TemplateSpec[] = [];
  for (const [n, r] of refs.entries()) {
    const v = resolved[n]!;
    const known = !images || !v.imageId?.startsWith('ami-') || images.has(v.imageId);
    if (!known) {
      problems.push(`launch template ${v.id} version ${v.number} names the image ${v.imageId}, which no longer exists: its architecture cannot be told`);
      continue;
    }
    const arch = (v.imageId && images?.get(v.imageId)?.Architecture) ?? targetArch;
    if (!forArch.has(arch)) {
      try {
        forArch.set(arch, await imageForArchitecture(ctx, { id: image, name: target?.Name, owner: target?.OwnerId, alias: target?.ImageOwnerAlias }, arch));
      } catch (error) {
        problems.push(`launch template ${v.id} version ${v.number} runs ${arch} (${v.imageId}): ${describeError(error)}`);
        continue;
      }
    }
    const want = forArch.get(arch)!;
    specs.push({
      id: v.id,
      from: v.number,
      ...(isAlias(r.version) ? { alias: r.version } : {}),
      ...(r.version === '$Default' ? { defaultFrom: v.number } : {}),
      ...(want !== image ? { image: want } : {}),
    });
    if (v.imageId === want) continue;
    await dryRun(
      ec2,
      new CreateLaunchTemplateVersionCommand({ DryRun: true, LaunchTemplateId: v.id, SourceVersion: v.number, LaunchTemplateData: { ImageId: want } }),
      'ec2:CreateLaunchTemplateVersion',
      v.id,
      problems,
    );
    if (r.version === '$Default')
      await dryRun(
        ec2,
        new ModifyLaunchTemplateCommand({ DryRun: true, LaunchTemplateId: v.id, DefaultVersion: v.number }),
        'ec2:ModifyLaunchTemplate',
        v.id,
        problems,
      );
  }
  if (specs.length < refs.length) return undefined;
  await warnShared(ctx, g.AutoScalingGroupName ?? '', specs);
  // Reached: every template names its image and every instance runs the version the group names (an alias as itself: UNVERIFIED which it shows).
  const current = new Set(refs.flatMap((r, n) => [resolved[n]!.number, r.version]));
  const reached =
    specs.every((s, n) => resolved[n]!.imageId === (s.image ?? image)) &&
    staying.every((i) => current.has(i.LaunchTemplate?.Version ?? '') && !i.LaunchConfigurationName);
  const [main, ...others] = specs;
  return { template: main!, ...(source.kind === 'mixed' ? { mixed: true, specs: others } : {}), reached };
}
