import { DescribeImagesCommand, paginateDescribeLaunchTemplateVersions, type EC2Client, type LaunchTemplateVersion } from '@aws-sdk/client-ec2';
import type { LimitFunction } from 'p-limit';
import { describeError } from './aws-clients.js';
import { chunks } from './batch.js';
import type { ImageInfo, ImageSlot, LaunchTemplateRef } from '../model/fleet.js';

/** The EC2 reads of ./image-sources.ts: the images named by launch templates, and what EC2 says of each image. */

/** Image ids per DescribeImages call: no documented limit with ImageIds (UNVERIFIED); 200 keeps requests small. */
const IMAGES_PER_CALL = 200;

/**
 * One DescribeLaunchTemplateVersions per template, for every version the slots name (a node group's,
 * a self-managed group's, its instances' and override templates'). A version whose ImageId is
 * `resolve:ssm:<parameter>` is read once more with `ResolveAlias: true`, which answers the AMI id the
 * parameter names now (EC2 API reference, DescribeLaunchTemplateVersions ResolveAlias, and
 * ResponseLaunchTemplateData.ImageId: without it "this is the parameter value"); such an id is never
 * sent to DescribeImages, which refuses it (InvalidAMIID.Malformed).
 */
export async function readTemplateImages(ec2: EC2Client, slots: ImageSlot[], limit: LimitFunction): Promise<void> {
  const byTemplate = new Map<string, ImageSlot[]>();
  for (const slot of slots) {
    if (slot.image?.error || slot.image?.imageId) continue;
    slot.image ??= { via: 'launch-template' };
    // EKS requires a launch template for CUSTOM; without one there is no image to read (reported as custom).
    if (!slot.launchTemplate) continue;
    const key = slot.launchTemplate.id || `name:${slot.launchTemplate.name}`;
    byTemplate.set(key, [...(byTemplate.get(key) ?? []), slot]);
  }
  await Promise.all([...byTemplate.values()].map((group) => limit(() => readTemplate(ec2, group))));
}

async function readTemplate(ec2: EC2Client, group: ImageSlot[]): Promise<void> {
  const lt = group[0]!.launchTemplate as LaunchTemplateRef;
  const named = lt.id || lt.name;
  const versions = [...new Set(group.map((g) => g.launchTemplate!.version))];
  const template = lt.id ? { LaunchTemplateId: lt.id } : { LaunchTemplateName: lt.name ?? '' };
  const read = async (wanted: string[], resolve: boolean) => {
    const found: LaunchTemplateVersion[] = [];
    const input = { ...template, Versions: wanted, ...(resolve ? { ResolveAlias: true } : {}) };
    for await (const page of paginateDescribeLaunchTemplateVersions({ client: ec2 }, input)) found.push(...(page.LaunchTemplateVersions ?? []));
    return found;
  };
  let found: LaunchTemplateVersion[];
  const failed = new Map<string, string>();
  try {
    found = await read(versions, false);
  } catch (error) {
    // One version deleted since (instances launched from it still run) fails the whole call: then each
    // version alone, so the others are still read and the missing one is its own slots' error.
    if (versions.length > 1 && (error as Error).name === 'InvalidLaunchTemplateId.VersionNotFound') {
      const each = await Promise.all(
        versions.map((v) =>
          read([v], false).catch((e: unknown) => {
            if ((e as Error).name !== 'InvalidLaunchTemplateId.VersionNotFound') failed.set(v, `DescribeLaunchTemplateVersions ${named}: ${describeError(e)}`);
            return [];
          }),
        ),
      );
      found = each.flat();
    } else {
      for (const g of group) g.image!.error = `DescribeLaunchTemplateVersions ${named}: ${describeError(error)}`;
      return;
    }
  }
  // Whether ResolveAlias needs the caller's own ssm:GetParameters on the parameter is UNVERIFIED: its
  // failure is the error of the versions that name one, not of the template's others.
  const resolved = new Map<number, string>();
  let aliasError: string | undefined;
  const aliased = found.filter((v) => v.LaunchTemplateData?.ImageId?.startsWith(SSM_ALIAS));
  if (aliased.length > 0) {
    try {
      for (const v of await read([...new Set(aliased.map((a) => String(a.VersionNumber)))], true))
        if (v.LaunchTemplateData?.ImageId) resolved.set(v.VersionNumber ?? -1, v.LaunchTemplateData.ImageId);
    } catch (error) {
      aliasError = describeError(error);
    }
  }
  for (const g of group) {
    const v = pickVersion(found, g.launchTemplate!.version);
    if (failed.has(g.launchTemplate!.version)) {
      g.image!.error = failed.get(g.launchTemplate!.version);
      continue;
    }
    if (!v) {
      g.image!.error = `launch template ${named} has no version ${g.launchTemplate!.version}`;
      continue;
    }
    // Fill in what the Auto Scaling group may not have said (a template named by name only).
    g.launchTemplate = {
      id: v.LaunchTemplateId ?? g.launchTemplate!.id,
      name: v.LaunchTemplateName ?? g.launchTemplate!.name,
      version: g.launchTemplate!.version,
    };
    const imageId = v.LaunchTemplateData?.ImageId;
    if (!imageId) {
      g.image!.error = `launch template ${named} version ${v.VersionNumber} names no image (ImageId)`;
      continue;
    }
    if (!imageId.startsWith(SSM_ALIAS)) {
      g.image!.imageId = imageId;
      continue;
    }
    g.image!.alias = imageId.slice(SSM_ALIAS.length);
    const id = resolved.get(v.VersionNumber ?? -1);
    if (id && AMI_ID.test(id)) g.image!.imageId = id;
    else
      g.image!.error = aliasError
        ? `DescribeLaunchTemplateVersions ${named} with ResolveAlias (version ${v.VersionNumber} names ${imageId}): ${aliasError}`
        : `launch template ${named} version ${v.VersionNumber} names ${imageId}, which EC2 did not resolve to an image id (${id ?? 'no answer'})`;
  }
}

/** The prefix of an ImageId that names a Systems Manager parameter (EC2 user guide, "Use a Systems Manager parameter instead of an AMI ID"). */
const SSM_ALIAS = 'resolve:ssm:';
/** An AMI id as DescribeImages accepts it: `ami-` and 8 or 17 hex digits. */
const AMI_ID = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;

/** The version a reference names: a number, `$Default` (the default version) or `$Latest` (the highest). */
function pickVersion(versions: LaunchTemplateVersion[], ref: string): LaunchTemplateVersion | undefined {
  if (ref === '$Default') return versions.find((v) => v.DefaultVersion);
  if (ref === '$Latest')
    return versions.reduce<LaunchTemplateVersion | undefined>((a, v) => ((v.VersionNumber ?? 0) > (a?.VersionNumber ?? -1) ? v : a), undefined);
  return versions.find((v) => String(v.VersionNumber) === ref);
}

/**
 * One DescribeImages for every image id (by 200). `IncludeDeprecated` is sent because the API's
 * default leaves deprecated images out unless the caller owns them (EC2 API reference,
 * DescribeImages: "Default: No deprecated AMIs are included"), and an old image is exactly what the
 * check is for; `IncludeDisabled` because "a disabled AMI does not appear in DescribeImages API calls
 * by default" (EC2 API reference, DisableImage), and a disabled image is not a deregistered one. An id
 * missing from the answer is `info: null`; an id that is not an AMI id is that slot's error, never sent.
 */
export async function describeImages(ec2: EC2Client, slots: ImageSlot[], limit: LimitFunction): Promise<void> {
  for (const slot of slots)
    if (slot.image?.imageId && !slot.image.error && !AMI_ID.test(slot.image.imageId))
      slot.image.error = `${slot.image.imageId} is not an AMI id (ami- and 8 or 17 hexadecimal digits): not described`;
  const withId = slots.filter((ng) => ng.image?.imageId && !ng.image.error);
  const ids = [...new Set(withId.map((ng) => ng.image!.imageId!))].sort();
  const infos = new Map<string, ImageInfo>();
  const failed = new Map<string, string>();
  const describe = async (batch: string[]): Promise<void> => {
    try {
      const out = await ec2.send(new DescribeImagesCommand({ ImageIds: batch, IncludeDeprecated: true, IncludeDisabled: true }));
      for (const i of out.Images ?? []) {
        if (!i.ImageId) continue;
        infos.set(i.ImageId, {
          imageId: i.ImageId,
          name: i.Name ?? null,
          ownerId: i.OwnerId ?? null,
          ownerAlias: i.ImageOwnerAlias ?? null,
          createdAt: i.CreationDate ?? null,
          deprecatedAt: i.DeprecationTime ?? null,
          state: i.State ?? null,
        });
      }
    } catch (error) {
      // One id that no longer exists fails the whole call (InvalidAMIID.NotFound): then each id alone,
      // so the others are still read and the error names the one.
      if (batch.length > 1 && /^InvalidAMIID/.test((error as Error).name ?? '')) {
        for (const id of batch) await describe([id]);
        return;
      }
      for (const id of batch) failed.set(id, `DescribeImages ${batch.length === 1 ? batch[0] : ''}: ${describeError(error)}`.replace(' :', ':'));
    }
  };
  await Promise.all(chunks(ids, IMAGES_PER_CALL).map((batch) => limit(() => describe(batch))));
  for (const ng of withId) {
    const id = ng.image!.imageId!;
    if (failed.has(id)) ng.image!.error = failed.get(id);
    else ng.image!.info = infos.get(id) ?? null;
  }
}
