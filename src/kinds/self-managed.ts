import { classifyByImage, imageRequests } from '../decision/image-drift.js';
import { planNotRolled } from '../decision/plan.js';
import type { NodeKind } from './node-kind.js';

/**
 * An Auto Scaling group of the cluster's that EKS does not manage (eksctl's unmanaged node groups,
 * AWS's CloudFormation template, terraform-aws-eks's self-managed groups): compared like a CUSTOM
 * node group, by the image its launch template or launch configuration names. Reported only: it is
 * neither pinned nor proposed, and no executor rolls it yet (its upgrade replaces instances and
 * drains their nodes itself, issue 24).
 */
export const selfManaged: NodeKind = {
  id: 'self-managed',
  matches: (ng) => ng.kind === 'self-managed',
  readsImage: true,
  // Its image changes leave no history in EKS: the staged rollout's proof cannot count it.
  runningRelease: () => undefined,
  targetParameters: imageRequests,
  classify: (cluster, ng, latest, policy) => classifyByImage(cluster, ng, latest, policy, { what: 'self-managed group', amiTypeFromImage: true }),
  pinKey: null,
  targetImageParameter: () => undefined,
  plan: (input) =>
    planNotRolled(
      input,
      'self-managed',
      'self-managed node group: reported only; its upgrade (an instance refresh, draining the nodes) is not done by eks-ami-drift yet',
    ),
  executor: null,
  healthTarget: () => ({}),
};
