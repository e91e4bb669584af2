import { classifyByImage, imageRequests } from '../decision/image-drift.js';
import { eksImageOf } from '../decision/eks-images.js';
import { planByImage } from '../decision/plan.js';
import type { NodeKind } from './node-kind.js';

/**
 * A managed node group of AMI type CUSTOM, whose launch template names the image: compared by that
 * image (when it is an EKS-optimized AMI of AWS's) with the image AWS recommends now for its family
 * and minor, pinned by `imageId`, rolled by EKS's update to a new launch template version that names
 * the target image.
 */
export const managedImage: NodeKind = {
  id: 'managed-image',
  matches: (ng) => ng.kind !== 'self-managed' && ng.amiType === 'CUSTOM',
  readsImage: true,
  runningRelease: (ng) => {
    const eks = ng.image?.info ? eksImageOf(ng.image.info) : undefined;
    return eks ? { release: eks.release, amiType: eks.amiType } : undefined;
  },
  targetParameters: imageRequests,
  classify: (cluster, ng, latest, policy) => classifyByImage(cluster, ng, latest, policy, { what: 'launch template', amiTypeFromImage: false }),
  pinKey: 'imageId',
  // Its target is the image id AWS recommends in the node group's own region (read there).
  targetImageParameter: () => undefined,
  plan: (input) => planByImage(input, 'managed-image'),
  executor: async () => (await import('../effects/launch-template.js')).imageExecutor,
  healthTarget: (item) => (item.target?.imageId ? { imageId: item.target.imageId } : {}),
};
