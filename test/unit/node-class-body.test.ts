import { describe, expect, it } from '@jest/globals';
import { proposalBody, proposalTitle } from '../../src/report/proposal-body.js';
import type { NodegroupReport } from '../../src/model/check-report.js';

/** The node classes' part of a cluster's pull request (docs/karpenter.md, "Node classes in the pull request"). */
const nodeClass = {
  cluster: 'kp',
  region: 'us-east-1',
  nodegroup: 'default',
  nodeKind: 'karpenter',
  pinKey: 'alias',
  amiType: 'al2023',
  releaseVersion: 'v20260505',
  latestReleaseVersion: 'v20260625',
  latestReleasePublishedAt: '2026-06-25T10:00:00.000Z',
  nodes: 3,
  status: 'drift',
  reason: 'al2023@v20260505 → al2023@v20260625',
  nodeClass: {
    targetAlias: 'al2023@v20260625',
    nodePools: ['general', 'batch'],
    budgets: [
      { nodePool: 'general', budgets: [] },
      { nodePool: 'batch', budgets: [{ nodes: '0', schedule: '@daily', duration: '10m', reasons: ['Drifted', 'Underutilized'] }] },
    ],
  },
} as unknown as NodegroupReport;

describe("a node class in the cluster's pull request", () => {
  it('names the alias moved, what Karpenter does after the merge, and each NodePool budgets, default included', () => {
    const body = proposalBody('pr', 'us-east-1', 'kp', [nodeClass], '.github/eks-ami-drift/us-east-1/kp.yaml', undefined, {
      files: ['deploy/default.yaml'],
      notes: [],
    });
    expect(proposalTitle('us-east-1', 'kp', [nodeClass])).toBe('Upgrade Karpenter node classes of kp (us-east-1): default');
    expect(body).toContain('Newer AMI versions are published for 1 Karpenter node class(es) of **kp** (us-east-1).');
    expect(body).toContain('| default | al2023@v20260505 | al2023@v20260625 | 2026-06-25 | 3 | general, batch |');
    expect(body).toContain('moves their pins in `.github/eks-ami-drift/us-east-1/kp.yaml` and `deploy/default.yaml`');
    expect(body).toContain("- `default` / NodePool `general`: disruption budget: Karpenter's default, 10% of the nodes at a time");
    expect(body).toContain(
      '- `default` / NodePool `batch`: disruption budgets (the most restrictive active one applies): ' +
        '0 node(s) from "@daily" for 10m for Drifted, Underutilized',
    );
    // nothing of the node groups' rolling update is said of node classes
    expect(body).not.toContain('cluster-autoscaler is paused');
  });

  it('says which EC2NodeClass file was not changed, and why', () => {
    const body = proposalBody('pr', 'us-east-1', 'kp', [nodeClass], 'kp.yaml', undefined, {
      files: [],
      notes: ["deploy/default.yaml: EC2NodeClass default names al2023@v20260601, not al2023@v20260505 as the cluster's manifest pins: a person moved it"],
    });
    expect(body).toContain('**Not changed here** (a person’s edit wins):\n\n- deploy/default.yaml: EC2NodeClass default names al2023@v20260601');
    expect(body).toContain('moves their pins in `kp.yaml`. Once');
  });
});
