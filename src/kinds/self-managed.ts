import { classifySelfManaged, selfManagedRequests } from '../decision/self-managed-drift.js';
import { eksImageOf } from '../decision/eks-images.js';
import { planSelfManaged } from '../decision/plan.js';
import type { NodeKind } from './node-kind.js';

/**
 * An Auto Scaling group of the cluster's that EKS does not manage (eksctl's unmanaged node groups,
 * AWS's CloudFormation template, terraform-aws-eks's self-managed groups): compared like a CUSTOM
 * node group, by the image its launch template or launch configuration names, and by those its
 * instances and override templates run (../decision/self-managed-drift.ts); pinned by `imageId` under
 * its Auto Scaling group's name; rolled the way the seeds do it by hand, new instances first, then each
 * old node drained through the eviction API and its instance terminated (../effects/self-managed-roll.ts,
 * docs/self-managed.md).
 */
export const selfManaged: NodeKind = {
  id: 'self-managed',
  matches: (ng) => ng.kind === 'self-managed',
  readsImage: true,
  // Its image changes leave no history in EKS: the staged rollout's proof cannot count it.
  runningRelease: () => undefined,
  targetParameters: selfManagedRequests,
  // By what its instances run and its override templates name, not only its own template.
  classify: classifySelfManaged,
  pinKey: 'imageId',
  // Its target is the image id AWS recommends in the group's own region (read there).
  targetImageParameter: () => undefined,
  plan: (input) => planSelfManaged(input, (ng) => (ng.image?.info ? eksImageOf(ng.image.info)?.minor : undefined)),
  executor: async () => (await import('../effects/self-managed-roll.js')).selfManagedExecutor,
  // The replacement's own gate (../effects/self-managed-steps.ts gateSelfManaged) waits for the image.
  healthTarget: (item) => (item.target?.imageId ? { imageId: item.target.imageId } : {}),
};
