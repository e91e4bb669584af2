import { classifyNodeClass, nodeClassConfirmRequests, nodeClassRequests } from '../decision/karpenter-drift.js';
import { planNodeClassFollow } from '../decision/karpenter-follow.js';
import { planNotRolled } from '../decision/plan.js';
import type { NodeKind } from './node-kind.js';

/**
 * A Karpenter EC2NodeClass (karpenter.k8s.aws/v1), read from the cluster's Kubernetes API with the
 * NodePools that use it and the NodeClaims made from it (../fleet/karpenter-reads.ts): its alias compared
 * with the newest release of its family published for the cluster's minor and every architecture and
 * variant its NodePools allow, resolved as Karpenter resolves aliases (../decision/karpenter-alias.ts).
 * Its alias is pinned in the cluster's manifest and proposed, staged by its NodeClaims (../decision/node-class-stages.ts);
 * Karpenter replaces the nodes itself, through drift, once the class resolves to another image. The
 * upgrade follows a pinned class: it waits for GitOps to apply the alias (or applies it, with
 * apply-node-classes), then follows Karpenter's drift (../effects/karpenter-follow.ts); cluster-autoscaler
 * is not paused for it.
 */
export const karpenterNodeClass: NodeKind = {
  id: 'karpenter',
  matches: (ng) => ng.kind === 'karpenter',
  readsImage: false,
  // Not a member of the staged rollout yet.
  runningRelease: () => undefined,
  targetParameters: nodeClassRequests,
  confirmParameters: nodeClassConfirmRequests,
  classify: classifyNodeClass,
  // Pinned in the manifest's nodeClasses map (../repo/node-class-pins.ts), proposed with the node groups.
  pinKey: 'alias',
  targetImageParameter: () => undefined,
  plan: (input) =>
    input.nodeClassPin
      ? { ...planNodeClassFollow(input.ng, input.cluster, input.nodeClassPin), ...(input.nodeClassPin.file ? { pinFile: input.nodeClassPin.file } : {}) }
      : planNotRolled(input, 'karpenter', 'Karpenter node class not pinned in the cluster’s manifest (nodeClasses): left to Karpenter'),
  executor: () => import('../effects/karpenter-follow.js').then((m) => m.karpenterFollowExecutor),
  healthTarget: () => ({}),
};
