import { classifyAutoModePool } from '../decision/auto-mode.js';
import { planNotRolled } from '../decision/plan.js';
import type { NodeKind } from './node-kind.js';

/**
 * An EKS Auto Mode NodePool (a karpenter.sh/v1 NodePool on an `eks.amazonaws.com` NodeClass): AWS
 * chooses its AMI and replaces its nodes, so it is reported (node ages, expiry, the 21-day limit,
 * disruption budgets) and never pinned, proposed or rolled.
 */
export const autoModePool: NodeKind = {
  id: 'auto-mode',
  matches: (ng) => ng.kind === 'auto-mode',
  readsImage: false,
  runningRelease: () => undefined,
  targetParameters: () => [],
  classify: (cluster, ng, _latest, policy) => classifyAutoModePool(cluster, ng, policy),
  pinKey: null,
  targetImageParameter: () => undefined,
  plan: (input) => planNotRolled(input, 'auto-mode', 'EKS Auto Mode node pool: AWS chooses its AMI and replaces its nodes'),
  executor: null,
  healthTarget: () => ({}),
};
