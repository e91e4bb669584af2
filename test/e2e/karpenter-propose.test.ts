import { afterEach, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { amazonLinuxParameters, bottlerocketParameter, notPublishedFor } from '../sim/releases.js';
import { awsImageName } from '../sim/images.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import { settleKarpenter } from '../sim/karpenter.js';
import { runAction } from '../sim/run-action.js';
import type { FleetSpec, SimCluster } from '../sim/fleet.js';
import type { GitHubSpec } from '../sim/github.js';
import type { CheckReport } from '../../src/model/check-report.js';

/** Karpenter node classes proposed in the cluster's pull request (issue 25 item 2), `node dist/index.js` against the simulator. */
let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const MANIFEST = '.github/eks-ami-drift/us-east-1/kp.yaml';
const CLASSES = 'deploy/karpenter/classes.yaml';
const BRANCH = 'eks-ami-drift/us-east-1/kp';

// v20260714 was published for x86_64 at 1.35 and (in this fleet) never for arm64: arm64's newest is v20260625.
const arm64Gap = notPublishedFor('AL2023_ARM_64_STANDARD', '1.35', 'v20260714', awsImageName('AL2023_ARM_64_STANDARD', '1.35', '1.35.6-20260714'), [
  'us-east-1',
]);

/** A 1.35 cluster with a managed node group on its latest release and three EC2NodeClasses: AL2023 pinned old, Bottlerocket current, AL2023 @latest. */
function fleet(): FleetSpec {
  const cluster: SimCluster = {
    name: 'kp',
    region: 'us-east-1',
    version: '1.35',
    nodegroups: [{ name: 'system', amiType: 'AL2023_x86_64_STANDARD', version: '1.35', releaseVersion: '1.35.6-20260714', desiredSize: 2 }],
    karpenter: {
      nodeClasses: [
        { name: 'al2023-pinned', alias: 'al2023@v20260505' },
        { name: 'bottlerocket', alias: 'bottlerocket@v1.34.0' },
        { name: 'al2023-latest', alias: 'al2023@latest' },
      ],
      nodePools: [
        {
          name: 'general',
          nodeClass: 'al2023-pinned',
          requirements: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] }],
          budgets: [
            { nodes: '20%', reasons: ['Drifted'] },
            { nodes: '0', schedule: '0 9 * * mon-fri', duration: '8h' },
          ],
          nodes: [
            { count: 2, arch: 'amd64' },
            { count: 1, arch: 'arm64' },
          ],
        },
        { name: 'secure', nodeClass: 'bottlerocket', requirements: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }], nodes: [{ count: 1 }] },
        { name: 'batch', nodeClass: 'al2023-latest', requirements: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }], nodes: [{ count: 1 }] },
      ],
    },
  };
  return {
    clusters: [cluster],
    parameters: [
      ...arm64Gap.parameters,
      ...amazonLinuxParameters(),
      bottlerocketParameter('1.35', 'x86_64', '1.34.0-18d04e52', '2026-08-01T00:00:00Z'),
      bottlerocketParameter('1.35', 'arm64', '1.34.0-18d04e52', '2026-08-01T00:00:00Z'),
    ],
    unpublished: arm64Gap.unpublished,
  };
}

const manifest = `# the team's pins for kp
cluster: kp
region: us-east-1
nodegroups:
  system:
    kubernetesVersion: "1.35"
    releaseVersion: 1.35.6-20260714
nodeClasses:
  al2023-pinned:
    alias: al2023@v20260505
    file: ${CLASSES}
  bottlerocket:
    alias: bottlerocket@v1.34.0
    file: ${CLASSES}
`;

const classes = `# applied by Argo CD
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: al2023-pinned
spec:
  role: KarpenterNodeRole
  amiSelectorTerms:
    - alias: al2023@v20260505 # moved by eks-ami-drift's pull requests
---
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: bottlerocket
spec:
  role: KarpenterNodeRole
  amiSelectorTerms:
    - alias: bottlerocket@v1.34.0
`;

async function start(github: GitHubSpec, spec = fleet()) {
  sim = await startSimulator(spec, { github });
  return sim;
}
const run = (s: Simulator, inputs: Record<string, string> = {}) =>
  runAction({ inputs: { regions: 'us-east-1', 'on-drift': 'pull-request', ...inputs }, env: { ...s.env(), AWS_REGION: 'us-east-1' } });
const reportOf = (outputs: Record<string, string>) => JSON.parse(outputs.report ?? '{}') as CheckReport;

describe("Karpenter node classes in the cluster's pull request, as the bundled action", () => {
  it('bumps the old pin to a version published for the minor and every architecture, in the manifest and the EC2NodeClass file, and no other', async () => {
    const s = await start({ files: { [MANIFEST]: manifest, [CLASSES]: classes } });
    const first = await run(s);
    expect(first.code).toBe(0);
    const report = reportOf(first.outputs);
    expect(Object.fromEntries(report.nodegroups.map((n) => [n.nodegroup, n.status]))).toEqual({
      'al2023-latest': 'tracks-latest',
      'al2023-pinned': 'drift',
      bottlerocket: 'up-to-date',
      system: 'up-to-date',
    });
    expect(report.proposals).toEqual([
      expect.objectContaining({ cluster: 'kp', result: 'created', number: 1, reason: 'proposes al2023-pinned → al2023@v20260625' }),
    ]);
    const pr = s.github.pulls()[0]!;
    expect(pr.title).toBe('Upgrade Karpenter node classes of kp (us-east-1): al2023-pinned');
    const files = s.github.filesAt(BRANCH);
    // v20260714 is x86_64 only at 1.35 and the NodePool allows arm64: v20260625 it is
    expect(files.get(MANIFEST)).toBe(manifest.replace('alias: al2023@v20260505', 'alias: al2023@v20260625'));
    expect(files.get(CLASSES)).toBe(classes.replace('- alias: al2023@v20260505 #', '- alias: al2023@v20260625 #'));
    expect(parse(files.get(MANIFEST)!)).toMatchObject({ nodeClasses: { bottlerocket: { alias: 'bottlerocket@v1.34.0' } } });
    expect(pr.body).toContain('| al2023-pinned | al2023@v20260505 | al2023@v20260625 |');
    expect(pr.body).toContain('Karpenter resolves it to the new images, marks the nodes made from the old ones as drifted and replaces them itself');
    expect(pr.body).toContain(
      '- `al2023-pinned` / NodePool `general`: disruption budgets (the most restrictive active one applies): ' +
        '20% node(s) at any time for Drifted; 0 node(s) from "0 9 * * mon-fri" for 8h',
    );
    expect(pr.body).not.toContain('bottlerocket@v1.34.0 |');
    expect(s.github.filesAt('main').get(CLASSES)).toBe(classes);

    // re-runs change nothing
    const again = await run(s);
    expect(reportOf(again.outputs).proposals[0]).toMatchObject({ result: 'unchanged', number: 1 });
    expect(s.github.pulls()).toHaveLength(1);

    // the drift gone (the pin applied, Karpenter replaced the nodes): closed with a comment
    s.world.fleet.clusters[0]!.karpenter!.nodeClasses[0]!.alias = 'al2023@v20260625';
    settleKarpenter(s.world.fleet.clusters[0]!);
    const closed = await run(s);
    expect(reportOf(closed.outputs).proposals[0]).toMatchObject({ result: 'closed', number: 1 });
  });

  it('is updated when a newer version is published for every architecture the NodePool allows', async () => {
    const s = await start({ files: { [MANIFEST]: manifest, [CLASSES]: classes } });
    await run(s, { 'min-release-age': '0' });
    // v20260714 reaches arm64 at 1.35: the gap's parameter and its missing image go
    s.world.fleet.parameters.splice(0, arm64Gap.parameters.length);
    s.world.fleet.unpublished = [];
    const updated = await run(s, { 'min-release-age': '0' });
    expect(reportOf(updated.outputs).proposals[0]).toMatchObject({ result: 'updated', number: 1, reason: 'now proposes al2023@v20260714' });
    expect(s.github.pulls()).toHaveLength(1);
    expect(s.github.filesAt(BRANCH).get(CLASSES)).toBe(classes.replace('- alias: al2023@v20260505 #', '- alias: al2023@v20260714 #'));
    expect(s.github.pulls()[0]!.body).toContain('| al2023-pinned | al2023@v20260505 | al2023@v20260714 |');
  });

  it('waits while the version soaks: no pull request under min-release-age', async () => {
    const s = await start({ files: { [MANIFEST]: manifest, [CLASSES]: classes } });
    const r = await run(s, { 'min-release-age': '3650d' });
    expect(reportOf(r.outputs).nodegroups.find((n) => n.nodegroup === 'al2023-pinned')?.status).toBe('soaking');
    expect(reportOf(r.outputs).proposals[0]).toMatchObject({ result: 'none' });
    expect(s.github.pulls()).toHaveLength(0);
  });

  it("does not overwrite an EC2NodeClass file whose alias a person moved: the body says so, the manifest's pin is still bumped", async () => {
    const moved = classes.replace('al2023@v20260505', 'al2023@v20260601');
    const s = await start({ files: { [MANIFEST]: manifest, [CLASSES]: moved } });
    await run(s);
    const files = s.github.filesAt(BRANCH);
    expect(files.get(CLASSES)).toBe(moved);
    expect(files.get(MANIFEST)).toContain('alias: al2023@v20260625');
    expect(s.github.pulls()[0]!.body).toContain(
      `${CLASSES}: EC2NodeClass al2023-pinned names al2023@v20260601, not al2023@v20260505 as the cluster's manifest pins: a person moved it`,
    );
  });

  it('records the node classes in a first manifest: the drifted one at its target, the pinned one as it is, not @latest', async () => {
    const s = await start({});
    await run(s);
    expect(parse(s.github.filesAt(BRANCH).get(MANIFEST)!)).toMatchObject({
      nodeClasses: { 'al2023-pinned': { alias: 'al2023@v20260625' }, bottlerocket: { alias: 'bottlerocket@v1.34.0' } },
    });
    expect(s.github.filesAt(BRANCH).get(MANIFEST)).not.toContain('al2023-latest');
  });

  it('refuses a manifest pinning @latest, naming the file, the line and Karpenter warning; nothing is proposed', async () => {
    const s = await start({ files: { [MANIFEST]: manifest.replace('alias: al2023@v20260505', 'alias: al2023@latest'), [CLASSES]: classes } });
    const r = await run(s);
    expect(reportOf(r.outputs).proposals[0]).toMatchObject({
      result: 'error',
      reason: expect.stringContaining(`${MANIFEST}:10: nodeClasses.al2023-pinned.alias`),
    });
    expect(reportOf(r.outputs).proposals[0]!.reason).toContain('Karpenter heavily recommends against');
    expect(s.github.pulls()).toHaveLength(0);
  });
});

describe('staged rollouts of Karpenter node classes, as the bundled action', () => {
  /** The fleet above as production, and a canary cluster whose node class already pins al2023@v20260625. */
  function staged(canaryNodes: { notReady?: boolean } = {}): FleetSpec {
    const spec = fleet();
    spec.clusters[0]!.tags = { 'eks-ami-drift/stage': 'production' };
    spec.clusters.push({
      name: 'kp-canary',
      region: 'us-east-1',
      version: '1.35',
      nodegroups: [],
      autoscaler: null,
      tags: { 'eks-ami-drift/stage': 'canary' },
      karpenter: {
        nodeClasses: [{ name: 'default', alias: 'al2023@v20260625' }],
        nodePools: [
          {
            name: 'general',
            nodeClass: 'default',
            requirements: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] }],
            nodes: [
              { count: 2, arch: 'amd64', ageDays: 1, ...canaryNodes },
              { count: 1, arch: 'arm64', ageDays: 1 },
            ],
          },
        ],
      },
    });
    return spec;
  }
  const STAGES = { stages: 'canary, production', 'stage-soak': '3d' };
  const runStaged = (s: Simulator) =>
    runAction({ inputs: { regions: 'us-east-1', 'on-drift': 'pull-request', ...STAGES }, env: { ...s.env(), AWS_REGION: 'us-east-1' }, clock: s.world.clock });
  const entry = (r: CheckReport, cluster: string, name: string) => r.nodegroups.find((n) => n.cluster === cluster && n.nodegroup === name)!;

  it("production's node class waits until the canary's has run the version for the soak; then it is proposed", async () => {
    const s = await start({ files: { [MANIFEST]: manifest, [CLASSES]: classes } }, staged());
    const before = reportOf((await runStaged(s)).outputs);
    expect(entry(before, 'kp-canary', 'default')).toMatchObject({ status: 'up-to-date', stage: 'canary' });
    const waiting = entry(before, 'kp', 'al2023-pinned');
    expect(waiting).toMatchObject({ status: 'waiting', stage: 'production', proof: { train: 'al2023@v20260625', proven: false } });
    expect(waiting.reason).toMatch(
      /^al2023@v20260625 is published but not proven for stage production: .*kp-canary\/default: its nodes run it since .*, proves it in 2d/,
    );
    expect(s.github.pulls()).toHaveLength(0);

    // two days and a bit later, the canary's nodes have run it for the soak
    s.world.clock.advance(2 * 86_400_000 + 3_600_000);
    const after = reportOf((await runStaged(s)).outputs);
    const proven = entry(after, 'kp', 'al2023-pinned');
    expect(proven).toMatchObject({
      status: 'drift',
      proof: { proven: true, evidence: [expect.objectContaining({ cluster: 'kp-canary', nodegroup: 'default' })] },
    });
    expect(after.proposals.find((p) => p.cluster === 'kp')).toMatchObject({ result: 'created' });
    expect(s.github.filesAt(BRANCH).get(MANIFEST)).toContain('alias: al2023@v20260625');
    expect(s.github.filesAt(BRANCH).get(CLASSES)).toContain('- alias: al2023@v20260625 #');
  });

  it("production's node class waits past the soak while the canary's workloads failed on the version; deleting the mark lifts it", async () => {
    const s = await start({ files: { [MANIFEST]: manifest, [CLASSES]: classes } }, staged());
    await runStaged(s); // the canary's nodes, made as the first check reads them
    // What karpenter-follow writes when the canary's health gate fails (src/effects/karpenter-follow.ts).
    const mark = '/eks-ami-drift/unhealthy/kp-canary/ec2nodeclass.default';
    s.world.parameters.put('us-east-1', {
      Name: mark,
      Type: 'String',
      Value: JSON.stringify({
        target: 'al2023@v20260625',
        at: new Date(s.world.clock.now()).toISOString(),
        cluster: 'kp-canary',
        nodegroup: 'ec2nodeclass.default',
      }),
    });
    s.world.clock.advance(5 * 86_400_000);
    const held = entry(reportOf((await runStaged(s)).outputs), 'kp', 'al2023-pinned');
    expect(held.status).toBe('waiting');
    expect(held.reason).toMatch(/^al2023@v20260625 failed in an earlier stage: kp-canary\/default: its workloads did not come back on al2023@v20260625/);
    expect(s.github.pulls()).toHaveLength(0);

    s.world.parameters.delete('us-east-1', mark);
    const lifted = entry(reportOf((await runStaged(s)).outputs), 'kp', 'al2023-pinned');
    expect(lifted).toMatchObject({ status: 'drift', proof: { proven: true } });
  });

  it("production's node class keeps waiting past the soak while the canary's nodes on the version are not Ready", async () => {
    const s = await start({ files: { [MANIFEST]: manifest, [CLASSES]: classes } }, staged({ notReady: true }));
    await runStaged(s);
    s.world.clock.advance(5 * 86_400_000);
    const r = reportOf((await runStaged(s)).outputs);
    expect(entry(r, 'kp', 'al2023-pinned').status).toBe('waiting');
    expect(entry(r, 'kp', 'al2023-pinned').reason).toContain('kp-canary/default: 2 of 3 node(s) on it not Ready');
    expect(s.github.pulls()).toHaveLength(0);
  });
});
