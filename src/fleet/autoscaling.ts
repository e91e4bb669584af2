import {
  paginateDescribeAutoScalingGroups,
  DescribeLaunchConfigurationsCommand,
  type AutoScalingClient,
  type AutoScalingGroup,
  type LaunchTemplateSpecification,
} from '@aws-sdk/client-auto-scaling';
import type { LimitFunction } from 'p-limit';
import type { ClusterState, ImageSlot, ImageSource, LaunchTemplateRef, NodegroupState } from '../model/fleet.js';
import { describeError } from './aws-clients.js';
import { chunks } from './batch.js';

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
/** DescribeLaunchConfigurations takes at most 50 names (Auto Scaling API reference). */
const CONFIGURATIONS_PER_CALL = 50;

/** The self-managed node groups of the clusters: Auto Scaling groups tagged for them, EKS's own excluded (only those named in `names`, when it names any). */
export async function readSelfManaged(
  autoscaling: AutoScalingClient,
  clusters: ClusterState[],
  limit: LimitFunction,
  names: readonly string[] = [],
): Promise<void> {
  const byTag = new Map(clusters.map((c) => [clusterTag(c.name), c]));
  // The batches side by side; their answers taken in batch order, each group once (a group tagged for
  // clusters of two batches is in both answers).
  const batches = await Promise.all(
    chunks([...byTag.keys()], TAG_KEYS_PER_CALL).map(async (keys) => {
      const groups: AutoScalingGroup[] = [];
      try {
        await limit(async () => {
          for await (const page of paginateDescribeAutoScalingGroups({ client: autoscaling, pageSize: 100 }, { Filters: [{ Name: 'tag-key', Values: keys }] }))
            groups.push(...(page.AutoScalingGroups ?? []));
        });
        return { keys, groups };
      } catch (error) {
        return { keys, groups, error };
      }
    }),
  );
  const seen = new Set<string>();
  for (const { keys, groups, error } of batches) {
    if (error) {
      for (const key of keys) {
        byTag.get(key)!.nodegroups.push({ name: '(self-managed groups)', kind: 'self-managed', error: `DescribeAutoScalingGroups: ${describeError(error)}` });
      }
      continue;
    }
    for (const group of groups) {
      const tags = group.Tags ?? [];
      if (tags.some((t) => MANAGED_TAGS.includes(t.Key ?? ''))) continue;
      const cluster = tags.map((t) => byTag.get(t.Key ?? '')).find((c) => c !== undefined);
      if (!cluster || !group.AutoScalingGroupName || seen.has(group.AutoScalingGroupName)) continue;
      seen.add(group.AutoScalingGroupName);
      (cluster.selfManagedNames ??= []).push(group.AutoScalingGroupName);
      if (names.length > 0 && !names.includes(group.AutoScalingGroupName)) continue;
      cluster.nodegroups.push(selfManagedGroup(group));
    }
  }
  for (const c of clusters) {
    // A name the `nodegroups` input gave that is a self-managed group, not a node group: not missing.
    const selfManaged = new Set(c.selfManagedNames ?? []);
    c.nodegroups = c.nodegroups.filter((n) => !(n.kind === undefined && n.error && selfManaged.has(n.name) && !c.nodegroupNames?.includes(n.name)));
    // The node groups in EKS's order, then the self-managed groups by name.
    const managed = c.nodegroups.filter((n) => n.kind !== 'self-managed');
    c.nodegroups = [...managed, ...c.nodegroups.filter((n) => n.kind === 'self-managed').sort((a, b) => a.name.localeCompare(b.name))];
  }
}

function selfManagedGroup(group: AutoScalingGroup): NodegroupState {
  const spec = group.LaunchTemplate ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  const ng: NodegroupState = { name: group.AutoScalingGroupName!, kind: 'self-managed', desiredSize: group.DesiredCapacity, status: group.Status ?? 'ACTIVE' };
  if (spec?.LaunchTemplateId || spec?.LaunchTemplateName) {
    ng.launchTemplate = templateRef(spec);
    ng.image = { via: 'launch-template' };
  } else if (group.LaunchConfigurationName) {
    ng.image = { via: 'launch-configuration', launchConfiguration: group.LaunchConfigurationName };
  } else {
    ng.image = { via: 'launch-template', error: 'the Auto Scaling group names no launch template or launch configuration' };
  }
  ng.sources = [...overrideSources(group), ...instanceSources(group)];
  ng.instanceCount = group.Instances?.length ?? 0;
  return ng;
}

/** An Auto Scaling group names its template by id or by name; the version defaults to $Default (Auto Scaling API reference, LaunchTemplateSpecification). */
const templateRef = (spec: LaunchTemplateSpecification): LaunchTemplateRef => ({
  id: spec.LaunchTemplateId ?? '',
  name: spec.LaunchTemplateName ?? null,
  version: spec.Version ?? '$Default',
});
const templateKey = (lt: LaunchTemplateRef) => `${lt.id || `name:${lt.name}`}@${lt.version}`;

/**
 * The override templates of a mixed instances policy: "some instance types might require a launch
 * template with a different AMI" (Auto Scaling API reference, LaunchTemplateOverrides
 * .LaunchTemplateSpecification), such as the arm64 types of a group that also runs x86_64. An
 * override's `ImageId` (root volume replacement by instance refresh) names its image outright.
 */
function overrideSources(group: AutoScalingGroup): ImageSource[] {
  const byKey = new Map<string, ImageSource>();
  for (const o of group.MixedInstancesPolicy?.LaunchTemplate?.Overrides ?? []) {
    const spec = o.LaunchTemplateSpecification;
    if (!spec?.LaunchTemplateId && !spec?.LaunchTemplateName && !o.ImageId) continue;
    const lt = spec?.LaunchTemplateId || spec?.LaunchTemplateName ? templateRef(spec) : undefined;
    const key = o.ImageId ? `image:${o.ImageId}` : templateKey(lt!);
    const source = byKey.get(key) ?? {
      role: 'override' as const,
      instances: 0,
      instanceTypes: [],
      ...(lt ? { launchTemplate: lt } : {}),
      image: { via: 'launch-template' as const, ...(o.ImageId ? { imageId: o.ImageId } : {}) },
    };
    if (o.InstanceType) source.instanceTypes.push(o.InstanceType);
    byKey.set(key, source);
  }
  return [...byKey.values()];
}

/**
 * What the group's instances were launched from, as Auto Scaling records it on each instance
 * (DescribeAutoScalingGroups Instances[]: LaunchTemplate {LaunchTemplateId, LaunchTemplateName,
 * Version} or LaunchConfigurationName; Auto Scaling API reference, Instance), grouped. A group whose
 * template was bumped but never refreshed keeps instances on the older version. `ImageId`, when Auto
 * Scaling records it (instances whose root volume an instance refresh replaced, or launched with an
 * override's AMI), is the image the instance runs, whatever its template says. Whether an instance
 * launched from `$Latest` or `$Default` records the number or the alias is UNVERIFIED: an alias is
 * read as the template's version today, the best that can be known without DescribeInstances.
 */
function instanceSources(group: AutoScalingGroup): ImageSource[] {
  const byKey = new Map<string, ImageSource>();
  for (const i of group.Instances ?? []) {
    const lt = i.LaunchTemplate?.LaunchTemplateId || i.LaunchTemplate?.LaunchTemplateName ? templateRef(i.LaunchTemplate) : undefined;
    const key = i.ImageId ? `image:${i.ImageId}` : lt ? templateKey(lt) : i.LaunchConfigurationName ? `config:${i.LaunchConfigurationName}` : undefined;
    if (!key) continue;
    let source = byKey.get(key);
    if (!source) {
      const slot: ImageSlot = i.ImageId
        ? { image: { via: 'launch-template', imageId: i.ImageId } }
        : lt
          ? { launchTemplate: lt, image: { via: 'launch-template' } }
          : { image: { via: 'launch-configuration', launchConfiguration: i.LaunchConfigurationName } };
      source = { role: 'instances', instances: 0, instanceTypes: [], ...slot };
      byKey.set(key, source);
    }
    source.instances++;
    if (i.InstanceType && !source.instanceTypes.includes(i.InstanceType)) source.instanceTypes.push(i.InstanceType);
  }
  return [...byKey.values()];
}

/** The image each launch configuration names, by 50 names a call. */
export async function readConfigurationImages(autoscaling: AutoScalingClient, nodegroups: ImageSlot[], limit: LimitFunction): Promise<void> {
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
          for (const ng of nodegroups.filter((n) => batch.includes(n.image!.launchConfiguration!)))
            ng.image!.error = `DescribeLaunchConfigurations: ${describeError(error)}`;
        }
      }),
    ),
  );
}
