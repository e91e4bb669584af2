import { describe, expect, it } from '@jest/globals';
import { decideNodeClassStage, nodeClassMembers } from '../../src/decision/node-class-stages.js';
import type { ClusterState, NodegroupState } from '../../src/model/fleet.js';
import type { NodegroupReport } from '../../src/model/check-report.js';
import type { NodeClaimRead } from '../../src/model/karpenter-objects.js';
import type { StageSettings } from '../../src/model/settings.js';

/** The staged rollout of Karpenter node classes (docs/staged-rollouts.md, "Karpenter node classes"). */
const stages: StageSettings = { names: ['canary', 'production'], tag: 'eks-ami-drift/stage', soak: { text: '3d', ms: 3 * 86_400_000 } };
const NOW = Date.parse('2026-08-10T00:00:00Z');
const daysAgo = (d: number) => new Date(NOW - d * 86_400_000).toISOString();

function nodeClass(name: string, alias: string, claims: Partial<NodeClaimRead>[]): NodegroupState {
  return {
    name,
    kind: 'karpenter',
    version: '1.35',
    nodeClass: {
      name,
      amiFamily: null,
      terms: [{ alias }],
      amis: [{ id: 'ami-0new', name: null, deprecated: false, requirements: [] }],
      ready: { status: 'True', message: null },
      nodePools: [],
      nodeClaims: claims.map((c, i) => ({ name: `c${i}`, nodePool: 'general', nodeClass: name, imageId: 'ami-0new', nodeName: `n${i}`, ready: true, ...c })),
    },
  };
}
const canary = (...ngs: NodegroupState[]): ClusterState => ({
  name: 'canary-1',
  region: 'us-east-1',
  tags: { 'eks-ami-drift/stage': 'canary' },
  nodegroups: ngs,
});

const entry = {
  cluster: 'prod',
  region: 'us-east-1',
  nodegroup: 'default',
  nodeKind: 'karpenter',
  amiType: 'al2023',
  releaseVersion: 'v20260505',
  latestReleaseVersion: 'v20260625',
  status: 'drift',
  reason: 'al2023@v20260505 → al2023@v20260625',
  nodeClass: { targetAlias: 'al2023@v20260625' },
} as unknown as NodegroupReport;
const production = { index: 1, name: 'production', note: null };
const decide = (...ngs: NodegroupState[]) => decideNodeClassStage(entry, production, nodeClassMembers([canary(...ngs)], stages), stages, NOW);

describe('a later stage node class', () => {
  it('waits while the canary node class has run the version for less than the soak, naming when it is proven', () => {
    const r = decide(nodeClass('default', 'al2023@v20260625', [{ createdAt: daysAgo(1) }, { createdAt: daysAgo(2) }]));
    expect(r.status).toBe('waiting');
    expect(r.stage).toBe('production');
    expect(r.reason).toBe(
      'al2023@v20260625 is published but not proven for stage production: it waits for the earlier stages ' +
        "(each al2023 node class's nodes on it and Ready for 3d): canary-1/default: its nodes run it since 2026-08-08T00:00:00.000Z, proves it in 1d",
    );
    expect(r.proof).toMatchObject({ train: 'al2023@v20260625', applies: true, proven: false, provenAt: '2026-08-11T00:00:00.000Z' });
  });

  it("waits when the canary's workloads did not come back on the version (the upgrade's health gate mark), soak or not", () => {
    const ran = nodeClass('default', 'al2023@v20260625', [{ createdAt: daysAgo(5) }]);
    const mark = { target: 'al2023@v20260625', at: daysAgo(4), sources: ['parameter' as const] };
    const members = nodeClassMembers([canary(ran)], stages, (c, name) => (c.name === 'canary-1' && name === 'default' ? mark : undefined));
    const r = decideNodeClassStage(entry, production, members, stages, NOW);
    expect(r.status).toBe('waiting');
    expect(r.reason).toBe(
      `al2023@v20260625 failed in an earlier stage: canary-1/default: its workloads did not come back on al2023@v20260625 (health gate, ${daysAgo(4)}). ` +
        'It waits until a newer version is proven, or the mark is deleted ' +
        '(aws ssm delete-parameter --name /eks-ami-drift/unhealthy/<cluster>/ec2nodeclass.<node class>)',
    );
    expect(r.proof?.failures).toEqual([expect.objectContaining({ cluster: 'canary-1', nodegroup: 'default', at: daysAgo(4) })]);
    // a mark on another version does not hold this one
    const older = nodeClassMembers([canary(ran)], stages, () => ({ ...mark, target: 'al2023@v20260505' }));
    expect(decideNodeClassStage(entry, production, older, stages, NOW).status).toBe('drift');
  });

  it('is proposed once every canary node ran it for the soak, Ready, with the evidence', () => {
    const r = decide(nodeClass('default', 'al2023@v20260625', [{ createdAt: daysAgo(4) }, { createdAt: daysAgo(1) }]));
    expect(r.status).toBe('drift');
    expect(r.reason).toContain('al2023@v20260625 proven for stage production by 1 node class(es) of the earlier stages');
    expect(r.proof?.evidence).toEqual([
      { cluster: 'canary-1', nodegroup: 'default', stage: 'canary', release: 'al2023@v20260625', since: daysAgo(4), updateId: null },
    ]);
  });

  it('waits while the canary pins an older version, has no node on it, has nodes on an older image or nodes not Ready', () => {
    expect(decide(nodeClass('default', 'al2023@v20260505', [{ createdAt: daysAgo(9) }])).reason).toContain(
      'canary-1/default: pins al2023@v20260505, not al2023@v20260625 yet',
    );
    expect(decide(nodeClass('default', 'al2023@v20260625', [])).reason).toContain('canary-1/default: no node runs it yet');
    expect(decide(nodeClass('default', 'al2023@v20260625', [{ createdAt: daysAgo(9) }, { createdAt: daysAgo(20), imageId: 'ami-0old' }])).reason).toContain(
      "canary-1/default: 1 of 2 node(s) still on an older image (Karpenter's drift not finished)",
    );
    const sick = decide(nodeClass('default', 'al2023@v20260625', [{ createdAt: daysAgo(9), ready: false }]));
    expect(sick.status).toBe('waiting');
    expect(sick.reason).toContain('canary-1/default: 1 of 1 node(s) on it not Ready');
    expect(sick.proof?.provenAt).toBeNull();
  });

  it('is decided on min-release-age alone when no earlier stage pins a node class of its family; a canary on @latest proves nothing', () => {
    const r = decide(nodeClass('br', 'bottlerocket@v1.34.0', [{ createdAt: daysAgo(9) }]), nodeClass('latest', 'al2023@latest', [{ createdAt: daysAgo(9) }]));
    expect(r.status).toBe('drift');
    expect(r.reason).toContain('no al2023 node class is pinned in an earlier stage (canary), so the stage gate could not apply');
  });

  it('in the first stage, is decided as without stages', () => {
    const r = decideNodeClassStage(entry, { index: 0, name: 'canary', note: null }, [], stages, NOW);
    expect(r).toEqual({ ...entry, stage: 'canary' });
  });
});
