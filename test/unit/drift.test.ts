import { describe, expect, it } from '@jest/globals';
import { classify } from '../../src/kinds/registry.js';
import { supportOf } from '../../src/decision/support.js';
import type { LatestRelease } from '../../src/model/fleet.js';
import type { ClusterState, NodegroupState } from '../../src/model/fleet.js';

const NOW = new Date('2026-11-21T12:00:00Z');
const HOUR = 3_600_000;
const AL2023_133 = '/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/recommended/release_version';

function check(ng: Partial<NodegroupState>, latest: Record<string, LatestRelease> = {}, opts: { controlPlane?: string; minAgeHours?: number } = {}) {
  const cluster: ClusterState = { name: 'prod', region: 'us-east-1', version: opts.controlPlane ?? '1.33', nodegroups: [] };
  const nodegroup: NodegroupState = { name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: '1.33.12-20260610', ...ng };
  return classify(cluster, nodegroup, (p) => latest[p], { minReleaseAgeMs: (opts.minAgeHours ?? 0) * HOUR, now: NOW });
}

const published = (release: string, hoursAgo: number): Record<string, LatestRelease> => ({
  [AL2023_133]: { kind: 'found', releaseVersion: release, publishedAt: new Date(NOW.getTime() - hoursAgo * HOUR) },
});

describe('drift decision for one node group', () => {
  it('is drift when a newer release is published, with both releases in the report', () => {
    const r = check({}, published('1.33.13-20260714', 24 * 30));
    expect(r).toMatchObject({
      status: 'drift',
      releaseVersion: '1.33.12-20260610',
      latestReleaseVersion: '1.33.13-20260714',
      latestReleaseParameter: AL2023_133,
      releaseNotesUrl: 'https://github.com/awslabs/amazon-eks-ami/releases/tag/v20260714',
      controlPlaneVersion: '1.33',
    });
    expect(r.reason).toContain('1.33.12-20260610 → 1.33.13-20260714');
  });

  it('is up-to-date on the latest release, and when ahead of a lagging recommendation', () => {
    expect(check({ releaseVersion: '1.33.13-20260714' }, published('1.33.13-20260714', 100)).status).toBe('up-to-date');
    const ahead = check({ releaseVersion: '1.33.13-20260714' }, published('1.33.12-20260610', 100));
    expect(ahead.status).toBe('up-to-date');
    expect(ahead.reason).toContain('ahead');
  });

  it('is soaking while the newer release is younger than min-release-age, then drift', () => {
    const young = check({}, published('1.33.13-20260714', 20), { minAgeHours: 36 });
    expect(young.status).toBe('soaking');
    expect(young.reason).toContain('drift in 16h');
    expect(check({}, published('1.33.13-20260714', 37), { minAgeHours: 36 }).status).toBe('drift');
    expect(check({}, published('1.33.13-20260714', 0), { minAgeHours: 0 }).status).toBe('drift');
  });

  it('is behind-control-plane when the minor lags, whatever the AMI', () => {
    const r = check({ version: '1.32', releaseVersion: '1.32.9-20260714' }, {}, { controlPlane: '1.33' });
    expect(r.status).toBe('behind-control-plane');
    expect(r.reason).toContain("lags the control plane's 1.33");
    expect(check({ amiType: 'CUSTOM', version: '1.31' }, {}, { controlPlane: '1.33' }).status).toBe('behind-control-plane');
  });

  it('is unsupported for AL2 on 1.33, without reading any parameter', () => {
    const r = check({ amiType: 'AL2_x86_64', releaseVersion: '1.32.9-20251209' });
    expect(r).toMatchObject({ status: 'unsupported', latestReleaseParameter: null });
    expect(r.reason).toContain('migrate to AL2023');
  });

  it('is unsupported for AL2 on any Kubernetes version since its end of support, with the date and what to do', () => {
    const AL2_131 = '/aws/service/eks/optimized-ami/1.31/amazon-linux-2/recommended/release_version';
    const r = check(
      { amiType: 'AL2_x86_64', version: '1.31', releaseVersion: '1.31.13-20251209' },
      { [AL2_131]: { kind: 'found', releaseVersion: '1.31.13-20251209', publishedAt: new Date('2025-12-09') } },
      { controlPlane: '1.31' },
    );
    expect(r.status).toBe('unsupported');
    expect(r.reason).toBe(
      'Amazon Linux 2 AMIs reached end of support on 2025-11-26 (awslabs/amazon-eks-ami#2545 (the last AL2 release is v20251209)): no more patched ' +
        'releases; migrate to AL2023 or Bottlerocket',
    );
  });

  it('warns within 90 days of a family’s end of support, and not before', () => {
    const eos = [{ family: 'Amazon Linux 2023', matches: (t: string) => t.startsWith('AL2023'), endsOn: '2027-01-15', source: 'test', advice: 'move on' }];
    expect(supportOf('AL2023_x86_64_STANDARD', NOW, eos)).toEqual({ kind: 'ending', eos: eos[0], days: 55 });
    expect(supportOf('AL2023_x86_64_STANDARD', new Date('2026-09-01T00:00:00Z'), eos)).toEqual({ kind: 'supported' });
    expect(supportOf('AL2023_x86_64_STANDARD', new Date('2027-01-15T00:00:00Z'), eos)).toMatchObject({ kind: 'ended' });
    expect(supportOf('AL2_x86_64', new Date('2025-10-01T00:00:00Z'))).toMatchObject({ kind: 'ending', days: 56 });
    // before its end, an AL2 node group keeps its status, with the warning in its reason
    const AL2_131 = '/aws/service/eks/optimized-ami/1.31/amazon-linux-2/recommended/release_version';
    const cluster: ClusterState = { name: 'prod', region: 'us-east-1', version: '1.31', nodegroups: [] };
    const before = classify(
      cluster,
      { name: 'legacy', amiType: 'AL2_x86_64', version: '1.31', releaseVersion: '1.31.13-20250901' },
      (p) => (p === AL2_131 ? { kind: 'found', releaseVersion: '1.31.13-20250925', publishedAt: new Date('2025-09-25') } : undefined),
      {
        minReleaseAgeMs: 0,
        now: new Date('2025-10-01T00:00:00Z'),
      },
    );
    expect(before.status).toBe('drift');
    expect(before.reason).toContain('⚠️ Amazon Linux 2 AMIs reach end of support on 2025-11-26, in 56 day(s)');
  });

  it('is custom for CUSTOM, unknown for an AMI type it does not know', () => {
    expect(check({ amiType: 'CUSTOM', releaseVersion: 'ami-0abc' }).status).toBe('custom');
    expect(check({ amiType: 'FUTURE_OS' }).status).toBe('unknown');
  });

  it('is unknown when the parameter does not exist, naming it', () => {
    const r = check({}, { [AL2023_133]: { kind: 'missing' } });
    expect(r.status).toBe('unknown');
    expect(r.reason).toContain(AL2023_133);
  });

  it('is unknown when the releases cannot be parsed or ordered', () => {
    expect(check({ releaseVersion: 'garbage' }, published('1.33.13-20260714', 100)).status).toBe('unknown');
    expect(check({}, published('not-a-release', 100)).status).toBe('unknown');
    const bottlerocket = check(
      { amiType: 'BOTTLEROCKET_x86_64', releaseVersion: '1.34.0-18d04e52' },
      { '/aws/service/bottlerocket/aws-k8s-1.33/x86_64/latest/image_version': { kind: 'found', releaseVersion: '1.34.0-00000000' } },
    );
    expect(bottlerocket.status).toBe('unknown');
  });

  it('is error when the node group or its parameter could not be read, with the AWS message', () => {
    expect(check({ error: 'AccessDeniedException: not authorized' })).toMatchObject({ status: 'error', reason: 'AccessDeniedException: not authorized' });
    const r = check({}, { [AL2023_133]: { kind: 'error', message: 'ThrottlingException: Rate exceeded' } });
    expect(r.status).toBe('error');
    expect(r.reason).toContain('Rate exceeded');
  });

  it('reads a Windows release from the JSON parameter and orders its dates', () => {
    const param = '/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.33';
    const r = check(
      // releases young enough not to be near going private (../../docs/check.md, the calendar)
      { amiType: 'WINDOWS_CORE_2022_x86_64', releaseVersion: '1.33-2026.10.14' },
      { [param]: { kind: 'found', releaseVersion: '1.33-2026.11.11', publishedAt: new Date('2026-11-12T00:00:00Z') } },
    );
    expect(r.status).toBe('drift');
  });

  it('is unsupported with the date when a Windows release went private and nothing newer is published, drift with the date when something is', () => {
    const param = '/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.33';
    // 1.33-2026.06.10 goes private 120 days after its date: 2026-10-08, before NOW (2026-11-21)
    const alone = check(
      { amiType: 'WINDOWS_CORE_2022_x86_64', releaseVersion: '1.33-2026.06.10' },
      { [param]: { kind: 'found', releaseVersion: '1.33-2026.06.10', publishedAt: new Date('2026-06-11T00:00:00Z') } },
    );
    expect(alone.status).toBe('unsupported');
    expect(alone.reason).toContain('its Windows AMI release 1.33-2026.06.10 went private on 2026-10-08');
    const newer = check(
      { amiType: 'WINDOWS_CORE_2022_x86_64', releaseVersion: '1.33-2026.06.10' },
      { [param]: { kind: 'found', releaseVersion: '1.33-2026.11.11', publishedAt: new Date('2026-11-12T00:00:00Z') } },
    );
    expect(newer.status).toBe('drift');
    expect(newer.reason).toContain('⛔ its Windows AMI release 1.33-2026.06.10 went private on 2026-10-08');
  });
});
