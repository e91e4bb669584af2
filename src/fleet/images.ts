import { paginateDescribeAutoScalingGroups, DescribeLaunchConfigurationsCommand, type AutoScalingClient, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { DescribeImagesCommand, paginateDescribeLaunchTemplateVersions, type EC2Client, type LaunchTemplateVersion } from '@aws-sdk/client-ec2';
import type { LimitFunction } from 'p-limit';
import { describeError } from './aws.js';
import { imageSourceOf } from '../decision/image-source.js';
import type { ClusterState, ImageInfo, LaunchTemplateRef, NodegroupState } from './types.js';

/**
 * The tag eksctl, AWS's CloudFormation node group template (amazon-eks-nodegroup.yaml) and
 * terraform-aws-eks's self-managed node groups put on a cluster's Auto Scaling groups (value `owned`
 * or `shared`); see ../shared/reference/eks.md section 11.
 */
export const clusterTag = (cluster: string) => `kubernetes.io/cluster/${cluster}`;
/** Tags EKS puts on the Auto Scaling groups of its managed node groups: those are not self-managed. */
const MANAGED_TAGS = ['eks:nodegroup-name', 'eks:cluster-name'];
/**
 * Tag keys per DescribeAutoScalingGroups call. The API documents no limit on filter values;
 * DescribeTags documents 1000 per filter type. 50 is UNVERIFIED and safe either way.
 */
const TAG_KEYS_PER_CALL = 50;
/** Image ids per DescribeImages call: no documented limit with ImageIds (UNVERIFIED); 200 keeps requests small. */
const IMAGES_PER_CALL = 200;
/** DescribeLaunchConfigurations takes at most 50 names (Auto Scaling API reference). */
const CONFIGURATIONS_PER_CALL = 50;

export interface ImageClients {
  ec2: EC2Client;
  autoscaling: AutoScalingClient;
}

const chunks = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

/**
 * Reads, for the clusters of one region, what the check needs beyond EKS: the self-managed node
 * groups (Auto Scaling groups tagged for the cluster, when `selfManaged`), and the AMI of each node
 * group whose AMI is named by id (a CUSTOM managed node group's launch template, a self-managed group's
 * launch template or launch configuration). Batched: one DescribeAutoScalingGroups for the region,
 * one DescribeLaunchTemplateVersions per template, DescribeLaunchConfigurations by 50 names, one
 * DescribeImages for every image of the region. A failed read is recorded on the node groups it
 * concerns (or, for the Auto Scaling groups, as an error entry of the cluster); the rest is read.
 */
export async function readImageSources(clients: ImageClients, clusters: ClusterState[], limit: LimitFunction, options: { selfManaged: boolean }): Promise<void> {
  const readable = clusters.filter((c) => !c.error);
  if (options.selfManaged && readable.length > 0) await readSelfManaged(clients.autoscaling, readable, limit);

  const needing = readable.flatMap((c) => c.nodegroups).filter((ng) => !ng.error && imageSourceOf(ng).kind !== 'release');
  await readTemplateImages(clients.ec2, needing.filter((ng) => ng.image?.via !== 'launch-configuration'), limit);
  await readConfigurationImages(clients.autoscaling, needing.filter((ng) => ng.image?.via === 'launch-configuration'), limit);
  await describeImages(clients.ec2, needing, limit);
}

async function readSelfManaged(autoscaling: AutoScalingClient, clusters: ClusterState[], limit: LimitFunction): Promise<void> {
  const byTag = new Map(clusters.map((c) => [clusterTag(c.name), c]));
  for (const keys of chunks([...byTag.keys()], TAG_KEYS_PER_CALL)) {
    const groups: AutoScalingGroup[] = [];
    try {
      await limit(async () => {
        for await (const page of paginateDescribeAutoScalingGroups({ client: autoscaling, pageSize: 100 }, { Filters: [{ Name: 'tag-key', Values: keys }] })) groups.push(...(page.AutoScalingGroups ?? []));
      });
    } catch (error) {
      for (const key of keys) {
        byTag.get(key)!.nodegroups.push({ name: '(self-managed groups)', kind: 'self-managed', error: `DescribeAutoScalingGroups: ${describeError(error)}` });
      }
      continue;
    }
    for (const group of groups) {
      const tags = group.Tags ?? [];
      if (tags.some((t) => MANAGED_TAGS.includes(t.Key ?? ''))) continue;
      const cluster = tags.map((t) => byTag.get(t.Key ?? '')).find((c) => c !== undefined);
      if (!cluster || !group.AutoScalingGroupName) continue;
      cluster.nodegroups.push(selfManagedGroup(group));
    }
  }
  for (const c of clusters) c.nodegroups.sort((a, b) => a.name.localeCompare(b.name));
}

function selfManagedGroup(group: AutoScalingGroup): NodegroupState {
  const spec = group.LaunchTemplate ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  const ng: NodegroupState = { name: group.AutoScalingGroupName!, kind: 'self-managed', desiredSize: group.DesiredCapacity, status: group.Status ?? 'ACTIVE' };
  if (spec?.LaunchTemplateId || spec?.LaunchTemplateName) {
    // An Auto Scaling group names its template by id or by name; the version defaults to $Default.
    ng.launchTemplate = { id: spec.LaunchTemplateId ?? '', name: spec.LaunchTemplateName ?? null, version: spec.Version ?? '$Default' };
    ng.image = { via: 'launch-template' };
  } else if (group.LaunchConfigurationName) {
    ng.image = { via: 'launch-configuration', launchConfiguration: group.LaunchConfigurationName };
  } else {
    ng.image = { via: 'launch-template', error: 'the Auto Scaling group names no launch template or launch configuration' };
  }
  return ng;
}

/** One DescribeLaunchTemplateVersions per template, for every version the node groups name. */
async function readTemplateImages(ec2: EC2Client, nodegroups: NodegroupState[], limit: LimitFunction): Promise<void> {
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
          g.launchTemplate = { id: v.LaunchTemplateId ?? g.launchTemplate!.id, name: v.LaunchTemplateName ?? g.launchTemplate!.name, version: g.launchTemplate!.version };
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
  if (ref === '$Latest') return versions.reduce<LaunchTemplateVersion | undefined>((a, v) => ((v.VersionNumber ?? 0) > (a?.VersionNumber ?? -1) ? v : a), undefined);
  return versions.find((v) => String(v.VersionNumber) === ref);
}

async function readConfigurationImages(autoscaling: AutoScalingClient, nodegroups: NodegroupState[], limit: LimitFunction): Promise<void> {
  const names = [...new Set(nodegroups.map((ng) => ng.image!.launchConfiguration!))];
  await Promise.all(
    chunks(names, CONFIGURATIONS_PER_CALL).map((batch) =>
      limit(async () => {
        try {
          const out = await autoscaling.send(new DescribeLaunchConfigurationsCommand({ LaunchConfigurationNames: batch }));
          const images = new Map((out.LaunchConfigurations ?? []).map((c) => [c.LaunchConfigurationName, c.ImageId]));
          for (const ng of nodegroups.filter((n) => batch.includes(n.image!.launchConfiguration!))) {
            const id = images.get(ng.image!.launchConfiguration);
            if (id) ng.image!.imageId = id;
            else ng.image!.error = `launch configuration ${ng.image!.launchConfiguration} was not found`;
          }
        } catch (error) {
          for (const ng of nodegroups.filter((n) => batch.includes(n.image!.launchConfiguration!))) ng.image!.error = `DescribeLaunchConfigurations: ${describeError(error)}`;
        }
      }),
    ),
  );
}

/**
 * One DescribeImages for every image id (by 200). `IncludeDeprecated` is sent because the API's
 * default leaves deprecated images out unless the caller owns them (EC2 API reference,
 * DescribeImages: "Default: No deprecated AMIs are included"), and an old image is exactly what the
 * check is for. An id missing from the answer is `info: null`.
 */
async function describeImages(ec2: EC2Client, nodegroups: NodegroupState[], limit: LimitFunction): Promise<void> {
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
