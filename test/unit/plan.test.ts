import { describe, expect, it } from '@jest/globals';
import { planNodegroup } from '../../src/kinds/registry.js';
import type { PlanInput } from '../../src/decision/plan.js';
import { defaultWaitTimeoutMs } from '../../src/decision/budget.js';
import { parseRefusal } from '../../src/decision/refusal.js';
import { updateToken } from '../../src/effects/managed-update.js';

const base = (over: Partial<PlanInput> = {}, ng: Partial<PlanInput['ng']> = {}): PlanInput => ({
  cluster: { name: 'prod', region: 'us-east-1', version: '1.33', nodegroups: [] },
  ng: { name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: '1.33.12-20260610', desiredSize: 3, ...ng },
  manifestPresent: false,
  explicit: null,
  followControlPlane: false,
  latest: (minor) => ({ '1.33': '1.33.13-20260714', '1.32': '1.32.13-20260714' })[minor],
  ...over,
});

describe('the upgrade plan for one node group', () => {
  it('updates to the manifest’s pin', () => {
    const item = planNodegroup(base({ manifestPresent: true, pin: { kubernetesVersion: '1.33', releaseVersion: '1.33.13-20260625' } }));
    expect(item).toMatchObject({ action: 'update', source: 'manifest', target: { version: '1.33', releaseVersion: '1.33.13-20260625' } });
  });

  it('prefers release-version over the manifest, and the latest when there is no manifest', () => {
    expect(
      planNodegroup(base({ explicit: '1.33.13-20260618', manifestPresent: true, pin: { kubernetesVersion: '1.33', releaseVersion: '1.33.13-20260625' } })),
    ).toMatchObject({
      source: 'release-version',
      target: { releaseVersion: '1.33.13-20260618' },
    });
    expect(planNodegroup(base())).toMatchObject({ action: 'update', source: 'latest', target: { releaseVersion: '1.33.13-20260714' } });
  });

  it('only goes forward: older is skipped as a rollback, the same is up to date', () => {
    expect(planNodegroup(base({ explicit: '1.33.11-20260501' }))).toMatchObject({
      action: 'skip',
      reason: expect.stringContaining('a rollback is not possible'),
    });
    expect(planNodegroup(base({ explicit: '1.33.12-20260610' }))).toMatchObject({ action: 'up-to-date' });
    // semantic version first: 1.33.9 is older than 1.33.12 whatever the date says
    expect(planNodegroup(base({ explicit: '1.33.9-20270101' }))).toMatchObject({ action: 'skip' });
  });

  it('leaves alone a node group the manifest does not pin, and custom AMIs', () => {
    expect(planNodegroup(base({ manifestPresent: true }))).toMatchObject({ action: 'skip', reason: expect.stringContaining('not pinned') });
    expect(planNodegroup(base({}, { amiType: 'CUSTOM' }))).toMatchObject({ action: 'skip', reason: expect.stringContaining('launch template') });
  });

  it('follows the control plane only when asked, and never past it', () => {
    const behind = { version: '1.32', releaseVersion: '1.32.12-20260610' };
    expect(planNodegroup(base({}, behind))).toMatchObject({ action: 'update', target: { version: '1.32', releaseVersion: '1.32.13-20260714' } });
    expect(planNodegroup(base({ followControlPlane: true }, behind))).toMatchObject({
      action: 'update',
      source: 'control-plane',
      target: { version: '1.33', releaseVersion: '1.33.13-20260714' },
    });
    // a release of another minor than the node group's is refused, and blocks the cluster
    expect(planNodegroup(base({ explicit: '1.34.9-20260714' }))).toMatchObject({
      action: 'block',
      reason: 'release-version 1.34.9-20260714 is for Kubernetes 1.34, but the node group runs 1.33: name a release of Kubernetes 1.33',
    });
    expect(planNodegroup(base({ explicit: '1.33.13-20260714' }, behind))).toMatchObject({
      action: 'block',
      reason: expect.stringContaining('set follow-control-plane: true'),
    });
    expect(planNodegroup(base({ explicit: '1.33.13-20260714', followControlPlane: true }, behind))).toMatchObject({
      action: 'update',
      target: { version: '1.33' },
    });
  });

  it('blocks the cluster when a manifest pin asks for more than the control plane, naming the file and line', () => {
    const item = planNodegroup(
      base({
        manifestPresent: true,
        pin: { kubernetesVersion: '1.34', releaseVersion: '1.34.2-20260714' },
        pinAt: '.github/eks-ami-drift/us-east-1/prod.yaml:9',
      }),
    );
    expect(item.action).toBe('block');
    expect(item.reason).toBe(
      '.github/eks-ami-drift/us-east-1/prod.yaml:9 asks for Kubernetes 1.34 (1.34.2-20260714), newer than the control plane’s 1.33: upgrade the control ' +
        'plane first, or pin a release of 1.33 or older',
    );
  });

  it('keeps the node group’s Kubernetes minor for a Bottlerocket release-version (its version is the OS’s)', () => {
    const br = { amiType: 'BOTTLEROCKET_x86_64', version: '1.33', releaseVersion: '1.20.0-3a7b5c2e' };
    expect(planNodegroup(base({ explicit: '1.52.0-18d04e52' }, br))).toMatchObject({
      action: 'update',
      target: { version: '1.33', releaseVersion: '1.52.0-18d04e52' },
    });
    expect(planNodegroup(base({ explicit: '1.34.0-18d04e52' }, br))).toMatchObject({ action: 'update', target: { version: '1.33' } });
    expect(planNodegroup(base({ explicit: '1.52.0-18d04e52', followControlPlane: true }, { ...br, version: '1.32' }))).toMatchObject({
      target: { version: '1.33' },
    });
  });
});

describe('update helpers', () => {
  const item = planNodegroup(base());
  it('derives the same idempotency token from the same commit, cluster, node group, target and attempt', () => {
    expect(updateToken('abc', item, 0)).toBe(updateToken('abc', item, 0));
    expect(updateToken('abc', item, 0)).not.toBe(updateToken('abd', item, 0));
    expect(updateToken('abc', item, 0)).not.toBe(updateToken('abc', item, 1));
    expect(updateToken('abc', item, 0)).toMatch(/^[0-9a-f]{40}$/);
  });
  it('reads the release EKS allows from its error', () => {
    expect(parseRefusal('Requested Nodegroup release version 1.31.3-20250103 is invalid. Allowed release version is 1.31.2-20241121')).toEqual({
      allowed: '1.31.2-20241121',
    });
    expect(parseRefusal('Requested release version 1.31.3-20250103 is not valid for kubernetes version 1.30.')).toEqual({ notValidFor: '1.30' });
    expect(parseRefusal('Nodegroup is not in ACTIVE state')).toBeUndefined();
  });
  it('waits longer for bigger node groups', () => {
    expect(defaultWaitTimeoutMs(1)).toBe(40 * 60_000);
    expect(defaultWaitTimeoutMs(20)).toBe((15 + 160) * 60_000);
  });
});
