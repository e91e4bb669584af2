import {
  CreateLaunchConfigurationCommand,
  DeleteLaunchConfigurationCommand,
  DescribeLaunchConfigurationsCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
  type LaunchConfiguration,
  type LaunchTemplateSpecification,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateVersionsCommand,
  DescribeLaunchTemplateVersionsCommand,
  ModifyLaunchTemplateCommand,
  paginateDescribeLaunchTemplateVersions,
} from '@aws-sdk/client-ec2';
import { describeError } from '../fleet/aws-clients.js';
import type { ExecutorContext } from './executor.js';
import { describeGroup, removeRecord, type ReplaceRecord, type TemplateSpec } from './self-managed-record.js';
import { isAlias } from './self-managed-source.js';

/*
 * The template step of a self-managed group's replacement, and its undo (docs/self-managed.md, "The
 * template step"): each launch template gets a version with only the image changed (or a launch
 * configuration a copy), and the group launches from it, the way that surprises its infrastructure as
 * code least:
 * - a group naming a version number is moved to the new number (UpdateAutoScalingGroup);
 * - a group following `$Latest` is left as it is: the version made is the template's latest ("If the
 *   value is $Latest, Amazon EC2 Auto Scaling selects the latest version of the launch template when
 *   launching instances", Auto Scaling API reference, LaunchTemplateSpecification; versions are
 *   "numbered in the order in which they are created", EC2 user guide, launch template restrictions);
 * - a group following `$Default` is left as it is and the template's default version set to the one
 *   made (ModifyLaunchTemplate DefaultVersion, EC2 API reference), the default before recorded;
 * - a mixed instances policy: the same for its own template and every override's, and the policy sent
 *   back (UpdateAutoScalingGroup MixedInstancesPolicy) with only the versions changed: its
 *   `LaunchTemplate` (the template and the whole overrides list, as read), no `InstancesDistribution`
 *   ("Any parameters that you don't specify are not changed by this update request", AWS CLI reference,
 *   update-auto-scaling-group; whether an omitted overrides list is kept is UNVERIFIED, so it is sent);
 * - a launch configuration group: a copy with the image (CreateLaunchConfiguration with every field
 *   DescribeLaunchConfigurations returns that it accepts), the group moved to it.
 * The undo puts back exactly what was there: the group's version, policy or configuration as recorded,
 * the default version, and it deletes the versions and the copy it made, so `$Latest` names the version
 * it named before.
 */

/** A failure after which the group is as it was: the record removed, nothing else changed. */
export class NothingChanged extends Error {}

const specs = (r: ReplaceRecord): TemplateSpec[] => (r.lc ? [] : [r.template, ...(r.specs ?? [])]);
const imageOf = (r: ReplaceRecord, s: TemplateSpec) => s.image ?? r.image;

/** The version naming the spec's image: one an earlier (killed) run made, found by its description, else a new one from `from`. */
async function makeVersion(ctx: ExecutorContext, s: TemplateSpec, image: string, marker: string): Promise<string> {
  const { ec2 } = ctx.clients;
  for await (const page of paginateDescribeLaunchTemplateVersions({ client: ec2 }, { LaunchTemplateId: s.id })) {
    const ours = (page.LaunchTemplateVersions ?? []).find((v) => v.VersionDescription === marker && v.LaunchTemplateData?.ImageId === image);
    if (ours?.VersionNumber !== undefined) return String(ours.VersionNumber);
  }
  // SourceVersion copies the version the group used; what is given overrides it (EC2 API reference, CreateLaunchTemplateVersion).
  const { LaunchTemplateVersion } = await ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: s.id,
      SourceVersion: s.from,
      VersionDescription: marker,
      LaunchTemplateData: { ImageId: image },
    }),
  );
  if (LaunchTemplateVersion?.VersionNumber === undefined) throw new Error('CreateLaunchTemplateVersion returned no version number');
  return String(LaunchTemplateVersion.VersionNumber);
}

/** CreateLaunchConfiguration's input from a described configuration: every field it accepts, empty ones left out, the image replaced. */
function copyInput(lc: LaunchConfiguration, name: string, image: string) {
  const {
    LaunchConfigurationName: _name,
    LaunchConfigurationARN: _arn,
    CreatedTime: _created,
    ImageId: _image,
    ...rest
  } = lc as LaunchConfiguration & { LaunchConfigurationARN?: string; CreatedTime?: Date };
  const kept = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)));
  return { ...kept, LaunchConfigurationName: name, ImageId: image };
}

async function findConfiguration(ctx: ExecutorContext, name: string): Promise<LaunchConfiguration | undefined> {
  const { LaunchConfigurations } = await ctx.clients.autoscaling.send(new DescribeLaunchConfigurationsCommand({ LaunchConfigurationNames: [name] }));
  return LaunchConfigurations?.[0];
}

/**
 * The launch configuration copy, made unless an earlier run made it. An account that can no longer
 * create launch configurations gets `UnsupportedOperation: The Launch Configuration creation operation
 * is not available in your account. Use launch templates to create configuration templates for your
 * Auto Scaling groups.` (as reported in infrablocks/terraform-aws-bastion#123 and ine-labs/AWSGoat#71;
 * "New accounts created on or after January 1, 2024 will not be able to create new launch
 * configurations", later October 1, 2024: Auto Scaling user guide, Create a launch configuration): the
 * record is removed (nothing else changed yet) and the error says to migrate.
 */
async function makeCopy(ctx: ExecutorContext, name: string, record: ReplaceRecord): Promise<void> {
  const { from, to } = record.lc!;
  if (await findConfiguration(ctx, to)) return;
  const source = await findConfiguration(ctx, from);
  if (!source) throw new Error(`launch configuration ${from} not found`);
  try {
    await ctx.clients.autoscaling.send(new CreateLaunchConfigurationCommand(copyInput(source, to, record.image) as never));
  } catch (error) {
    const code = (error as { name?: string }).name ?? '';
    // Refused: nothing was made, and the group has not changed yet, so neither is left behind.
    if (/AccessDenied|UnauthorizedOperation/.test(code)) {
      await removeRecord(ctx.clients.autoscaling, name);
      throw new NothingChanged(
        `not allowed to copy launch configuration ${from} (${describeError(error)}): grant autoscaling:CreateLaunchConfiguration. Nothing was changed`,
      );
    }
    if (code !== 'UnsupportedOperation') throw error;
    await removeRecord(ctx.clients.autoscaling, name);
    throw new NothingChanged(
      `this account cannot create launch configurations (${describeError(error)}): migrate ${name} from its launch configuration ${from} ` +
        'to a launch template (Auto Scaling user guide, "Migrate your Auto Scaling groups to launch templates"), then run again. Nothing was changed',
    );
  }
}

/** The group's mixed instances policy's `LaunchTemplate` with each recorded template's version swapped (`to` picks the version). */
function swapPolicy(g: AutoScalingGroup, record: ReplaceRecord, to: (s: TemplateSpec) => string) {
  const lt = g.MixedInstancesPolicy?.LaunchTemplate ?? {};
  let changed = false;
  const swap = (spec: LaunchTemplateSpecification | undefined): LaunchTemplateSpecification | undefined => {
    if (!spec) return spec;
    const version = spec.Version ?? '$Default';
    // "You must specify either a LaunchTemplateId or a LaunchTemplateName" (API reference, LaunchTemplateSpecification): the id when read.
    const named = spec.LaunchTemplateId ? { LaunchTemplateId: spec.LaunchTemplateId } : { LaunchTemplateName: spec.LaunchTemplateName };
    const s = specs(record).find(
      (x) => (x.id === spec.LaunchTemplateId || !spec.LaunchTemplateId) && !isAlias(version) && [x.from, x.version].includes(version) && !x.alias,
    );
    if (!s || to(s) === version) return { ...named, Version: version };
    changed = true;
    return { ...named, Version: to(s) };
  };
  const policy = {
    LaunchTemplate: {
      LaunchTemplateSpecification: swap(lt.LaunchTemplateSpecification),
      ...(lt.Overrides ? { Overrides: lt.Overrides.map((o) => ({ ...o, LaunchTemplateSpecification: swap(o.LaunchTemplateSpecification) })) } : {}),
    },
  };
  return changed ? policy : undefined;
}

/** What the template step changes (or changed), for the log and the result: template, version from→to, default version, the group's source. */
export function describeChange(record: ReplaceRecord): string {
  if (record.lc)
    return (
      `launch configuration ${record.lc.to} copied from ${record.lc.from} with ImageId ${record.image}; ` +
      `the group's LaunchConfigurationName ${record.lc.from} → ${record.lc.to}`
    );
  return specs(record)
    .map((s) => {
      const made = `launch template ${s.id} version ${s.version ?? '(new)'} from version ${s.from} with ImageId ${imageOf(record, s)}`;
      if (s.alias === '$Latest') return `${made}; the group follows $Latest, now version ${s.version ?? '(new)'} (the group unchanged)`;
      if (s.alias === '$Default') return `${made}; its default version ${s.defaultFrom} → ${s.version ?? '(new)'} (the group follows $Default, unchanged)`;
      return `${made}; the group's Version ${s.from} → ${s.version ?? '(new)'}`;
    })
    .join('; ');
}

/** The template step: versions (or the copy) made and recorded, then the group launching from them. Idempotent. */
export async function changeSource(
  ctx: ExecutorContext,
  name: string,
  record: ReplaceRecord,
  marker: string,
  save: (r: ReplaceRecord) => Promise<void>,
): Promise<ReplaceRecord> {
  const { autoscaling, ec2 } = ctx.clients;
  if (record.lc) {
    await makeCopy(ctx, name, record);
    await autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, LaunchConfigurationName: record.lc.to }));
    return record;
  }
  let r = record;
  for (const [n, s] of specs(r).entries()) {
    if (s.version) continue;
    const made = { ...s, version: await makeVersion(ctx, s, imageOf(r, s), marker) };
    r = n === 0 ? { ...r, template: made } : { ...r, specs: r.specs!.map((x, k) => (k === n - 1 ? made : x)) };
    await save(r);
  }
  for (const s of specs(r)) {
    if (s.alias === '$Default') await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: s.id, DefaultVersion: s.version }));
    if (s.alias === '$Latest') {
      const { LaunchTemplateVersions } = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: s.id, Versions: ['$Latest'] }));
      const latest = String(LaunchTemplateVersions?.[0]?.VersionNumber ?? '');
      if (latest !== s.version)
        throw new Error(
          `launch template ${s.id}: $Latest is version ${latest}, not the version ${s.version} made for the image (someone made a version since): ` +
            'the group would not launch the image; restore to undo, then run again',
        );
    }
  }
  if (r.mixed) {
    const g = await describeGroup(autoscaling, name);
    const policy = g && swapPolicy(g, r, (s) => s.version!);
    if (policy) await autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MixedInstancesPolicy: policy }));
  } else if (!r.template.alias)
    await autoscaling.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, LaunchTemplate: { LaunchTemplateId: r.template.id, Version: r.template.version } }),
    );
  return r;
}

/**
 * Puts the group's source back as recorded (the undo): the version or policy it named, the default
 * version, the configuration; then deletes what was made (DeleteLaunchTemplateVersions: a template's
 * default version cannot be deleted, EC2 API reference; DeleteLaunchConfiguration once no group uses
 * it). What could not be deleted is said, not failed on.
 */
export async function undoSource(ctx: ExecutorContext, name: string, record: ReplaceRecord): Promise<string> {
  const { autoscaling, ec2 } = ctx.clients;
  const notes: string[] = [];
  if (record.lc) {
    await autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, LaunchConfigurationName: record.lc.from }));
    notes.push(`LaunchConfigurationName back to ${record.lc.from}`);
    if (await findConfiguration(ctx, record.lc.to)) {
      try {
        await autoscaling.send(new DeleteLaunchConfigurationCommand({ LaunchConfigurationName: record.lc.to }));
        notes.push(`the copy ${record.lc.to} deleted`);
      } catch (error) {
        notes.push(`the copy ${record.lc.to} left (${describeError(error)})`);
      }
    }
    return notes.join(', ');
  }
  if (record.mixed) {
    const g = await describeGroup(autoscaling, name);
    const policy = g && swapPolicy(g, record, (s) => s.from);
    if (policy) await autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MixedInstancesPolicy: policy }));
    if (policy) notes.push('its mixed instances policy back to the versions it named');
  } else if (!record.template.alias && record.template.version) {
    await autoscaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        LaunchTemplate: { LaunchTemplateId: record.template.id, Version: record.template.from },
      }),
    );
    notes.push(`launch template Version back to ${record.template.from}`);
  }
  for (const s of specs(record)) {
    if (s.alias === '$Default' && s.defaultFrom) {
      await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: s.id, DefaultVersion: s.defaultFrom }));
      notes.push(`launch template ${s.id} default version back to ${s.defaultFrom}`);
    }
  }
  for (const s of specs(record).filter((x) => x.version)) {
    try {
      const out = await ec2.send(new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: s.id, Versions: [s.version!] }));
      const failed = out.UnsuccessfullyDeletedLaunchTemplateVersions?.[0];
      notes.push(
        failed
          ? `launch template ${s.id} version ${s.version} left (${failed.ResponseError?.Code}: ${failed.ResponseError?.Message})`
          : `launch template ${s.id} version ${s.version} deleted`,
      );
    } catch (error) {
      notes.push(`launch template ${s.id} version ${s.version} left (${describeError(error)})`);
    }
  }
  return notes.join(', ');
}
