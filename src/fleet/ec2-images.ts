import { DescribeImagesCommand, paginateDescribeLaunchTemplateVersions, type EC2Client, type LaunchTemplateVersion } from '@aws-sdk/client-ec2';
import type { LimitFunction } from 'p-limit';
import { describeError } from './aws-clients.js';
import { chunks } from './batch.js';
import type { ImageInfo, LaunchTemplateRef, NodegroupState } from '../model/fleet.js';

/** The EC2 reads of ./image-sources.ts: the images named by launch templates, and what EC2 says of each image. */

/** Image ids per DescribeImages call: no documented limit with ImageIds (UNVERIFIED); 200 keeps requests small. */
const IMAGES_PER_CALL = 200;

/** One DescribeLaunchTemplateVersions per template, for every version the node groups name. */
export async function readTemplateImages(ec2: EC2Client, nodegroups: NodegroupState[], limit: LimitFunction): Promise<void> {
  const byTemplate = new Map<string, NodegroupState[]>();
  for (const ng of nodegroups) {
    if (ng.image?.error) continue;
    ng.image ??= { via: 'launch-template' };
    // EKS requires a launch template for CUSTOM; without one there is no image to read (reported as custom).
    if (!ng.launchTemplate) continue;
    const key = ng.launchTemplate.id || `name:${ng.launchTemplate.name}`;
    byTemplate.set(key, [...(byTemplate.get(key) ?? []), ng]);
  }
  await Promise.all(
    [...byTemplate.values()].map((groups) =>
      limit(async () => {
        const lt = groups[0]!.launchTemplate as LaunchTemplateRef;
        const versions = [...new Set(groups.map((g) => g.launchTemplate!.version))];
        const found: LaunchTemplateVersion[] = [];
        try {
          const input = { ...(lt.id ? { LaunchTemplateId: lt.id } : { LaunchTemplateName: lt.name ?? '' }), Versions: versions };
          for await (const page of paginateDescribeLaunchTemplateVersions({ client: ec2 }, input)) found.push(...(page.LaunchTemplateVersions ?? []));
        } catch (error) {
          for (const g of groups) g.image!.error = `DescribeLaunchTemplateVersions ${lt.id || lt.name}: ${describeError(error)}`;
          return;
        }
        for (const g of groups) {
          const v = pickVersion(found, g.launchTemplate!.version);
          if (!v) {
            g.image!.error = `launch template ${lt.id || lt.name} has no version ${g.launchTemplate!.version}`;
            continue;
          }
          // Fill in what the Auto Scaling group may not have said (a template named by name only).
          g.launchTemplate = {
            id: v.LaunchTemplateId ?? g.launchTemplate!.id,
            name: v.LaunchTemplateName ?? g.launchTemplate!.name,
            version: g.launchTemplate!.version,
          };
          if (v.LaunchTemplateData?.ImageId) g.image!.imageId = v.LaunchTemplateData.ImageId;
          else g.image!.error = `launch template ${lt.id || lt.name} version ${v.VersionNumber} names no image (ImageId)`;
        }
      }),
    ),
  );
}

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
 * check is for. An id missing from the answer is `info: null`.
 */
export async function describeImages(ec2: EC2Client, nodegroups: NodegroupState[], limit: LimitFunction): Promise<void> {
  const withId = nodegroups.filter((ng) => ng.image?.imageId && !ng.image.error);
  const ids = [...new Set(withId.map((ng) => ng.image!.imageId!))].sort();
  const infos = new Map<string, ImageInfo>();
  const failed = new Map<string, string>();
  const describe = async (batch: string[]): Promise<void> => {
    try {
      const out = await ec2.send(new DescribeImagesCommand({ ImageIds: batch, IncludeDeprecated: true }));
      for (const i of out.Images ?? []) {
        if (!i.ImageId) continue;
        infos.set(i.ImageId, {
          imageId: i.ImageId,
          name: i.Name ?? null,
          ownerId: i.OwnerId ?? null,
          ownerAlias: i.ImageOwnerAlias ?? null,
          createdAt: i.CreationDate ?? null,
          deprecatedAt: i.DeprecationTime ?? null,
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
