import { classifySelfManaged, selfManagedRequests, SELF_MANAGED_REPORT_ONLY } from '../decision/self-managed-drift.js';
import { planNotRolled } from '../decision/plan.js';
import type { NodeKind } from './node-kind.js';

/**
 * An Auto Scaling group of the cluster's that EKS does not manage (eksctl's unmanaged node groups,
 * AWS's CloudFormation template, terraform-aws-eks's self-managed groups): compared like a CUSTOM
 * node group, by the image its launch template or launch configuration names, and by those its
 * instances and override templates run (../decision/self-managed-drift.ts). Reported only: it is
 * neither pinned nor proposed yet. Its executor (../effects/self-managed-roll.ts: new instances first,
 * then each old node drained and terminated, issue 24) is loaded only for an item planned as an update,
 * and `plan` never returns one yet (every item is `skip`), so nothing rolls it until it is pinned.
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
  pinKey: null,
  targetImageParameter: () => undefined,
  plan: (input) => planNotRolled(input, 'self-managed', `self-managed node group: ${SELF_MANAGED_REPORT_ONLY}`),
  executor: async () => (await import('../effects/self-managed-roll.js')).selfManagedExecutor,
  healthTarget: () => ({}),
};
