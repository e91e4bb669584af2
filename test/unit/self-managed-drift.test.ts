import { describe, expect, it } from '@jest/globals';
import { classify, kindOf, planNodegroup } from '../../src/kinds/registry.js';
import { eksImageOf } from '../../src/decision/eks-images.js';
import type { ClusterState, ImageInfo, ImageSource, LatestRelease, NodegroupState } from '../../src/model/fleet.js';

// Names and releases from the amazon-eks-ami changelog (/work/shared/data/eks-optimized-ami-releases.csv).
const NOW = new Date('2026-11-21T12:00:00Z');
const X86 = '/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/recommended';
const ARM = '/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/arm64/standard/recommended';
const aws = (imageId: string, name: string): ImageInfo => ({
  imageId,
  name,
  ownerId: '602401143452',
  ownerAlias: 'amazon',
  createdAt: '2026-07-14T12:00:00.000Z',
  deprecatedAt: null,
  state: 'available',
});
const X86_NEW = aws('ami-0a0000000000000a1', 'amazon-eks-node-al2023-x86_64-standard-1.33-v20260714');
const X86_OLD = aws('ami-0a0000000000000a0', 'amazon-eks-node-al2023-x86_64-standard-1.33-v20260625');
const ARM_NEW = aws('ami-0b0000000000000b1', 'amazon-eks-node-al2023-arm64-standard-1.33-v20260714');
const ARM_OLD = aws('ami-0b0000000000000b0', 'amazon-eks-node-al2023-arm64-standard-1.33-v20260625');

const LATEST: Record<string, LatestRelease> = {
  [`${X86}/release_version`]: { kind: 'found', releaseVersion: '1.33.13-20260714', publishedAt: new Date('2026-07-15T00:00:00Z') },
  [`${X86}/image_id`]: { kind: 'image', imageId: X86_NEW.imageId },
  [`${ARM}/release_version`]: { kind: 'found', releaseVersion: '1.33.13-20260714', publishedAt: new Date('2026-07-15T00:00:00Z') },
  [`${ARM}/image_id`]: { kind: 'image', imageId: ARM_NEW.imageId },
};

const lt = (version: string, id = 'lt-0workers') => ({ id, name: id.slice(3), version });
const instances = (count: number, version: string, info: ImageInfo, instanceTypes = ['m6i.large']): ImageSource => ({
  role: 'instances',
  instances: count,
  instanceTypes,
  launchTemplate: lt(version),
  image: { via: 'launch-template', imageId: info.imageId, info },
});

function check(ng: Partial<NodegroupState>) {
  const cluster: ClusterState = { name: 'prod', region: 'us-east-1', version: '1.33', nodegroups: [] };
  const group: NodegroupState = {
    name: 'workers',
    kind: 'self-managed',
    desiredSize: 5,
    instanceCount: 5,
    launchTemplate: lt('7'),
    image: { via: 'launch-template', imageId: X86_NEW.imageId, info: X86_NEW },
    ...ng,
  };
  return { decision: classify(cluster, group, (p) => LATEST[p], { minReleaseAgeMs: 0, now: NOW }), parameters: kindOf(group).targetParameters(group) };
}

describe('a self-managed group, judged by what its instances run', () => {
  it('is drift when its template names the latest image but instances still run an older one, saying how many', () => {
    const { decision } = check({ sources: [instances(2, '7', X86_NEW), instances(3, '6', X86_OLD)] });
    expect(decision).toMatchObject({ status: 'drift', kind: 'self-managed', imageId: X86_OLD.imageId, latestImageId: X86_NEW.imageId });
    expect(decision.reason).toContain('3 of 5 instances on an older or other image');
    expect(decision.reason).toContain('3 instances (m6i.large) from launch template lt-0workers version 6');
    expect(decision.reason).toContain('v20260625 (ami-0a0000000000000a0) → 1.33.13-20260714 (ami-0a0000000000000a1)');
    expect(decision.reason).toContain('new instances get amazon-eks-node-al2023-x86_64-standard-1.33-v20260714 (up-to-date)');
    expect(decision.reason).not.toContain('reported only');
  });

  it('is up-to-date when every instance runs the template’s image', () => {
    const { decision } = check({ sources: [instances(5, '7', X86_NEW)] });
    expect(decision.status).toBe('up-to-date');
    expect(decision.reason).not.toContain('reported only');
  });

  it('compares an arm64 override template with the arm64 release, reading both architectures’ parameters', () => {
    const override: ImageSource = {
      role: 'override',
      instances: 0,
      instanceTypes: ['m7g.large', 'c7g.large'],
      launchTemplate: lt('2', 'lt-0workersarm'),
      image: { via: 'launch-template', imageId: ARM_OLD.imageId, info: ARM_OLD },
    };
    const { decision, parameters } = check({ sources: [override] });
    expect(decision).toMatchObject({ status: 'drift', amiType: 'AL2023_ARM_64_STANDARD', imageId: ARM_OLD.imageId, latestImageId: ARM_NEW.imageId });
    expect(decision.reason).toContain('override launch template lt-0workersarm version 2 for (m7g.large, c7g.large)');
    expect(parameters.map((p) => p.parameter).sort()).toEqual([`${ARM}/image_id`, `${ARM}/release_version`, `${X86}/image_id`, `${X86}/release_version`]);
    // on the latest arm64 image, the group is up to date
    expect(check({ sources: [{ ...override, image: { via: 'launch-template', imageId: ARM_NEW.imageId, info: ARM_NEW } }] }).decision.status).toBe(
      'up-to-date',
    );
  });

  it('is drift when instances run a private image the group has moved off', () => {
    const own: ImageInfo = { ...X86_OLD, imageId: 'ami-0c0000000000000c0', name: 'golden-2026.01', ownerId: '123456789012', ownerAlias: null };
    const { decision } = check({ sources: [instances(1, '5', own)] });
    expect(decision.status).toBe('drift');
    expect(decision.reason).toContain("1 instance (m6i.large) from launch template lt-0workers version 5: runs golden-2026.01, not the template's");
  });

  it('is this group’s error, with the AWS message, when one of its sources cannot be read', () => {
    const broken: ImageSource = { ...instances(2, '6', X86_OLD), image: { via: 'launch-template', error: 'launch template lt-0workers has no version 6' } };
    const { decision } = check({ sources: [instances(3, '7', X86_NEW), broken] });
    expect(decision.status).toBe('error');
    expect(decision.reason).toContain('launch template lt-0workers has no version 6');
  });

  it('names a resolve:ssm: template, and a disabled private image as disabled', () => {
    const aliased = check({ image: { via: 'launch-template', imageId: X86_NEW.imageId, info: X86_NEW, alias: `${X86}/image_id` } }).decision;
    expect(aliased.status).toBe('up-to-date');
    expect(aliased.reason).toContain(`the template names resolve:ssm:${X86}/image_id (ami-0a0000000000000a1 now)`);
    const disabled: ImageInfo = {
      ...X86_OLD,
      imageId: 'ami-0d0000000000000d0',
      name: 'golden-2025.10',
      ownerId: '123456789012',
      ownerAlias: null,
      state: 'disabled',
    };
    const r = check({ image: { via: 'launch-template', imageId: disabled.imageId, info: disabled } }).decision;
    expect(r.status).toBe('custom');
    expect(r.reason).toContain('image ami-0d0000000000000d0 is disabled: no instance can launch from it');
    expect(r.reason).not.toContain('not visible');
  });
});

describe('the upgrade plan of a self-managed group', () => {
  const cluster: ClusterState = { name: 'prod', region: 'us-east-1', version: '1.33', nodegroups: [] };
  const group = (over: Partial<NodegroupState> = {}): NodegroupState => ({
    name: 'workers',
    kind: 'self-managed',
    desiredSize: 5,
    instanceCount: 5,
    launchTemplate: lt('6'),
    image: { via: 'launch-template', imageId: X86_OLD.imageId, info: X86_OLD },
    ...over,
  });
  const plan = (ng: NodegroupState, pin?: { kubernetesVersion: string; imageId: string }) =>
    planNodegroup({
      cluster,
      ng,
      ...(pin ? { pin: { kubernetesVersion: pin.kubernetesVersion, releaseVersion: pin.imageId, imageId: pin.imageId } } : {}),
      manifestPresent: pin !== undefined,
      explicit: null,
      followControlPlane: false,
      latest: () => undefined,
      latestImage: () => X86_NEW.imageId,
    });

  it('is pinned by image id and updated to the pinned image, its Kubernetes version being its image’s', () => {
    expect(kindOf(group()).pinKey).toBe('imageId');
    expect(plan(group(), { kubernetesVersion: '1.33', imageId: X86_NEW.imageId })).toMatchObject({
      action: 'update',
      nodeKind: 'self-managed',
      source: 'manifest',
      current: { version: '1.33', imageId: X86_OLD.imageId },
      target: { version: '1.33', imageId: X86_NEW.imageId },
    });
  });

  it('without a manifest, moves to the image AWS recommends now', () => {
    expect(plan(group())).toMatchObject({ action: 'update', source: 'latest', target: { imageId: X86_NEW.imageId } });
  });

  it('refuses a pin of another Kubernetes version than its image’s, naming both', () => {
    const item = plan(group(), { kubernetesVersion: '1.34', imageId: X86_NEW.imageId });
    expect(item.action).toBe('block');
    expect(item.reason).toContain('pins Kubernetes 1.34');
    expect(item.reason).toContain('on 1.33');
  });

  it('replaces instances still on another image when its template names the target already, and is up to date when none are', () => {
    const bumped = group({ launchTemplate: lt('7'), image: { via: 'launch-template', imageId: X86_NEW.imageId, info: X86_NEW } });
    const lagging = { ...bumped, sources: [instances(2, '7', X86_NEW), instances(3, '6', X86_OLD)] };
    expect(plan(lagging, { kubernetesVersion: '1.33', imageId: X86_NEW.imageId })).toMatchObject({
      action: 'update',
      reason: `its template names ${X86_NEW.imageId} already, but 3 instance(s) run another image: replaced`,
    });
    expect(plan({ ...bumped, sources: [instances(5, '7', X86_NEW)] }, { kubernetesVersion: '1.33', imageId: X86_NEW.imageId })).toMatchObject({
      action: 'up-to-date',
    });
  });
});

describe('Bottlerocket image names', () => {
  const br = (name: string) => eksImageOf({ ...X86_NEW, name });
  it('reads the variant between the Kubernetes minor and the architecture', () => {
    expect(br('bottlerocket-aws-k8s-1.33-x86_64-v1.34.0-18d04e52')).toEqual({ amiType: 'BOTTLEROCKET_x86_64', minor: '1.33', release: '1.34.0-18d04e52' });
    expect(br('bottlerocket-aws-k8s-1.33-nvidia-x86_64-v1.34.0-18d04e52')?.amiType).toBe('BOTTLEROCKET_x86_64_NVIDIA');
    expect(br('bottlerocket-aws-k8s-1.34-fips-aarch64-v1.34.0-18d04e52')?.amiType).toBe('BOTTLEROCKET_ARM_64_FIPS');
    expect(br('bottlerocket-aws-k8s-1.34-nvidia-fips-x86_64-v1.34.0-18d04e52')?.amiType).toBe('BOTTLEROCKET_x86_64_NVIDIA_FIPS');
    expect(br('bottlerocket-aws-k8s-1.30-nvidia-x86_64-v1.20.4-b6163b2a')).toEqual({
      amiType: 'BOTTLEROCKET_x86_64_NVIDIA',
      minor: '1.30',
      release: '1.20.4-b6163b2a',
    });
  });

  it('reports a variant it does not know as unknown, naming it, not as custom', () => {
    expect(br('bottlerocket-aws-k8s-1.33-example-x86_64-v1.34.0-18d04e52')?.amiType).toBe('BOTTLEROCKET_x86_64_EXAMPLE');
    const info = { ...X86_NEW, name: 'bottlerocket-aws-k8s-1.33-example-x86_64-v1.34.0-18d04e52' };
    const { decision } = check({ image: { via: 'launch-template', imageId: info.imageId, info } });
    expect(decision.status).toBe('unknown');
    expect(decision.reason).toContain('BOTTLEROCKET_x86_64_EXAMPLE is not known');
  });
});
