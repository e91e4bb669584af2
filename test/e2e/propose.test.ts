import { afterEach, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import type { FleetSpec } from '../sim/fleet.js';
import type { GitHubSpec } from '../sim/github.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { runAction } from '../sim/run-action.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import type { CheckReport } from '../../src/model/check-report.js';

const releases = releasesOf('AL2023_x86_64_STANDARD', '1.33').map((r) => r.releaseVersion);
const [old, mid, latest] = releases.slice(-3) as [string, string, string];
const BRANCH = (cluster: string) => `eks-ami-drift/us-east-1/${cluster}`;
const PATH = (cluster: string) => `.github/eks-ami-drift/us-east-1/${cluster}.yaml`;

function fleet(): FleetSpec {
  const cluster = (name: string) => ({
    name,
    region: 'us-east-1',
    version: '1.33',
    nodegroups: [
      { name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: old, desiredSize: 4 },
      {
        name: 'gpu',
        amiType: 'AL2023_x86_64_NVIDIA',
        version: '1.33',
        releaseVersion: releasesOf('AL2023_x86_64_NVIDIA', '1.33').at(-1)!.releaseVersion,
        desiredSize: 2,
      },
    ],
  });
  // SSM as it was on 2026-06-30: `mid` is the latest; `latest` appears later in some tests.
  return { clusters: [cluster('prod'), cluster('staging')], parameters: amazonLinuxParameters('2026-06-30') };
}

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(github: GitHubSpec = {}) {
  sim = await startSimulator(fleet(), { github });
  return sim;
}

const run = (s: Simulator, inputs: Record<string, string>) =>
  runAction({ inputs: { regions: 'us-east-1', clusters: 'prod', 'on-drift': 'pull-request', ...inputs }, env: { ...s.env(), AWS_REGION: 'us-east-1' } });
const reportOf = (outputs: Record<string, string>) => JSON.parse(outputs.report ?? '{}') as CheckReport;
const publish = (s: Simulator, release: string) => {
  const p = s.world.fleet.parameters.find((x) => x.name.includes('/1.33/amazon-linux-2023/x86_64/standard/'))!;
  p.value = release;
  p.lastModified = '2026-07-14T18:00:00Z';
};

describe('on drift, a pull request', () => {
  it('is created with the manifest change, once: ten runs on the same drift leave one unchanged pull request', async () => {
    const s = await start();
    const first = await run(s, { reviewers: 'alice', assignees: 'bob' });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(reportOf(first.outputs).proposals).toEqual([expect.objectContaining({ cluster: 'prod', kind: 'pull-request', result: 'created', number: 1 })]);
    expect(first.outputs['pull-request-number']).toBe('1');
    expect(first.outputs['pull-request-url']).toBe('https://github.com/acme/platform/pull/1');

    const pr = s.github.pulls()[0]!;
    expect(pr.pull).toMatchObject({ head: BRANCH('prod'), base: 'main', reviewers: ['alice'] });
    expect(pr.labels).toEqual(['eks-ami-drift']);
    expect(pr.assignees).toEqual(['bob']);
    expect(pr.user).toBe('github-actions[bot]');
    expect(pr.body).toContain(
      `| general | AL2023_x86_64_STANDARD | 1.33 | ${old} | [${mid}](https://github.com/awslabs/amazon-eks-ami/releases/tag/v${mid.split('-')[1]}) |`,
    );
    expect(pr.body).toContain('cluster-autoscaler is paused');
    expect(pr.body).toContain('**Pre-flight now:** no PodDisruptionBudget that allows no disruption covers pods on these node groups.');
    // the file the pull request creates: the current state and the target, with its header
    const file = s.github.filesAt(BRANCH('prod')).get(PATH('prod'))!;
    expect(file).toMatch(/^# eks-ami-drift: the pinned AMI release/);
    expect(parse(file)).toEqual({
      cluster: 'prod',
      region: 'us-east-1',
      nodegroups: { general: { kubernetesVersion: '1.33', releaseVersion: mid }, gpu: { kubernetesVersion: '1.33', releaseVersion: expect.any(String) } },
    });
    expect(s.github.filesAt('main').has(PATH('prod'))).toBe(false);

    for (let i = 0; i < 9; i++) {
      const again = await run(s, { reviewers: 'alice', assignees: 'bob' });
      expect(reportOf(again.outputs).proposals[0]).toMatchObject({ result: 'unchanged', number: 1 });
    }
    expect(s.github.pulls()).toHaveLength(1);
    expect(s.github.log.filter((l) => l.method !== 'GET' && l.path.includes('/pulls')).length).toBe(2); // create + reviewers, once
  });

  it('is updated when a newer release appears, and closed with a comment when the drift is gone', async () => {
    const s = await start();
    await run(s, {});
    publish(s, latest);
    const updated = await run(s, {});
    expect(reportOf(updated.outputs).proposals[0]).toMatchObject({ result: 'updated', number: 1 });
    expect(s.github.pulls()).toHaveLength(1);
    expect(
      (parse(s.github.filesAt(BRANCH('prod')).get(PATH('prod'))!) as { nodegroups: { general: { releaseVersion: string } } }).nodegroups.general.releaseVersion,
    ).toBe(latest);
    expect(s.github.pulls()[0]!.body).toContain(`[${latest}]`);

    s.world.fleet.clusters[0]!.nodegroups[0]!.releaseVersion = latest; // upgraded by hand
    const closed = await run(s, {});
    expect(reportOf(closed.outputs).proposals[0]).toMatchObject({ result: 'closed', number: 1 });
    expect(s.github.pulls()[0]!.state).toBe('closed');
    expect(s.github.pulls()[0]!.comments.at(-1)!.body).toContain('now on its latest release');
    expect(s.github.refs.has(`heads/${BRANCH('prod')}`)).toBe(false);
    expect(closed.outputs['pull-request-number']).toBe('');
  });

  it('is not overwritten when a person has pushed to it: a comment says what is new, once', async () => {
    const s = await start();
    await run(s, {});
    s.github.push(BRANCH('prod'), { 'NOTES.md': 'careful with gpu\n' }, 'alice', 'Add notes');
    publish(s, latest);
    const edited = await run(s, {});
    expect(reportOf(edited.outputs).proposals[0]).toMatchObject({ result: 'unchanged', reason: expect.stringContaining('commits made by a person') });
    expect(s.github.filesAt(BRANCH('prod')).get('NOTES.md')).toBe('careful with gpu\n');
    await run(s, {});
    const comments = s.github.pulls()[0]!.comments;
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain(`\`general\` → \`${latest}\``);
  });

  it('is not overwritten when it conflicts with the base branch', async () => {
    const s = await start();
    await run(s, {});
    s.github.push('main', { [PATH('prod')]: 'cluster: prod\nregion: us-east-1\nnodegroups: {}\n' });
    publish(s, latest);
    const r = await run(s, {});
    expect(reportOf(r.outputs).proposals[0]).toMatchObject({ result: 'unchanged', reason: expect.stringContaining('merge conflicts') });
  });

  it('names what will block the upgrade now: a PodDisruptionBudget that allows no disruption', async () => {
    const spec = fleet();
    spec.clusters[0]!.workloads = [{ name: 'api', namespace: 'shop', labels: { app: 'api' }, nodegroup: 'general', replicas: 2 }];
    spec.clusters[0]!.pdbs = [{ name: 'api', namespace: 'shop', matchLabels: { app: 'api' }, minAvailable: 2 }];
    sim = await startSimulator(spec, {});
    const r = await run(sim, {});
    expect(r.code).toBe(0);
    expect(sim.github.pulls()[0]!.body).toContain(
      '**Will block the upgrade now** (unless it is run with `force: true`):\n- `general`: PodDisruptionBudget shop/api allows no disruption now ' +
        '(minAvailable 2) and covers 2 pod(s) on this node group',
    );
  });

  it('says that Argo CD keeps cluster-autoscaler and would undo the pause, with the setting that prevents it', async () => {
    const spec = fleet();
    const ca = { namespace: 'kube-system', name: 'cluster-autoscaler', labels: { app: 'cluster-autoscaler' }, replicas: 1 };
    spec.clusters[0]!.autoscaler = { ...ca, gitops: { tool: 'argocd', app: 'platform-ca', revertAfterSeconds: 5 } };
    sim = await startSimulator(spec, {});
    const r = await run(sim, {});
    expect(r.code).toBe(0);
    const body = sim.github.pulls()[0]!.body;
    const line = body.split('\n').find((l) => l.startsWith('**Will undo the pause:**'));
    expect(line).toContain(
      'cluster-autoscaler kube-system/cluster-autoscaler is kept by Argo CD (Application platform-ca, by annotation argocd.argoproj.io/tracking-id)',
    );
    expect(line).toContain('`ignoreDifferences` on `/spec/replicas`');
    expect(line).toContain('`RespectIgnoreDifferences=true`');
    // read only: the check wrote nothing
    expect(sim.world.kubeOf(sim.world.fleet.clusters[0]!).writes).toEqual([]);
  });

  it('says so when the check cannot look at the cluster, and still opens the pull request', async () => {
    sim = await startSimulator(fleet(), { faults: { kubeAllow: [] } });
    const r = await run(sim, {});
    expect(r.code).toBe(0);
    expect(sim.github.pulls()[0]!.body).toMatch(
      /\*\*Pre-flight now:\*\* not run from the check \(Forbidden: .*cannot list resource "pods".*\); the upgrade runs it before changing anything\./,
    );
  });

  it('opens nothing for a release younger than min-release-age', async () => {
    const s = await start();
    const p = s.world.fleet.parameters.find((x) => x.name.includes('/1.33/amazon-linux-2023/x86_64/standard/'))!;
    p.lastModified = new Date(Date.now() - 3_600_000).toISOString();
    const r = await run(s, { 'min-release-age': '2d' });
    expect(r.code).toBe(0);
    expect(reportOf(r.outputs).proposals[0]).toMatchObject({ result: 'none', reason: expect.stringContaining('soaking') });
    expect(s.github.pulls()).toHaveLength(0);
  });

  it('fails with the file and line of a malformed manifest', async () => {
    const s = await start({
      files: { [PATH('prod')]: `cluster: prod\nregion: us-east-1\nnodegroups:\n  general:\n    kubernetesVersion: "1.33"\n    release: ${old}\n` },
    });
    const r = await run(s, {});
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `::error::us-east-1/prod: ${PATH('prod')}:6: unknown key "release" in node group general (expected kubernetesVersion, releaseVersion, imageId)`,
    );
    expect(s.github.pulls()).toHaveLength(0);
    // the check itself is still reported
    expect(reportOf(r.outputs).nodegroups.find((n) => n.nodegroup === 'general')?.status).toBe('drift');
  });

  it('fails with GitHub’s message and the permission to add when the token may not open pull requests', async () => {
    const s = await start({
      tokens: { ghs_readonly: { login: 'github-actions[bot]', permissions: { contents: 'write', pull_requests: 'read', issues: 'read' } } },
    });
    const r = await run(s, {});
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('opening the pull request: GitHub answered 403 "Resource not accessible by integration". The token needs pull-requests: write');
    // the token is masked the moment it is read, and appears nowhere else
    expect(
      r.stdout
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n'),
    ).not.toContain('ghs_readonly');
  });

  it('works for two clusters of the same repository in parallel runs: different files, different branches', async () => {
    const s = await start();
    const [a, b] = await Promise.all([run(s, { clusters: 'prod' }), run(s, { clusters: 'staging' })]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(
      s.github
        .pulls()
        .map((p) => p.pull!.head)
        .sort(),
    ).toEqual([BRANCH('prod'), BRANCH('staging')]);
    expect(s.github.filesAt(BRANCH('prod')).has(PATH('staging'))).toBe(false);
    expect(s.github.filesAt(BRANCH('staging')).has(PATH('staging'))).toBe(true);
  });
});

describe('on drift, an issue', () => {
  it('is created once, updated in place on a newer release, and closed when resolved', async () => {
    const s = await start();
    const created = await run(s, { 'on-drift': 'issue' });
    expect(created.code).toBe(0);
    expect(created.outputs['issue-number']).toBe('1');
    for (let i = 0; i < 3; i++)
      expect(reportOf((await run(s, { 'on-drift': 'issue' })).outputs).proposals[0]).toMatchObject({ result: 'unchanged', number: 1 });
    // found again by its hidden marker, whatever its title says now
    s.github.issues[0]!.title = 'renamed by someone';
    publish(s, latest);
    expect(reportOf((await run(s, { 'on-drift': 'issue' })).outputs).proposals[0]).toMatchObject({ result: 'updated', number: 1 });
    expect(s.github.issues).toHaveLength(1);
    expect(s.github.issues[0]!.body).toContain(latest);
    s.world.fleet.clusters[0]!.nodegroups[0]!.releaseVersion = latest;
    expect(reportOf((await run(s, { 'on-drift': 'issue' })).outputs).proposals[0]).toMatchObject({ result: 'closed' });
    expect(s.github.issues[0]).toMatchObject({ state: 'closed', state_reason: 'completed' });
    expect(s.github.pulls()).toHaveLength(0);
  });

  it('warns when GitHub silently drops the labels of a token without push access, and still files the issue', async () => {
    const s = await start({ tokens: { ghs_simulated: { login: 'github-actions[bot]', permissions: { contents: 'read', issues: 'write' } } } });
    const run_ = await run(s, { 'on-drift': 'issue', assignees: 'bob' });
    expect(run_.code).toBe(0);
    expect(reportOf(run_.outputs).proposals[0]).toMatchObject({ result: 'created', number: 1, open: true });
    expect(s.github.issues[0]).toMatchObject({ labels: [], assignees: [] });
    expect(run_.stdout).toContain(
      '::warning::us-east-1/prod: issue #1: label(s) eks-ami-drift were not applied by GitHub (a token without push access cannot label)',
    );
  });

  it('is found again when a person relabels it, and not filed again for the same releases once closed as not planned', async () => {
    const s = await start();
    expect((await run(s, { 'on-drift': 'issue' })).code).toBe(0);
    s.github.issues[0]!.labels = ['triaged'];
    const relabelled = await run(s, { 'on-drift': 'issue' });
    expect(reportOf(relabelled.outputs).proposals[0]).toMatchObject({ result: 'unchanged', number: 1, open: true });
    expect(s.github.issues).toHaveLength(1);
    // every run puts back the label it owes the issue
    expect(s.github.issues[0]!.labels).toEqual(['triaged', 'eks-ami-drift']);
    // a person closes it as not planned: the same releases are not filed again, and it is not an output
    Object.assign(s.github.issues[0]!, { state: 'closed', state_reason: 'not_planned' });
    const declined = await run(s, { 'on-drift': 'issue' });
    expect(declined.code).toBe(0);
    expect(reportOf(declined.outputs).proposals[0]).toMatchObject({
      result: 'unchanged',
      number: 1,
      open: false,
      reason: expect.stringContaining('closed as not planned'),
    });
    expect(declined.outputs['issue-number']).toBe('');
    expect(s.github.issues).toHaveLength(1);
    // a newer release is another matter
    publish(s, latest);
    const newer = await run(s, { 'on-drift': 'issue' });
    expect(reportOf(newer.outputs).proposals[0]).toMatchObject({ result: 'created', number: 2 });
    expect(newer.outputs['issue-number']).toBe('2');
  });
});

describe('pull requests that respect people', () => {
  it('keeps a person’s edit of the description when a newer release comes, and says so once', async () => {
    const s = await start();
    expect((await run(s, {})).code).toBe(0);
    const pr = s.github.pulls()[0]!;
    pr.body = `${pr.body}\n\nPlease hold until the freeze ends. — Dana`;
    publish(s, latest);
    for (let i = 0; i < 2; i++) {
      const again = await run(s, {});
      expect(reportOf(again.outputs).proposals[0]).toMatchObject({
        result: 'unchanged',
        reason: expect.stringContaining('its description was edited by a person'),
      });
    }
    expect(pr.body).toContain('Please hold until the freeze ends. — Dana');
    expect(pr.body).not.toContain(latest);
    expect(pr.comments).toHaveLength(1);
    expect(pr.comments[0]!.body).toContain(`\`general\` → \`${latest}\``);
    expect(pr.comments[0]!.body).toContain('a new pull request is opened when a release newer than these appears, not for these');
    expect(pr.comments[0]!.body).not.toContain('a fresh one will be opened');
  });

  it('lists only open pull requests in the outputs: never one a person closed', async () => {
    const s = await start();
    expect((await run(s, {})).outputs['pull-request-number']).toBe('1');
    s.github.pulls()[0]!.state = 'closed';
    const after = await run(s, {});
    expect(reportOf(after.outputs).proposals[0]).toMatchObject({ result: 'unchanged', number: 1, open: false });
    expect(after.outputs['pull-request-number']).toBe('');
    expect(after.outputs['pull-request-url']).toBe('');
  });

  it('fails naming the repository setting when GitHub Actions may not create pull requests, and leaves no branch behind', async () => {
    const s = await start({ actionsCanCreatePullRequests: false });
    const refused = await run(s, {});
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('Allow GitHub Actions to create and approve pull requests');
    expect(refused.stdout).toContain('Settings → Actions → General → Workflow permissions');
    expect(refused.stdout).toContain('GitHub App token');
    expect(s.github.refs.has(`heads/${BRANCH('prod')}`)).toBe(false);
    expect(s.github.pulls()).toHaveLength(0);
  });

  it('warns about a refused reviewer and keeps the pull request; a later run adds the labels and assignees that were missing', async () => {
    const s = await start();
    // labels and assignees fail this once (GitHub's 422, which is not retried), the review request is
    // refused for the author
    s.github.failures.push({ method: 'PATCH', path: /\/issues\/\d+$/, status: 422, times: 1 });
    const first = await run(s, { reviewers: 'github-actions[bot],alice', assignees: 'bob' });
    expect(first.code).toBe(0);
    expect(reportOf(first.outputs).proposals[0]).toMatchObject({ result: 'created', number: 1, open: true });
    expect(first.stdout).toContain(
      '::warning::us-east-1/prod: pull-request #1: reviewer github-actions[bot]: requesting a review: GitHub answered 422 "Review cannot be requested from ' +
        'pull request author."',
    );
    expect(first.stdout).toMatch(/::warning::.*setting labels eks-ami-drift and assignees bob on #1: GitHub answered 422/);
    const pr = s.github.pulls()[0]!;
    expect(pr.pull!.reviewers).toEqual(['alice']);
    expect([pr.labels, pr.assignees]).toEqual([[], []]);
    const later = await run(s, { reviewers: 'github-actions[bot],alice', assignees: 'bob' });
    expect(reportOf(later.outputs).proposals[0]).toMatchObject({ result: 'unchanged', number: 1 });
    expect([pr.labels, pr.assignees, pr.pull!.reviewers]).toEqual([['eks-ami-drift'], ['bob'], ['alice']]);
  });
});
