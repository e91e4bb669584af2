import { describe, expect, it } from '@jest/globals';
import { releaseImageParameter } from '../../src/decision/ami-types.js';

describe("a release's own image parameter, read in the node group's region", () => {
  it.each([
    // Karpenter's pinned AL2023 alias path (aws/karpenter-provider-aws pkg/providers/amifamily/al2023.go)
    [
      'AL2023_x86_64_STANDARD',
      '1.33',
      '1.33.10-20260403',
      '/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/amazon-eks-node-al2023-x86_64-standard-1.33-v20260403/image_id',
    ],
    [
      'AL2023_ARM_64_NVIDIA',
      '1.29',
      '1.29.3-20240605',
      '/aws/service/eks/optimized-ami/1.29/amazon-linux-2023/arm64/nvidia/amazon-eks-node-al2023-arm64-nvidia-1.29-v20240605/image_id',
    ],
    // cloudposse/terraform-aws-eks-node-group's specifiers: AL2, and Bottlerocket without a "v"
    ['AL2_x86_64', '1.29', '1.29.0-20240117', '/aws/service/eks/optimized-ami/1.29/amazon-linux-2/amazon-eks-node-1.29-v20240117/image_id'],
    ['BOTTLEROCKET_x86_64_NVIDIA', '1.24', '1.20.1-7c3e9198', '/aws/service/bottlerocket/aws-k8s-1.24-nvidia/x86_64/1.20.1-7c3e9198/image_id'],
  ])('%s %s %s: %s', (amiType, minor, release, parameter) => {
    expect(releaseImageParameter(amiType, minor, release)).toBe(parameter);
  });

  it('has none for Windows (only the latest image per minor is published), CUSTOM, or a release that does not parse', () => {
    expect(releaseImageParameter('WINDOWS_CORE_2022_x86_64', '1.33', '1.33-2026.07.15')).toBeUndefined();
    expect(releaseImageParameter('CUSTOM', '1.33', 'ami-0123')).toBeUndefined();
    expect(releaseImageParameter('AL2023_x86_64_STANDARD', '1.33', 'latest')).toBeUndefined();
  });
});
