import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getOctokit } from '@actions/github';
import { startSimulator, type Simulator } from '../sim/server.js';

describe('the simulated GitHub API, through @actions/github', () => {
  let sim: Simulator;
  const repo = { owner: 'acme', repo: 'platform' };
  beforeAll(async () => {
    sim = await startSimulator(
      { clusters: [], parameters: [] },
      {
        github: {
          files: { 'README.md': '# platform\n' },
          tokens: {
            ghs_write: { login: 'github-actions[bot]', permissions: { contents: 'write', pull_requests: 'write', issues: 'write' } },
            ghs_read: { login: 'reader', permissions: { contents: 'read' } },
          },
        },
      },
    );
  });
  afterAll(() => sim.close());
  const octokit = (token: string) => getOctokit(token, { baseUrl: `${sim.url}/github`, request: { retries: 0 } });

  it('builds a commit from git data, opens a pull request, refuses a second one for the same head, merges it', async () => {
    const gh = octokit('ghs_write');
    const main = await gh.rest.git.getRef({ ...repo, ref: 'heads/main' });
    const base = await gh.rest.git.getCommit({ ...repo, commit_sha: main.data.object.sha });
    const blob = await gh.rest.git.createBlob({ ...repo, content: 'hello\n', encoding: 'utf-8' });
    const tree = await gh.rest.git.createTree({
      ...repo,
      base_tree: base.data.tree.sha,
      tree: [{ path: 'a/b.yaml', mode: '100644', type: 'blob', sha: blob.data.sha }],
    });
    const commit = await gh.rest.git.createCommit({ ...repo, message: 'add', tree: tree.data.sha, parents: [main.data.object.sha] });
    await gh.rest.git.createRef({ ...repo, ref: 'refs/heads/feature', sha: commit.data.sha });
    await expect(gh.rest.git.createRef({ ...repo, ref: 'refs/heads/feature', sha: commit.data.sha })).rejects.toMatchObject({ status: 422 });

    const pr = await gh.rest.pulls.create({ ...repo, title: 't', head: 'feature', base: 'main', body: 'b' });
    expect(pr.data).toMatchObject({ number: 1, state: 'open', mergeable: true });
    const dup = await gh.rest.pulls.create({ ...repo, title: 't', head: 'feature', base: 'main' }).catch((e: unknown) => e);
    expect(dup).toMatchObject({ status: 422, message: expect.stringContaining('A pull request already exists for acme:feature.') });
    expect((await gh.rest.pulls.list({ ...repo, head: 'acme:feature' })).data).toHaveLength(1);

    const file = await gh.rest.repos.getContent({ ...repo, path: 'a/b.yaml', ref: 'feature' });
    expect(Buffer.from((file.data as { content: string }).content, 'base64').toString()).toBe('hello\n');
    await expect(gh.rest.repos.getContent({ ...repo, path: 'a/b.yaml' })).rejects.toMatchObject({ status: 404 });

    await gh.rest.pulls.merge({ ...repo, pull_number: 1 });
    expect(sim.github.filesAt('main').get('a/b.yaml')).toBe('hello\n');
    const merged = await gh.rest.pulls.get({ ...repo, pull_number: 1 });
    expect(merged.data).toMatchObject({ merged: true, state: 'closed' });
    const byCommit = await gh.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: merged.data.merge_commit_sha! });
    expect(byCommit.data.map((p) => p.number)).toEqual([1]);
  });

  it('marks a pull request whose files changed on the base as not mergeable', async () => {
    const gh = octokit('ghs_write');
    sim.github.push('main', { 'x.yaml': 'v1\n' });
    const fork = sim.github.refs.get('heads/main')!;
    sim.github.refs.set('heads/edit', fork);
    sim.github.push('edit', { 'x.yaml': 'v2\n' }, 'github-actions[bot]');
    const pr = await gh.rest.pulls.create({ ...repo, title: 'x', head: 'edit', base: 'main' });
    sim.github.push('main', { 'x.yaml': 'v3\n' });
    expect((await gh.rest.pulls.get({ ...repo, pull_number: pr.data.number })).data).toMatchObject({ mergeable: false, mergeable_state: 'dirty' });
  });

  it('answers issues, comments and labels, with pages', async () => {
    const gh = octokit('ghs_write');
    for (let i = 0; i < 5; i++) await gh.rest.issues.create({ ...repo, title: `i${i}`, body: 'x', labels: ['eks-ami-drift'] });
    const all = await gh.paginate(gh.rest.issues.listForRepo, { ...repo, labels: 'eks-ami-drift', per_page: 2 });
    expect(all).toHaveLength(5);
    await gh.rest.issues.createComment({ ...repo, issue_number: all[0]!.number, body: 'hi' });
    expect((await gh.rest.issues.listComments({ ...repo, issue_number: all[0]!.number })).data.map((c) => c.body)).toEqual(['hi']);
  });

  it('refuses a token without the permission, saying which permission is needed', async () => {
    const error = await octokit('ghs_read')
      .rest.issues.create({ ...repo, title: 'x' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, message: expect.stringContaining('Resource not accessible by integration') });
    expect((error as { response: { headers: Record<string, string> } }).response.headers['x-accepted-github-permissions']).toBe('issues=write');
    await expect(octokit('nope').rest.repos.get(repo)).rejects.toMatchObject({ status: 401 });
  });
});
