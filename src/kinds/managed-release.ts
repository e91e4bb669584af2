import { classifyByRelease, releaseRequests } from '../decision/release-drift.js';
import { planByRelease } from '../decision/plan.js';
import { releaseImageParameter } from '../decision/ami-types.js';
import type { NodeKind } from './node-kind.js';

/**
 * A managed node group whose AMI EKS picks from its AMI type and release version: compared with the
 * release AWS publishes for its AMI type and Kubernetes minor, pinned by `releaseVersion`, rolled by
 * EKS's update to that release (UpdateNodegroupVersion with `releaseVersion`).
 */
export const managedRelease: NodeKind = {
  id: 'managed-release',
  matches: (ng) => ng.kind !== 'self-managed' && ng.amiType !== 'CUSTOM',
  readsImage: false,
  runningRelease: (ng) => (ng.releaseVersion && ng.amiType ? { release: ng.releaseVersion, amiType: ng.amiType } : undefined),
  targetParameters: releaseRequests,
  classify: classifyByRelease,
  pinKey: 'releaseVersion',
  targetImageParameter: releaseImageParameter,
  plan: (input) => planByRelease(input, 'managed-release'),
  executor: async () => (await import('../effects/managed-update.js')).releaseExecutor,
  // EKS picks the image: the gate knows the nodes are new by their creation, not by an image id.
  healthTarget: () => ({}),
};
