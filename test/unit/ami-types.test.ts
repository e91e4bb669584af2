import { describe, expect, it } from '@jest/globals';
import { AMITypes } from '@aws-sdk/client-eks';
import { releaseNotesUrl, releaseSource } from '../../src/decision/ami-types.js';

const AL = '/aws/service/eks/optimized-ami/1.31';
const BR = '/aws/service/bottlerocket';
const WIN = '/aws/service/ami-windows-latest';

/** The table of ../shared/reference/eks.md section 1, for Kubernetes 1.31 (1.35 for Windows 2025). */
const EXPECTED: Record<string, [string, string]> = {
  AL2_x86_64: ['1.31', `${AL}/amazon-linux-2/recommended/release_version`],
  AL2_ARM_64: ['1.31', `${AL}/amazon-linux-2-arm64/recommended/release_version`],
  AL2_x86_64_GPU: ['1.31', `${AL}/amazon-linux-2-gpu/recommended/release_version`],
  AL2023_x86_64_STANDARD: ['1.31', `${AL}/amazon-linux-2023/x86_64/standard/recommended/release_version`],
  AL2023_ARM_64_STANDARD: ['1.31', `${AL}/amazon-linux-2023/arm64/standard/recommended/release_version`],
  AL2023_x86_64_NVIDIA: ['1.31', `${AL}/amazon-linux-2023/x86_64/nvidia/recommended/release_version`],
  AL2023_ARM_64_NVIDIA: ['1.31', `${AL}/amazon-linux-2023/arm64/nvidia/recommended/release_version`],
  AL2023_x86_64_NEURON: ['1.31', `${AL}/amazon-linux-2023/x86_64/neuron/recommended/release_version`],
  BOTTLEROCKET_x86_64: ['1.31', `${BR}/aws-k8s-1.31/x86_64/latest/image_version`],
  BOTTLEROCKET_ARM_64: ['1.31', `${BR}/aws-k8s-1.31/arm64/latest/image_version`],
  BOTTLEROCKET_x86_64_NVIDIA: ['1.31', `${BR}/aws-k8s-1.31-nvidia/x86_64/latest/image_version`],
  BOTTLEROCKET_ARM_64_NVIDIA: ['1.31', `${BR}/aws-k8s-1.31-nvidia/arm64/latest/image_version`],
  BOTTLEROCKET_x86_64_FIPS: ['1.31', `${BR}/aws-k8s-1.31-fips/x86_64/latest/image_version`],
  BOTTLEROCKET_ARM_64_FIPS: ['1.31', `${BR}/aws-k8s-1.31-fips/arm64/latest/image_version`],
  BOTTLEROCKET_x86_64_NVIDIA_FIPS: ['1.31', `${BR}/aws-k8s-1.31-nvidia-fips/x86_64/latest/image_version`],
  BOTTLEROCKET_ARM_64_NVIDIA_FIPS: ['1.31', `${BR}/aws-k8s-1.31-nvidia-fips/arm64/latest/image_version`],
  WINDOWS_CORE_2019_x86_64: ['1.31', `${WIN}/Windows_Server-2019-English-Core-EKS_Optimized-1.31`],
  WINDOWS_FULL_2019_x86_64: ['1.31', `${WIN}/Windows_Server-2019-English-Full-EKS_Optimized-1.31`],
  WINDOWS_CORE_2022_x86_64: ['1.31', `${WIN}/Windows_Server-2022-English-Core-EKS_Optimized-1.31`],
  WINDOWS_FULL_2022_x86_64: ['1.31', `${WIN}/Windows_Server-2022-English-Full-EKS_Optimized-1.31`],
  WINDOWS_CORE_2025_x86_64: ['1.35', `${WIN}/Windows_Server-2025-English-Core-EKS_Optimized-1.35`],
  WINDOWS_FULL_2025_x86_64: ['1.35', `${WIN}/Windows_Server-2025-English-Full-EKS_Optimized-1.35`],
};

describe('where each AMI type publishes its latest release', () => {
  it.each(Object.values(AMITypes).filter((t) => t !== 'CUSTOM'))('%s reads the documented SSM parameter', (amiType) => {
    const expected = EXPECTED[amiType];
    expect(expected).toBeDefined();
    const [minor, parameter] = expected!;
    const source = releaseSource(amiType, minor);
    expect(source).toEqual({ kind: 'ssm', parameter, format: amiType.startsWith('WINDOWS') ? 'json' : 'release' });
  });

  it('covers the whole SDK enum', () => {
    expect(Object.values(AMITypes)).toHaveLength(Object.keys(EXPECTED).length + 1);
  });

  it('reports CUSTOM as custom, never guessing an AMI', () => {
    expect(releaseSource('CUSTOM', '1.31')).toEqual({ kind: 'custom' });
  });

  it('reports Amazon Linux 2 on 1.33 and later as unsupported, with the way out', () => {
    for (const amiType of ['AL2_x86_64', 'AL2_ARM_64', 'AL2_x86_64_GPU']) {
      expect(releaseSource(amiType, '1.32').kind).toBe('ssm');
      const source = releaseSource(amiType, '1.33');
      expect(source.kind).toBe('unsupported');
      expect(source).toHaveProperty('reason', expect.stringContaining('migrate to AL2023'));
      expect(releaseSource(amiType, '1.36').kind).toBe('unsupported');
    }
  });

  it('reports Windows Server 2025 before Kubernetes 1.35 as unsupported', () => {
    expect(releaseSource('WINDOWS_CORE_2025_x86_64', '1.34').kind).toBe('unsupported');
    expect(releaseSource('WINDOWS_FULL_2022_x86_64', '1.34').kind).toBe('ssm');
  });

  it('reports an AMI type it does not know as unknown, naming it', () => {
    const source = releaseSource('AL2027_RISCV_64', '1.40');
    expect(source).toEqual({ kind: 'unknown', reason: expect.stringContaining('AL2027_RISCV_64') });
    expect(releaseSource('toString', '1.31').kind).toBe('unknown');
  });

  it('links each family to its release notes', () => {
    expect(releaseNotesUrl('AL2023_x86_64_STANDARD', '1.31.2-20241121')).toBe('https://github.com/awslabs/amazon-eks-ami/releases/tag/v20241121');
    expect(releaseNotesUrl('BOTTLEROCKET_x86_64', '1.34.0-18d04e52')).toContain('bottlerocket');
    expect(releaseNotesUrl('CUSTOM', 'x')).toBeUndefined();
  });
});
