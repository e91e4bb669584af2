import { describe, expect, it } from '@jest/globals';
import { classify, kindOf } from '../../src/kinds/registry.js';
import { bottlerocketVersionOf } from '../../src/decision/in-place.js';
import { isDrift } from '../../src/effects/proposal-common.js';
import type { ClusterState, LatestRelease, NodegroupState, NodeOsRead } from '../../src/model/fleet.js';
import type { NodegroupReport } from '../../src/model/check-report.js';

/*
 * Issue 23 items 3 and 4, on real release data (test/fixtures/bottlerocket-releases.csv: 1.24.1-acfd0abe,
 * 1.26.0-85f0d68c, 1.34.0-18d04e52; the node's osImage is Bottlerocket's PRETTY_NAME,
 * `Bottlerocket OS 1.34.0 (aws-k8s-1.33)`).
 */
const NOW = new Date('2026-11-21T12:00:00Z');
const DAY = 86_400_000;
const BR_133 = '/aws/service/bottlerocket/aws-k8s-1.33/x86_64/latest/image_version';
const BR_133_IMAGE = '/aws/service/bottlerocket/aws-k8s-1.33/x86_64/latest/image_id';
const AL2023_133 = '/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/recommended/release_version';
const AL2023_133_IMAGE = '/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/recommended/image_id';

const latest: Record<string, LatestRelease> = {
  [BR_133]: { kind: 'found', releaseVersion: '1.34.0-18d04e52', publishedAt: new Date(NOW.getTime() - 9 * DAY) },
  [BR_133_IMAGE]: { kind: 'image', imageId: 'ami-0br134', publishedAt: new Date(NOW.getTime() - 9 * DAY) },
  [AL2023_133]: { kind: 'found', releaseVersion: '1.33.13-20260714', publishedAt: new Date(NOW.getTime() - 30 * DAY) },
  [AL2023_133_IMAGE]: { kind: 'image', imageId: 'ami-0al2023new', publishedAt: new Date(NOW.getTime() - 30 * DAY) },
};

function check(ng: Partial<NodegroupState>, controlPlane = '1.33'): NodegroupReport {
  const cluster: ClusterState = { name: 'prod', region: 'us-east-1', version: controlPlane, nodegroups: [] };
  const nodegroup: NodegroupState = { name: 'system', amiType: 'BOTTLEROCKET_x86_64', version: '1.33', releaseVersion: '1.26.0-85f0d68c', ...ng };
  const kind = kindOf(nodegroup);
  return { ...classify(cluster, nodegroup, (p) => latest[p], { minReleaseAgeMs: DAY, now: NOW }), nodeKind: kind.id, pinKey: kind.pinKey };
}

const nodes = (...versions: string[]): NodeOsRead => ({
  nodes: versions.map((v, i) => ({ name: `ip-10-0-0-${i + 1}.ec2.internal`, osImage: `Bottlerocket OS ${v} (aws-k8s-1.33)` })),
});

const awsImage = (name: string) => ({
  via: 'launch-template' as const,
  imageId: 'ami-0old',
  info: { imageId: 'ami-0old', name, ownerId: '602401143452', ownerAlias: 'amazon', createdAt: '2026-07-14T00:00:00Z', deprecatedAt: null },
});

describe('a CUSTOM node group on an older minor’s image (issue 23 item 3)', () => {
  it('is behind-control-plane when its image is an EKS AL2023 1.32 image in a 1.33 cluster, whatever the node group says', () => {
    const image = awsImage('amazon-eks-node-al2023-x86_64-standard-1.32-v20260714');
    const lt = { id: 'lt-1', name: 'custom', version: '3' };
    for (const version of ['1.33', undefined]) {
      const r = check({ amiType: 'CUSTOM', version, releaseVersion: 'ami-0old', launchTemplate: lt, image });
      expect(r.status).toBe('behind-control-plane');
      expect(r.reason).toContain("the image's Kubernetes 1.32");
      expect(r.reason).toContain("lags the control plane's 1.33: move the launch template to an image of 1.33");
    }
  });

  it('is still compared within its minor when the image is of the control plane’s minor', () => {
    const image = awsImage('amazon-eks-node-al2023-x86_64-standard-1.33-v20260610');
    const r = check({ amiType: 'CUSTOM', version: '1.33', releaseVersion: 'ami-0old', launchTemplate: { id: 'lt-1', name: 'c', version: '1' }, image });
    expect(r.status).toBe('drift');
    expect(r.reason).toContain('v20260610 (ami-0old) → 1.33.13-20260714 (ami-0al2023new)');
  });
});

describe('Bottlerocket nodes updated in place (issue 23 item 4)', () => {
  it('reads the OS version from a node’s osImage, with or without the variant, and nothing from Amazon Linux', () => {
    expect(bottlerocketVersionOf('Bottlerocket OS 1.56.0 (aws-k8s-1.33)')).toBe('1.56.0');
    expect(bottlerocketVersionOf('Bottlerocket OS 1.0.7')).toBe('1.0.7');
    expect(bottlerocketVersionOf('Amazon Linux 2')).toBeUndefined();
    expect(bottlerocketVersionOf('Amazon Linux 2023.9.20251208')).toBeUndefined();
  });

  it('is not drift when every node runs the latest release in place, and says what the lagging release means', () => {
    const r = check({ nodeOs: nodes('1.34.0', '1.34.0', '1.34.0') });
    expect(r.status).toBe('up-to-date');
    expect(r.inPlace).toEqual({ nodes: 3, updatedInPlace: 3, osVersions: ['1.34.0'], newest: '1.34.0' });
    expect(r.reason).toBe(
      "🔄 updated in place: all 3 node(s) run Bottlerocket 1.34.0 (latest release 1.34.0-18d04e52); the node group's own release" +
        ' 1.26.0-85f0d68c lags: a node it launches (scale-up, replacement, repair) starts on 1.26.0-85f0d68c until it is updated in place too',
    );
    expect(isDrift(r)).toBe(false);
  });

  it('stays drift when only some nodes were updated in place, and says which', () => {
    const r = check({ nodeOs: nodes('1.34.0', '1.34.0', '1.26.0') });
    expect(r.status).toBe('drift');
    expect(r.reason).toContain('1.26.0-85f0d68c → 1.34.0-18d04e52');
    expect(r.reason).toContain('🔄 2 of 3 node(s) updated in place to Bottlerocket 1.34.0');
    expect(r.inPlace).toEqual({ nodes: 3, updatedInPlace: 2, osVersions: ['1.34.0', '1.26.0'], newest: '1.34.0' });
    expect(isDrift(r)).toBe(true);
  });

  it('never proposes a release older than what a node runs in place', () => {
    // A node updated past the published recommendation (brupop follows Bottlerocket's own update
    // repository), the others on the node group's release.
    const r = check({ releaseVersion: '1.24.1-acfd0abe', nodeOs: nodes('1.24.1', '1.34.0') }, '1.33');
    const older = { ...r, latestReleaseVersion: '1.26.0-85f0d68c' };
    expect(isDrift(older)).toBe(false);
    const staged = { ...r, targetReleaseVersion: '1.26.0-85f0d68c' };
    expect(isDrift(staged)).toBe(false);
    expect(isDrift(r)).toBe(true);
  });

  it('says so in the reason when the latest release is older than a node runs', () => {
    const latestOld: Record<string, LatestRelease> = {
      ...latest,
      [BR_133]: { kind: 'found', releaseVersion: '1.26.0-85f0d68c', publishedAt: new Date(NOW.getTime() - 9 * DAY) },
    };
    const cluster: ClusterState = { name: 'prod', region: 'us-east-1', version: '1.33', nodegroups: [] };
    const ng: NodegroupState = {
      name: 'system',
      amiType: 'BOTTLEROCKET_x86_64',
      version: '1.33',
      releaseVersion: '1.24.1-acfd0abe',
      nodeOs: nodes('1.24.1', '1.34.0'),
    };
    const r = classify(cluster, ng, (p) => latestOld[p], { minReleaseAgeMs: DAY, now: NOW });
    expect(r.status).toBe('drift');
    expect(r.reason).toContain('1.26.0-85f0d68c is older than Bottlerocket 1.34.0, which its nodes run after an in-place update: not proposed');
    expect(isDrift({ ...r, nodeKind: 'managed-release', pinKey: 'releaseVersion' })).toBe(false);
  });

  it('compares by the release alone when the nodes were not looked at, or run the node group’s release', () => {
    const unread = check({ nodeOs: { unread: 'nodes is forbidden' } });
    expect(unread).toMatchObject({ status: 'drift', inPlace: null });
    const same = check({ nodeOs: nodes('1.26.0', '1.26.0') });
    expect(same).toMatchObject({ status: 'drift', inPlace: null });
    expect(check({}).status).toBe('drift');
  });

  it('never applies to Amazon Linux, whose OS image names no EKS release', () => {
    const r = check({
      amiType: 'AL2023_x86_64_STANDARD',
      releaseVersion: '1.33.12-20260610',
      nodeOs: { nodes: [{ name: 'n1', osImage: 'Amazon Linux 2023.9.20251208' }] },
    });
    expect(r).toMatchObject({ status: 'drift', inPlace: null });
  });

  it('sees a CUSTOM node group’s Bottlerocket image updated in place too', () => {
    const image = awsImage('bottlerocket-aws-k8s-1.33-x86_64-v1.26.0-85f0d68c');
    const r = check({
      amiType: 'CUSTOM',
      releaseVersion: 'ami-0old',
      launchTemplate: { id: 'lt-1', name: 'br', version: '2' },
      image,
      nodeOs: nodes('1.34.0', '1.34.0'),
    });
    expect(r.status).toBe('up-to-date');
    expect(r.reason).toContain(
      '🔄 updated in place: all 2 node(s) run Bottlerocket 1.34.0 (latest release 1.34.0-18d04e52); ' +
        "the node group's own release 1.26.0-85f0d68c (ami-0old) lags",
    );
    expect(r.inPlace).toMatchObject({ updatedInPlace: 2, newest: '1.34.0' });
  });
});
