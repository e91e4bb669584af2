import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { LimitFunction } from 'p-limit';
import { loadAwsClients } from './aws-clients.js';
import { readConfigurationImages, readSelfManaged } from './autoscaling.js';
import type { ClusterState, ImageSlot, NodegroupState } from '../model/fleet.js';

export interface ImageClients {
  ec2: EC2Client;
  autoscaling: AutoScalingClient;
}

/**
 * Reads, for the clusters of one region, what the check needs beyond EKS: the self-managed node
 * groups (Auto Scaling groups tagged for the cluster, when `selfManaged`; only those `names` names when it
 * names any), and the AMI of each node
 * group whose AMI is named by id (a CUSTOM managed node group's launch template, a self-managed group's
 * launch template or launch configuration, and those its instances were launched from and its
 * override templates name). Batched: one DescribeAutoScalingGroups for the region (its instances
 * included), one DescribeLaunchTemplateVersions per template (a second for `resolve:ssm:` versions), DescribeLaunchConfigurations by 50 names, one
 * DescribeImages for every image of the region. A failed read is recorded on the node groups it
 * concerns (or, for the Auto Scaling groups, as an error entry of the cluster); the rest is read.
 */
export async function readImageSources(
  clients: ImageClients,
  clusters: ClusterState[],
  limit: LimitFunction,
  options: { selfManaged: boolean; readsImage: (ng: NodegroupState) => boolean; names?: readonly string[] },
): Promise<void> {
  const readable = clusters.filter((c) => !c.error);
  if (options.selfManaged && readable.length > 0) await readSelfManaged(clients.autoscaling, readable, limit, options.names ?? []);

  const groups = readable.flatMap((c) => c.nodegroups).filter((ng) => !ng.error && options.readsImage(ng));
  if (groups.length === 0) return;
  // A self-managed group's instances and override templates are read with it, in the same batches.
  const needing: ImageSlot[] = groups.flatMap((ng) => [ng, ...(ng.sources ?? [])]);
  // EC2's client and its readers are a chunk of dist/ (1 MB of minified code): loaded only for node groups named by image.
  const [{ readTemplateImages, describeImages }] = await Promise.all([import('./ec2-images.js'), loadAwsClients('ec2')]);
  await readTemplateImages(
    clients.ec2,
    needing.filter((ng) => ng.image?.via !== 'launch-configuration'),
    limit,
  );
  await readConfigurationImages(
    clients.autoscaling,
    needing.filter((ng) => ng.image?.via === 'launch-configuration'),
    limit,
  );
  await describeImages(clients.ec2, needing, limit);
}

/**
 * The image of each failed update that names a launch template version and no release: a CUSTOM node
 * group's update (EKS API reference, UpdateNodegroupVersion, example 2: params LaunchTemplateName and
 * LaunchTemplateVersion only). The image that version names tells the train that failed; read as the
 * node group's own image is (DescribeLaunchTemplateVersions, DescribeImages), onto `update.image`.
 */
export async function readUpdateImages(
  clients: Pick<ImageClients, 'ec2'>,
  clusters: ClusterState[],
  limit: LimitFunction,
  readsImage: (ng: NodegroupState) => boolean,
): Promise<void> {
  const asked: { update: NonNullable<NodegroupState['updates']>[number]; probe: NodegroupState }[] = [];
  for (const ng of clusters.filter((c) => !c.error).flatMap((c) => c.nodegroups)) {
    if (ng.error || !ng.launchTemplate || !readsImage(ng)) continue;
    for (const update of ng.updates ?? []) {
      if (update.status !== 'Failed' || update.releaseVersion || !update.launchTemplateVersion) continue;
      asked.push({ update, probe: { name: ng.name, launchTemplate: { ...ng.launchTemplate, version: update.launchTemplateVersion } } });
    }
  }
  if (asked.length === 0) return;
  const [{ readTemplateImages, describeImages }] = await Promise.all([import('./ec2-images.js'), loadAwsClients('ec2')]);
  const probes = asked.map((a) => a.probe);
  // The EC2 client is a chunk of dist/, loaded only now: read it off `clients` after loading.
  await readTemplateImages(clients.ec2, probes, limit);
  await describeImages(clients.ec2, probes, limit);
  for (const { update, probe } of asked) if (probe.image) update.image = probe.image;
}
