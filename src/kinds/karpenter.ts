import { classifyNodeClass, nodeClassConfirmRequests, nodeClassRequests } from '../decision/karpenter-drift.js';
import { planNotRolled } from '../decision/plan.js';
import type { NodeKind } from './node-kind.js';

/**
 * A Karpenter EC2NodeClass (karpenter.k8s.aws/v1), read from the cluster's Kubernetes API with the
 * NodePools that use it and the NodeClaims made from it (../fleet/karpenter-reads.ts): its alias compared
 * with the newest release of its family published for the cluster's minor and every architecture and
 * variant its NodePools allow, resolved as Karpenter resolves aliases (../decision/karpenter-alias.ts).
 * Its alias is pinned in the cluster's manifest and proposed, staged by its NodeClaims (../decision/node-class-stages.ts);
 * Karpenter replaces the nodes itself, through drift, once the class resolves to another image.
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
  plan: (input) => planNotRolled(input, 'karpenter', 'Karpenter node class: reported only, Karpenter replaces its nodes through drift'),
  executor: null,
  healthTarget: () => ({}),
};
