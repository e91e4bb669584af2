import { afterEach, describe, expect, it } from '@jest/globals';
import type { FleetSpec } from '../sim/fleet.js';
import { amazonLinuxParameters, bottlerocketParameter } from '../sim/releases.js';
import { runAction } from '../sim/run-action.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import type { CheckReport } from '../../src/model/check-report.js';

/*
 * The release notes of a check's pull request (docs/proposals.md, "Release notes"), through dist/
 * against the simulator: the upstream releases served at GITHUB_API_URL (test/sim/upstream-releases.ts).
 * `general` moves from v20260505 to v20260625 (SSM as on 2026-06-30): three releases, v20260610,
 * v20260618 and v20260625; `br` (Bottlerocket) from 1.20.0 to 1.26.0: v1.24.1 and v1.26.0.
 */
function fleet(): FleetSpec {
  const cluster = (name: string) => ({
    name,
    region: 'us-east-1',
    version: '1.33',
    nodegroups: [
      { name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: '1.33.11-20260505', desiredSize: 2 },
      { name: 'br', amiType: 'BOTTLEROCKET_x86_64', version: '1.33', releaseVersion: '1.20.0-fcf71a47', desiredSize: 1 },
    ],
  });
  return {
    clusters: [cluster('prod'), cluster('staging')],
    parameters: [...amazonLinuxParameters('2026-06-30'), bottlerocketParameter('1.33', 'x86_64', '1.26.0-85f0d68c', '2026-06-01T00:00:00Z')],
  };
}

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const run = (s: Simulator, clusters = 'prod') =>
  runAction({ inputs: { regions: 'us-east-1', clusters, 'on-drift': 'pull-request' }, env: { ...s.env(), AWS_REGION: 'us-east-1' } });
const reportOf = (outputs: Record<string, string>) => JSON.parse(outputs.report ?? '{}') as CheckReport;
const TAG = 'https://github.com/awslabs/amazon-eks-ami/releases/tag';

const THREE = [
  `- [v20260610](${TAG}/v20260610): kubelet 1.33.12, containerd 2.1.24-1.amzn2023.0.1, runc 1.3.9-1.amzn2023.0.7, kernel 6.12.136-82.121.amzn2023`,
  `- [v20260618](${TAG}/v20260618): kubelet 1.33.13, containerd 2.1.24-1.amzn2023.0.2, runc 1.3.9-1.amzn2023.0.8, kernel 6.12.137-82.121.amzn2023`,
  `- [v20260625](${TAG}/v20260625): kubelet 1.33.13, containerd 2.1.24-1.amzn2023.0.3, runc 1.3.9-1.amzn2023.0.9, kernel 6.12.138-82.121.amzn2023`,
];

describe("the pull request's release notes", () => {
  it('list the three releases a node group moves across, with their kubelet and containerd, and the Bottlerocket versions', async () => {
    const s = (sim = await startSimulator(fleet()));
    const r = await run(s);
    expect(r.code).toBe(0);
    expect(reportOf(r.outputs).proposals).toEqual([expect.objectContaining({ cluster: 'prod', result: 'created' })]);
    const body = s.github.pulls()[0]!.body;
    expect(body).toContain('<details><summary>Release notes: 5 upstream release(s) between the current and target releases</summary>');
    expect(body).toContain('**general** (node group, AL2023_x86_64_STANDARD, Kubernetes 1.33): 1.33.11-20260505 → 1.33.13-20260625, 3 release(s):');
    const at = THREE.map((line) => body.indexOf(line));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at); // oldest first, though GitHub lists them otherwise
    expect(body).toContain('  - Update containerd to the latest Amazon Linux build (#2592)');
    expect(body).not.toContain(`[v20260505](${TAG}/v20260505)`);
    expect(body).not.toContain(`[v20260714](${TAG}/v20260714)`);
    expect(body).toContain('**br** (node group, BOTTLEROCKET_x86_64, Kubernetes 1.33): 1.20.0-fcf71a47 → 1.26.0-85f0d68c, 2 release(s):');
    expect(body).toContain('- [v1.24.1](https://github.com/bottlerocket-os/bottlerocket/releases/tag/v1.24.1): Bottlerocket 1.24.1');
    expect(body).toContain(
      '- [v1.26.0](https://github.com/bottlerocket-os/bottlerocket/releases/tag/v1.26.0): Bottlerocket 1.26.0\n  - Update NVIDIA driver to 535.208.01 (#4208)',
    );
    // The table of node groups comes first, the notes collapsed below it.
    const [row, notes] = [body.indexOf('| general | AL2023_x86_64_STANDARD | 1.33 | 1.33.11-20260505 |'), body.indexOf('<details><summary>Release notes')];
    expect([row >= 0, notes >= 0, row < notes]).toEqual([true, true, true]);
  });

  it('read each release once a run, across several clusters that share them', async () => {
    const s = (sim = await startSimulator(fleet()));
    const r = await run(s, 'prod,staging');
    expect(r.code).toBe(0);
    expect(s.github.pulls()).toHaveLength(2);
    for (const pr of s.github.pulls()) for (const line of THREE) expect(pr.body).toContain(line);
    // One listing a repository (one page of 100), in the order of the node groups (br, then general), for both clusters.
    expect(s.github.upstreamRequests()).toEqual([
      { method: 'GET', path: '/repos/bottlerocket-os/bottlerocket/releases', status: 200 },
      { method: 'GET', path: '/repos/awslabs/amazon-eks-ami/releases', status: 200 },
    ]);
  });

  it('keep the links and say why in one line when the upstream releases are not there (a GitHub Enterprise Server), and the check succeeds', async () => {
    const s = (sim = await startSimulator(fleet()));
    s.github.upstreamFault = 'not-found';
    const r = await run(s);
    expect(r.code).toBe(0);
    expect(reportOf(r.outputs).proposals).toEqual([expect.objectContaining({ cluster: 'prod', result: 'created' })]);
    const body = s.github.pulls()[0]!.body;
    expect(body).toContain(`| general | AL2023_x86_64_STANDARD | 1.33 | 1.33.11-20260505 | [1.33.13-20260625](${TAG}/v20260625) |`);
    const line = body.split('\n').filter((l) => l.startsWith('**Release notes:**'));
    expect(line).toEqual([
      `**Release notes:** could not be read (${s.url}/github has no bottlerocket-os/bottlerocket (HTTP 404): a GitHub Enterprise Server does not hold ` +
        `github.com's repositories unless they are mirrored there; ${s.url}/github has no awslabs/amazon-eks-ami (HTTP 404): a GitHub Enterprise ` +
        "Server does not hold github.com's repositories unless they are mirrored there); they are at " +
        '[bottlerocket-os/bottlerocket/releases](https://github.com/bottlerocket-os/bottlerocket/releases), ' +
        '[awslabs/amazon-eks-ami/releases](https://github.com/awslabs/amazon-eks-ami/releases).',
    ]);
    expect(body).not.toContain('<details><summary>Release notes');
  });

  it('stop asking at the first rate limit, keep the links, and the check succeeds', async () => {
    const s = (sim = await startSimulator(fleet()));
    s.github.upstreamFault = 'rate-limited';
    const r = await run(s, 'prod,staging');
    expect(r.code).toBe(0);
    expect(s.github.pulls()).toHaveLength(2);
    for (const pr of s.github.pulls())
      expect(pr.body).toContain(
        `**Release notes:** could not be read (GitHub's rate limit was reached (HTTP 403) at ${s.url}/github; not asked again in this run)`,
      );
    // The first read (br's, Bottlerocket's) is refused: nothing more is asked, for either repository or cluster.
    expect(s.github.upstreamRequests()).toEqual([{ method: 'GET', path: '/repos/bottlerocket-os/bottlerocket/releases', status: 403 }]);
  });
});
