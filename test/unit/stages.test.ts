import { describe, expect, it } from '@jest/globals';
import { memberOf, stageOf } from '../../src/decision/stages.js';
import { runningRelease } from '../../src/kinds/registry.js';
import type { StageSettings } from '../../src/model/settings.js';
import { mergeUnhealthy, parseUnhealthyParameter, type ClusterState, type NodegroupState } from '../../src/model/fleet.js';
import { applyUnhealthyParameters } from '../../src/fleet/ssm.js';

const stages: StageSettings = { names: ['canary', 'staging', 'production'], tag: 'eks-ami-drift/stage', soak: { text: '3d', ms: 3 * 86_400_000 } };
const AL = 'AL2023_x86_64_STANDARD';
const cluster = (tags?: Record<string, string>): ClusterState => ({ name: 'c', region: 'us-east-1', nodegroups: [], ...(tags ? { tags } : {}) });

describe("a cluster's stage", () => {
  it('is the tag value among the stages, without case', () => {
    expect(stageOf(cluster({ 'eks-ami-drift/stage': 'Staging' }), stages)).toEqual({ index: 1, name: 'staging', note: null });
  });
  it('is the last stage without the tag, or with a value that names no stage, and says why', () => {
    expect(stageOf(cluster(), stages)).toEqual({ index: 2, name: 'production', note: 'no eks-ami-drift/stage tag: in the last stage' });
    expect(stageOf(cluster({ 'eks-ami-drift/stage': 'canary-eu' }), stages)).toMatchObject({
      index: 2,
      note: 'its tag eks-ami-drift/stage=canary-eu names no stage of canary, staging, production: in the last stage',
    });
  });
});

describe('a node group as the proof sees it', () => {
  const ng = (over: Partial<NodegroupState>): NodegroupState => ({
    name: 'general',
    amiType: AL,
    version: '1.33',
    releaseVersion: '1.33.13-20260714',
    createdAt: 1_000,
    ...over,
  });
  const update = (id: string, status: string, releaseVersion: string, createdAt: number) => ({
    id,
    status,
    releaseVersion,
    createdAt,
    errors: status === 'Failed' ? ['NodeCreationFailure: no nodes'] : [],
  });

  it('has run its train since its latest successful update, else since its creation', () => {
    expect(memberOf(cluster(), ng({}), 0, runningRelease)).toMatchObject({ train: { id: 'v20260714' }, since: 1_000, sinceUpdateId: null, failures: [] });
    const updates = [
      update('u1', 'Successful', '1.33.12-20260618', 5_000),
      update('u2', 'Successful', '1.33.13-20260714', 9_000),
      update('u3', 'Cancelled', '1.33.13-20260801', 9_500),
    ];
    expect(memberOf(cluster(), ng({ updates }), 0, runningRelease)).toMatchObject({ since: 9_000, sinceUpdateId: 'u2' });
  });

  it("counts each failed update against its target's train, and the health gate's mark against its release's", () => {
    const updates = [update('u1', 'Failed', '1.33.13-20260801', 5_000)];
    const m = memberOf(cluster(), ng({ updates, unhealthy: { target: '1.33.13-20260714', at: '2026-07-20T00:00:00.000Z' } }), 0, runningRelease)!;
    expect(m.failures).toEqual([
      { train: 'v20260801', updateId: 'u1', at: 5_000, what: 'update u1 to 1.33.13-20260801 failed: NodeCreationFailure: no nodes' },
      {
        train: 'v20260714',
        updateId: null,
        at: Date.parse('2026-07-20T00:00:00.000Z'),
        what: 'its workloads did not come back healthy on 1.33.13-20260714 (health gate)',
      },
    ]);
  });

  describe('a CUSTOM node group, whose updates name a launch template version (EKS API reference, UpdateNodegroupVersion, example 2)', () => {
    const image = (release: string) => ({
      via: 'launch-template' as const,
      imageId: `ami-${release}`,
      info: {
        imageId: `ami-${release}`,
        name: `amazon-eks-node-al2023-x86_64-standard-1.33-${release}`,
        ownerId: '602401143452',
        ownerAlias: 'amazon',
        createdAt: null,
        deprecatedAt: null,
      },
    });
    const custom = (over: Partial<NodegroupState>) =>
      ng({
        amiType: 'CUSTOM',
        releaseVersion: 'ami-v20260714',
        launchTemplate: { id: 'lt-1', name: 'custom', version: '4' },
        image: image('v20260714'),
        ...over,
      });
    const failed = (id: string, createdAt: number, over: object = {}) => ({
      id,
      status: 'Failed',
      createdAt,
      releaseVersion: null,
      launchTemplateVersion: '5',
      errors: ['NodeCreationFailure: no nodes'],
      ...over,
    });

    it('counts a failed update against the train of the image its launch template version names', () => {
      const m = memberOf(cluster(), custom({ updates: [failed('u5', 5_000, { image: image('v20260801') })] }), 0, runningRelease)!;
      expect(m.train?.id).toBe('v20260714');
      expect(m.failures).toEqual([
        { train: 'v20260801', updateId: 'u5', at: 5_000, what: 'update u5 to launch template version 5 (v20260801) failed: NodeCreationFailure: no nodes' },
      ]);
      expect(m.unreadable).toBeUndefined();
    });

    it("counts the health gate's mark on its image id against the train of the release that image is", () => {
      const marked = custom({ unhealthy: { target: 'ami-v20260714', at: '2026-07-20T00:00:00.000Z' } });
      expect(memberOf(cluster(), marked, 0, runningRelease)!.failures).toEqual([
        {
          train: 'v20260714',
          updateId: null,
          at: Date.parse('2026-07-20T00:00:00.000Z'),
          what: 'its workloads did not come back healthy on ami-v20260714 (health gate)',
        },
      ]);
      // a mark on an image it no longer runs: its train cannot be told
      expect(memberOf(cluster(), custom({ unhealthy: { target: 'ami-older', at: '2026-07-20T00:00:00.000Z' } }), 0, runningRelease)!.failures).toEqual([]);
    });

    it('proves nothing while a failure whose image cannot be read is newer than its last success', () => {
      const unreadable = { via: 'launch-template' as const, error: 'launch template lt-1 has no version 5' };
      const m = memberOf(cluster(), custom({ updates: [failed('u5', 5_000, { image: unreadable })] }), 0, runningRelease)!;
      expect(m.unreadable).toBe(
        'update u5 to launch template version 5 failed: NodeCreationFailure: no nodes; ' +
          'the train of its image cannot be told (launch template lt-1 has no version 5)',
      );
      // A later success puts it on a train: the old failure no longer holds it.
      const success = { id: 'u6', status: 'Successful', createdAt: 9_000, releaseVersion: null, launchTemplateVersion: '6', errors: [] };
      expect(memberOf(cluster(), custom({ updates: [failed('u5', 5_000, { image: unreadable }), success] }), 0, runningRelease)).toMatchObject({
        since: 9_000,
        failures: [],
      });
      expect(memberOf(cluster(), custom({ updates: [failed('u5', 5_000, { image: unreadable }), success] }), 0, runningRelease)!.unreadable).toBeUndefined();
    });
  });

  it("still counts the health gate's failure when an apply removed the node group's tag: its SSM parameter holds it", () => {
    // The tag is gone (no `unhealthy` from DescribeNodegroup); the parameter the health gate wrote is read by path.
    const c: ClusterState = { ...cluster(), nodegroups: [ng({})] };
    const value = JSON.stringify({ target: '1.33.13-20260714', at: '2026-07-20T00:00:00.000Z', cluster: 'c', nodegroup: 'general', update: 'u9' });
    applyUnhealthyParameters([c], new Map([['c/general', { ...parseUnhealthyParameter(value)!, sources: ['parameter' as const] }]]));
    // merged twice (the check's clusters and the proof's fleet may be the same objects): nothing changes
    applyUnhealthyParameters([c], new Map([['c/general', { ...parseUnhealthyParameter(value)!, sources: ['parameter' as const] }]]));
    expect(c.nodegroups[0]!.unhealthy).toEqual({ target: '1.33.13-20260714', at: '2026-07-20T00:00:00.000Z', sources: ['parameter'] });
    expect(memberOf(c, c.nodegroups[0]!, 0, runningRelease)!.failures).toEqual([
      {
        train: 'v20260714',
        updateId: null,
        at: Date.parse('2026-07-20T00:00:00.000Z'),
        what: 'its workloads did not come back healthy on 1.33.13-20260714 (health gate)',
      },
    ]);
    // A node group of another cluster with the same name is not marked by it.
    const other: ClusterState = { ...cluster(), name: 'd', nodegroups: [ng({})] };
    applyUnhealthyParameters([other], new Map([['c/general', { target: '1.33.13-20260714', at: '2026-07-20T00:00:00.000Z' }]]));
    expect(memberOf(other, other.nodegroups[0]!, 0, runningRelease)!.failures).toEqual([]);
  });

  it('reads a mark from the tag, the parameter or both: either holds, and the later wins when they disagree', () => {
    const tag = { target: '1.33.13-20260714', at: '2026-07-20T00:00:00.000Z', sources: ['tag' as const] };
    const parameter = { target: '1.33.13-20260714', at: '2026-07-20T00:00:00.000Z', sources: ['parameter' as const] };
    expect(mergeUnhealthy(tag, undefined)).toEqual(tag);
    expect(mergeUnhealthy(undefined, parameter)).toEqual(parameter);
    expect(mergeUnhealthy(tag, parameter)).toEqual({ target: '1.33.13-20260714', at: '2026-07-20T00:00:00.000Z', sources: ['parameter', 'tag'] });
    const later = { target: '1.33.14-20260801', at: '2026-08-05T00:00:00.000Z', sources: ['parameter' as const] };
    expect(mergeUnhealthy(tag, later)).toEqual(later);
    // a person may put the tag's plain form in the parameter; anything else is no mark
    expect(parseUnhealthyParameter('1.33.13-20260714 2026-07-20T00:00:00.000Z')).toEqual({ target: '1.33.13-20260714', at: '2026-07-20T00:00:00.000Z' });
    expect(parseUnhealthyParameter('{"at":"2026-07-20T00:00:00.000Z"}')).toBeUndefined();
    expect(parseUnhealthyParameter('{not json')).toBeUndefined();
  });

  it('is not a member when it cannot say its train: an error, a self-managed group; an unreadable history holds every train', () => {
    expect(memberOf(cluster(), ng({ error: 'AccessDenied' }), 0, runningRelease)).toBeUndefined();
    expect(memberOf(cluster(), ng({ kind: 'self-managed' }), 0, runningRelease)).toBeUndefined();
    expect(memberOf(cluster(), ng({ historyError: 'its update history could not be read: AccessDenied' }), 0, runningRelease)).toMatchObject({
      since: null,
      unreadable: 'its update history could not be read: AccessDenied',
    });
  });
});
