import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Reply } from './aws.js';
import { UPSTREAM_REPOS, upstreamReleases, type UpstreamFault } from './upstream-releases.js';

type Permission = 'contents' | 'pull_requests' | 'issues';
type Access = 'read' | 'write';

/** A token the simulated GitHub knows: whose it is and what it may do. */
export interface SimToken {
  login: string;
  permissions: Partial<Record<Permission, Access>>;
}

export interface GitHubSpec {
  owner?: string;
  repo?: string;
  /** Files on the default branch at the start, by path. */
  files?: Record<string, string>;
  /** Tokens by value; `ghs_simulated` with contents, pull-requests and issues write when absent. */
  tokens?: Record<string, SimToken>;
  /**
   * The repository (or organization) setting "Allow GitHub Actions to create and approve pull
   * requests" (Settings → Actions → General → Workflow permissions), off by default in many
   * organizations: with it off, GITHUB_TOKEN (github-actions[bot]) gets 403 "GitHub Actions is not
   * permitted to create or approve pull requests." Default: on.
   */
  actionsCanCreatePullRequests?: boolean;
  /** Logins with access to the repository: only they can be assigned or asked to review. */
  collaborators?: string[];
  /**
   * GitHub's secondary rate limit on content-creating requests: about 80 a minute and 500 an hour
   * (../shared/reference/eks.md section 10), answered 403 with `retry-after`. Every write counts here
   * (conservative). Scaled down in tests; absent: no limit.
   */
  contentLimit?: { perMinute: number; perHour?: number };
}

interface Commit {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
  author: { name: string; email: string; date: string };
  login: string;
}

export interface Comment {
  id: number;
  body: string;
  user: string;
  created_at: string;
}

export interface Issue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  state_reason?: string | null;
  labels: string[];
  assignees: string[];
  user: string;
  comments: Comment[];
  /** Set for pull requests. */
  pull?: {
    head: string;
    base: string;
    headSha: string;
    /** The commit the pull request's branch started from. */
    forkSha: string;
    merged: boolean;
    merge_commit_sha: string | null;
    reviewers: string[];
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'object' && body && 'message' in body ? String(body.message) : `HTTP ${status}`);
  }
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/** One GitHub repository over the REST API, as `@actions/github`'s Octokit uses it. */
export class GitHubSim {
  readonly owner: string;
  readonly repo: string;
  readonly defaultBranch = 'main';
  readonly blobs = new Map<string, string>();
  readonly trees = new Map<string, Map<string, string>>();
  readonly commits = new Map<string, Commit>();
  readonly refs = new Map<string, string>();
  readonly issues: Issue[] = [];
  readonly labels = new Set<string>();
  readonly tokens: Record<string, SimToken>;
  readonly actionsCanCreatePullRequests: boolean;
  readonly collaborators: string[];
  readonly contentLimit: GitHubSpec['contentLimit'];
  /** When each write was accepted (the content-creation windows), and how often one was refused. */
  private readonly writes: number[] = [];
  secondaryLimited = 0;
  /** What "now" is (the simulator's virtual clock when the action runs on it). */
  now: () => number = Date.now;
  /** Failures to answer next, for tests: method, path pattern, status, how many times. */
  readonly failures: { method: string; path: RegExp; status: number; times: number }[] = [];
  /** Every request, for tests: `POST /repos/acme/platform/pulls 201`. */
  readonly log: { method: string; path: string; status: number }[] = [];
  private commentId = 1000;
  /** Where the API is served (GITHUB_API_URL), for Link headers. */
  baseUrl = '';
  /**
   * How the upstream projects' releases answer (./upstream-releases.ts): served as on github.com, 404 as
   * on a GitHub Enterprise Server that does not hold them, or 403 with GitHub's primary rate limit.
   */
  upstreamFault: UpstreamFault = 'none';

  /** The requests made for the upstream releases, for "each release read once" (`GET /repos/awslabs/amazon-eks-ami/releases 200`). */
  upstreamRequests(): { method: string; path: string; status: number }[] {
    return this.log.filter((l) => UPSTREAM_REPOS.some((r) => l.path.startsWith(`/repos/${r}/`)));
  }

  constructor(spec: GitHubSpec = {}) {
    this.owner = spec.owner ?? 'acme';
    this.repo = spec.repo ?? 'platform';
    this.tokens = spec.tokens ?? {
      ghs_simulated: { login: 'github-actions[bot]', permissions: { contents: 'write', pull_requests: 'write', issues: 'write' } },
    };
    this.actionsCanCreatePullRequests = spec.actionsCanCreatePullRequests ?? true;
    this.collaborators = spec.collaborators ?? ['octocat', 'alice', 'bob', 'carol'];
    this.contentLimit = spec.contentLimit;
    const tree = this.writeTree(new Map(Object.entries(spec.files ?? { 'README.md': '# platform\n' }).map(([p, c]) => [p, this.writeBlob(c)])));
    this.refs.set(`heads/${this.defaultBranch}`, this.writeCommit({ tree, parents: [], message: 'Initial commit', login: 'octocat' }));
  }

  writeBlob(content: string): string {
    const sha = sha1(`blob ${Buffer.byteLength(content)}\0${content}`);
    this.blobs.set(sha, content);
    return sha;
  }

  writeTree(entries: Map<string, string>): string {
    const sorted = new Map([...entries].sort(([a], [b]) => a.localeCompare(b)));
    const sha = sha1(`tree ${JSON.stringify([...sorted])}`);
    this.trees.set(sha, sorted);
    return sha;
  }

  writeCommit(c: Omit<Commit, 'sha' | 'author'> & { author?: Commit['author'] }): string {
    const author = c.author ?? { name: c.login, email: `${c.login}@users.noreply.github.com`, date: new Date().toISOString() };
    const sha = sha1(`commit ${JSON.stringify({ ...c, author, n: this.commits.size })}`);
    this.commits.set(sha, { ...c, author, sha });
    return sha;
  }

  /** The files of a commit (or branch), by path. */
  filesAt(ref: string): Map<string, string> {
    const sha = this.refs.get(`heads/${ref}`) ?? ref;
    const commit = this.commits.get(sha);
    if (!commit) throw new HttpError(404, { message: 'No commit found for the ref ' + ref });
    return new Map([...(this.trees.get(commit.tree) ?? new Map<string, string>())].map(([p, b]) => [p, this.blobs.get(b) ?? '']));
  }

  /** Commits a change of files to a branch as a person would (a push), for tests. */
  push(branch: string, files: Record<string, string | null>, login = 'octocat', message = 'Edit'): string {
    const parent = this.refs.get(`heads/${branch}`) as string;
    const entries = new Map(this.trees.get(this.commits.get(parent)!.tree));
    for (const [p, c] of Object.entries(files)) {
      if (c === null) entries.delete(p);
      else entries.set(p, this.writeBlob(c));
    }
    const sha = this.writeCommit({ tree: this.writeTree(entries), parents: [parent], message, login });
    this.refs.set(`heads/${branch}`, sha);
    for (const pr of this.pulls()) if (pr.state === 'open' && pr.pull!.head === branch) pr.pull!.headSha = sha;
    return sha;
  }

  /** Opens a pull request from a branch, as a person would, for tests. */
  openPull(head: string, title: string, body = '', login = 'octocat'): Issue {
    const headSha = this.refs.get(`heads/${head}`) as string;
    const pr: Issue = {
      number: this.issues.length + 1,
      title,
      body,
      state: 'open',
      labels: [],
      assignees: [],
      user: login,
      comments: [],
      pull: {
        head,
        base: this.defaultBranch,
        headSha,
        forkSha: this.commits.get(headSha)?.parents[0] ?? headSha,
        merged: false,
        merge_commit_sha: null,
        reviewers: [],
      },
    };
    this.issues.push(pr);
    return pr;
  }

  /** A new branch at the default branch's head. */
  branch(name: string): void {
    this.refs.set(`heads/${name}`, this.refs.get(`heads/${this.defaultBranch}`) as string);
  }

  pulls(): Issue[] {
    return this.issues.filter((i) => i.pull);
  }

  /** Paths a pull request changes, and whether the base branch changed any of them since. */
  private mergeable(pr: Issue): boolean {
    const p = pr.pull!;
    const fork = this.filesAt(p.forkSha);
    const head = this.filesAt(p.headSha);
    const base = this.filesAt(p.base);
    const changed = new Set([...fork.keys(), ...head.keys()].filter((k) => fork.get(k) !== head.get(k)));
    return [...changed].every((k) => base.get(k) === fork.get(k) || base.get(k) === head.get(k));
  }

  /** Merges a pull request into its base (a squash of its changes), as the merge button does. */
  merge(number: number, login = 'octocat'): string {
    const pr = this.issues.find((i) => i.number === number && i.pull);
    if (!pr?.pull || pr.state !== 'open') throw new HttpError(405, { message: 'Pull Request is not mergeable' });
    if (!this.mergeable(pr)) throw new HttpError(405, { message: 'Pull Request is not mergeable' });
    const fork = this.filesAt(pr.pull.forkSha);
    const head = this.filesAt(pr.pull.headSha);
    const changes: Record<string, string | null> = {};
    for (const k of new Set([...fork.keys(), ...head.keys()])) if (fork.get(k) !== head.get(k)) changes[k] = head.get(k) ?? null;
    const sha = this.push(pr.pull.base, changes, login, `${pr.title} (#${pr.number})`);
    pr.state = 'closed';
    pr.pull.merged = true;
    pr.pull.merge_commit_sha = sha;
    return sha;
  }

  private shapeIssue(i: Issue): Record<string, unknown> {
    const base = `https://github.com/${this.owner}/${this.repo}`;
    return {
      number: i.number,
      title: i.title,
      body: i.body,
      state: i.state,
      state_reason: i.state_reason ?? null,
      labels: i.labels.map((name) => ({ name })),
      assignees: i.assignees.map((login) => ({ login })),
      user: { login: i.user },
      comments: i.comments.length,
      html_url: `${base}/${i.pull ? 'pull' : 'issues'}/${i.number}`,
      ...(i.pull ? { pull_request: { url: `${base}/pull/${i.number}` } } : {}),
    };
  }

  private shapePull(i: Issue): Record<string, unknown> {
    const p = i.pull!;
    const mergeable = i.state === 'open' ? this.mergeable(i) : null;
    return {
      ...this.shapeIssue(i),
      head: { ref: p.head, sha: p.headSha, label: `${this.owner}:${p.head}` },
      base: { ref: p.base, sha: this.refs.get(`heads/${p.base}`) },
      merged: p.merged,
      merge_commit_sha: p.merge_commit_sha,
      mergeable,
      mergeable_state: mergeable === false ? 'dirty' : 'clean',
      requested_reviewers: p.reviewers.map((login) => ({ login })),
    };
  }

  handle(method: string, url: URL, body: string, headers: IncomingHttpHeaders): Reply {
    let status = 200;
    let payload: unknown;
    let extra: Record<string, string> = {};
    try {
      [status, payload, extra] = this.route(method, url, body ? (JSON.parse(body) as Record<string, unknown>) : {}, headers);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      status = error.status;
      payload = error.body;
      extra = error.headers;
    }
    this.log.push({ method, path: url.pathname, status });
    return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...extra }, body: payload === undefined ? '' : JSON.stringify(payload) };
  }

  private route(method: string, url: URL, input: Record<string, unknown>, headers: IncomingHttpHeaders): [number, unknown, Record<string, string>] {
    const auth = /^(?:token|bearer) (.+)$/i.exec(String(headers.authorization ?? ''))?.[1];
    const who = auth ? this.tokens[auth] : undefined;
    if (!who) throw new HttpError(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    const need = (permission: Permission, access: Access) => {
      const has = who.permissions[permission];
      if (has === 'write' || has === access) return;
      const name = permission.replace('_', '-');
      throw new HttpError(
        403,
        { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest', status: '403' },
        { 'x-accepted-github-permissions': `${permission}=${access}`, 'x-github-permission-hint': name },
      );
    };
    const up = /^\/repos\/([^/]+\/[^/]+)\/releases(?:\/tags\/([^/]+))?\/?$/.exec(url.pathname);
    if (up && method === 'GET' && (UPSTREAM_REPOS as readonly string[]).includes(up[1]!)) return this.upstream(up[1]!, up[2], url);
    const prefix = `/repos/${this.owner}/${this.repo}`;
    if (!url.pathname.startsWith(prefix)) throw new HttpError(404, { message: 'Not Found' });
    if (this.contentLimit && method !== 'GET') this.admitWrite(this.contentLimit);
    const failure = this.failures.find((f) => f.times > 0 && f.method === method && f.path.test(url.pathname));
    if (failure) {
      failure.times--;
      throw new HttpError(failure.status, { message: failure.status >= 500 ? 'Server Error' : 'Injected failure' });
    }
    // Labels and assignees set on create by a user without push access are dropped silently
    // (../shared/reference/eks.md section 10; GitHub REST "Create an issue").
    const canPush = who.permissions.contents === 'write';
    const path = url.pathname.slice(prefix.length) || '/';
    const q = url.searchParams;
    const ok = (value: unknown, s = 200): [number, unknown, Record<string, string>] => [s, value, {}];
    let m: RegExpExecArray | null;

    if (path === '/' && method === 'GET') {
      need('contents', 'read');
      return ok({ name: this.repo, full_name: `${this.owner}/${this.repo}`, default_branch: this.defaultBranch });
    }
    // git data
    if ((m = /^\/git\/ref\/(.+)$/.exec(path)) && method === 'GET') {
      need('contents', 'read');
      const sha = this.refs.get(decodeURIComponent(m[1] as string));
      if (!sha) throw new HttpError(404, { message: 'Not Found' });
      return ok({ ref: `refs/${m[1]}`, object: { sha, type: 'commit' } });
    }
    if (path === '/git/refs' && method === 'POST') {
      need('contents', 'write');
      const ref = String(input.ref).replace(/^refs\//, '');
      if (this.refs.has(ref)) throw new HttpError(422, { message: 'Reference already exists' });
      if (!this.commits.has(String(input.sha))) throw new HttpError(422, { message: 'Object does not exist' });
      this.refs.set(ref, String(input.sha));
      return ok({ ref: `refs/${ref}`, object: { sha: input.sha, type: 'commit' } }, 201);
    }
    if ((m = /^\/git\/refs\/(.+)$/.exec(path))) {
      need('contents', 'write');
      const ref = decodeURIComponent(m[1] as string);
      if (!this.refs.has(ref)) throw new HttpError(422, { message: 'Reference does not exist' });
      if (method === 'DELETE') {
        this.refs.delete(ref);
        return ok(undefined, 204);
      }
      if (method === 'PATCH') {
        const sha = String(input.sha);
        if (!input.force && !this.isAncestor(this.refs.get(ref) as string, sha)) throw new HttpError(422, { message: 'Update is not a fast forward' });
        this.refs.set(ref, sha);
        for (const pr of this.pulls()) if (pr.state === 'open' && `heads/${pr.pull!.head}` === ref) pr.pull!.headSha = sha;
        return ok({ ref: `refs/${ref}`, object: { sha, type: 'commit' } });
      }
    }
    if (path === '/git/blobs' && method === 'POST') {
      need('contents', 'write');
      const content = input.encoding === 'base64' ? Buffer.from(String(input.content), 'base64').toString('utf8') : String(input.content);
      return ok({ sha: this.writeBlob(content) }, 201);
    }
    if ((m = /^\/git\/commits\/([0-9a-f]{40})$/.exec(path)) && method === 'GET') {
      need('contents', 'read');
      const c = this.commits.get(m[1] as string);
      if (!c) throw new HttpError(404, { message: 'Not Found' });
      return ok({ sha: c.sha, tree: { sha: c.tree }, parents: c.parents.map((sha) => ({ sha })), message: c.message, author: c.author, committer: c.author });
    }
    if (path === '/git/commits' && method === 'POST') {
      need('contents', 'write');
      if (!this.trees.has(String(input.tree))) throw new HttpError(422, { message: 'Tree SHA does not exist' });
      const sha = this.writeCommit({ tree: String(input.tree), parents: (input.parents as string[]) ?? [], message: String(input.message), login: who.login });
      return ok({ sha, tree: { sha: input.tree }, message: input.message }, 201);
    }
    if ((m = /^\/git\/trees\/([0-9a-f]{40})$/.exec(path)) && method === 'GET') {
      need('contents', 'read');
      const t = this.trees.get(m[1] as string);
      if (!t) throw new HttpError(404, { message: 'Not Found' });
      return ok({ sha: m[1], tree: [...t].map(([p, sha]) => ({ path: p, mode: '100644', type: 'blob', sha })), truncated: false });
    }
    if (path === '/git/trees' && method === 'POST') {
      need('contents', 'write');
      const entries = new Map(input.base_tree ? (this.trees.get(String(input.base_tree)) ?? []) : []);
      for (const e of input.tree as { path: string; sha?: string | null; content?: string }[]) {
        if (e.content !== undefined) entries.set(e.path, this.writeBlob(e.content));
        else if (e.sha === null) entries.delete(e.path);
        else entries.set(e.path, String(e.sha));
      }
      return ok({ sha: this.writeTree(entries) }, 201);
    }
    if ((m = /^\/contents\/(.+)$/.exec(path)) && method === 'GET') {
      need('contents', 'read');
      const file = decodeURIComponent(m[1] as string);
      const files = this.filesAt(q.get('ref') ?? this.defaultBranch);
      const content = files.get(file);
      if (content !== undefined) {
        return ok({
          type: 'file',
          path: file,
          name: file.split('/').pop(),
          encoding: 'base64',
          content: Buffer.from(content).toString('base64'),
          sha: sha1(`blob ${Buffer.byteLength(content)}\0${content}`),
        });
      }
      const under = [...files.keys()].filter((p) => p.startsWith(`${file}/`));
      if (under.length === 0) throw new HttpError(404, { message: 'Not Found' });
      const children = new Map<string, 'file' | 'dir'>();
      for (const p of under) {
        const rest = p.slice(file.length + 1);
        children.set(rest.split('/')[0] as string, rest.includes('/') ? 'dir' : 'file');
      }
      return ok([...children].map(([name, type]) => ({ type, name, path: `${file}/${name}` })));
    }
    // pull requests
    if (path === '/pulls' && method === 'GET') {
      need('pull_requests', 'read');
      const head = q.get('head')?.split(':').pop();
      const state = q.get('state') ?? 'open';
      return ok(
        this.pulls()
          .filter((p) => (state === 'all' || p.state === state) && (!head || p.pull!.head === head))
          .map((p) => this.shapePull(p)),
      );
    }
    if (path === '/pulls' && method === 'POST') {
      need('pull_requests', 'write');
      if (who.login === 'github-actions[bot]' && !this.actionsCanCreatePullRequests) {
        throw new HttpError(403, {
          message: 'GitHub Actions is not permitted to create or approve pull requests.',
          documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
          status: '403',
        });
      }
      const head = String(input.head).split(':').pop() as string;
      const headSha = this.refs.get(`heads/${head}`);
      if (!headSha) throw new HttpError(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] });
      if (this.pulls().some((p) => p.state === 'open' && p.pull!.head === head)) {
        throw new HttpError(422, {
          message: 'Validation Failed',
          errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${this.owner}:${head}.` }],
        });
      }
      const pr: Issue = {
        number: this.issues.length + 1,
        title: String(input.title),
        body: String(input.body ?? ''),
        state: 'open',
        labels: [],
        assignees: [],
        user: who.login,
        comments: [],
        pull: {
          head,
          base: String(input.base),
          headSha,
          forkSha: this.commits.get(headSha)?.parents[0] ?? headSha,
          merged: false,
          merge_commit_sha: null,
          reviewers: [],
        },
      };
      this.issues.push(pr);
      return ok(this.shapePull(pr), 201);
    }
    if ((m = /^\/pulls\/(\d+)(\/.*)?$/.exec(path))) {
      const pr = this.issues.find((i) => i.number === Number(m![1]) && i.pull);
      if (!pr) throw new HttpError(404, { message: 'Not Found' });
      const sub = m[2] ?? '';
      if (sub === '' && method === 'GET') {
        need('pull_requests', 'read');
        return ok(this.shapePull(pr));
      }
      if (sub === '' && method === 'PATCH') {
        need('pull_requests', 'write');
        if (input.title !== undefined) pr.title = String(input.title);
        if (input.body !== undefined) pr.body = String(input.body);
        if (input.state === 'closed' || input.state === 'open') pr.state = input.state;
        return ok(this.shapePull(pr));
      }
      if (sub === '/commits' && method === 'GET') {
        need('pull_requests', 'read');
        const list: Commit[] = [];
        for (let sha: string | undefined = pr.pull!.headSha; sha && sha !== pr.pull!.forkSha; sha = this.commits.get(sha)?.parents[0])
          list.unshift(this.commits.get(sha)!);
        return ok(list.map((c) => ({ sha: c.sha, commit: { message: c.message, author: c.author }, author: { login: c.login } })));
      }
      if (sub === '/merge' && method === 'PUT') {
        need('contents', 'write');
        const sha = this.merge(pr.number, who.login);
        return ok({ sha, merged: true, message: 'Pull Request successfully merged' });
      }
      if (sub === '/requested_reviewers' && method === 'POST') {
        need('pull_requests', 'write');
        const reviewers = (input.reviewers as string[]) ?? [];
        // GitHub answers 422 for the pull request's author and for anyone who is not a collaborator
        // (../shared/reference/eks.md section 10; the texts as GitHub words them, UNVERIFIED to the letter).
        if (reviewers.includes(pr.user))
          throw new HttpError(422, {
            message: 'Review cannot be requested from pull request author.',
            documentation_url: 'https://docs.github.com/rest/pulls/review-requests',
          });
        if (reviewers.some((r) => !this.collaborators.includes(r))) {
          throw new HttpError(422, {
            message:
              `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ` +
              `${this.owner}/${this.repo} repository.`,
            documentation_url: 'https://docs.github.com/rest/pulls/review-requests',
          });
        }
        pr.pull!.reviewers.push(...reviewers.filter((r) => !pr.pull!.reviewers.includes(r)));
        return ok(this.shapePull(pr), 201);
      }
      if (sub === '/reviews' && method === 'GET') {
        need('pull_requests', 'read');
        return ok([]);
      }
    }
    if ((m = /^\/commits\/([0-9a-f]{40})\/pulls$/.exec(path)) && method === 'GET') {
      need('pull_requests', 'read');
      return ok(
        this.pulls()
          .filter((p) => p.pull!.merge_commit_sha === m![1] || p.pull!.headSha === m![1])
          .map((p) => this.shapePull(p)),
      );
    }
    // issues, comments, labels
    if (path === '/issues' && method === 'GET') {
      need('issues', 'read');
      const state = q.get('state') ?? 'open';
      const labels = q.get('labels')?.split(',').filter(Boolean) ?? [];
      const all = this.issues.filter((i) => (state === 'all' || i.state === state) && labels.every((l) => i.labels.includes(l)));
      const perPage = Number(q.get('per_page') ?? 30);
      const page = Number(q.get('page') ?? 1);
      const items = all.slice((page - 1) * perPage, page * perPage);
      const next: Record<string, string> =
        page * perPage < all.length
          ? { link: `<${this.baseUrl}${url.pathname}?${new URLSearchParams({ ...Object.fromEntries(q), page: String(page + 1) }).toString()}>; rel="next"` }
          : {};
      return [200, items.map((i) => this.shapeIssue(i)), next];
    }
    if (path === '/issues' && method === 'POST') {
      need('issues', 'write');
      const issue: Issue = {
        number: this.issues.length + 1,
        title: String(input.title),
        body: String(input.body ?? ''),
        state: 'open',
        labels: canPush ? ((input.labels as string[]) ?? []) : [],
        assignees: canPush ? ((input.assignees as string[]) ?? []).filter((a) => this.collaborators.includes(a)) : [],
        user: who.login,
        comments: [],
      };
      for (const l of issue.labels) this.labels.add(l);
      this.issues.push(issue);
      return ok(this.shapeIssue(issue), 201);
    }
    if ((m = /^\/issues\/(\d+)(\/.*)?$/.exec(path))) {
      const issue = this.issues.find((i) => i.number === Number(m![1]));
      if (!issue) throw new HttpError(404, { message: 'Not Found' });
      const sub = m[2] ?? '';
      const perm: Permission = issue.pull ? 'pull_requests' : 'issues';
      if (sub === '' && method === 'GET') {
        need(perm, 'read');
        return ok(this.shapeIssue(issue));
      }
      if (sub === '' && method === 'PATCH') {
        need(perm, 'write');
        if (input.title !== undefined) issue.title = String(input.title);
        if (input.body !== undefined) issue.body = String(input.body);
        if (input.state === 'closed' || input.state === 'open') issue.state = input.state;
        if (input.state_reason !== undefined) issue.state_reason = input.state_reason as string;
        // Labels and assignees replace the lists (GitHub REST "Update an issue"); a token without push
        // access changes neither, silently (../shared/reference/eks.md section 10).
        if (Array.isArray(input.labels) && canPush) {
          issue.labels = (input.labels as string[]).map(String);
          for (const l of issue.labels) this.labels.add(l);
        }
        if (Array.isArray(input.assignees) && canPush) issue.assignees = (input.assignees as string[]).filter((a) => this.collaborators.includes(a));
        return ok(this.shapeIssue(issue));
      }
      if (sub === '/comments' && method === 'GET') {
        need(perm, 'read');
        return ok(issue.comments.map((c) => ({ id: c.id, body: c.body, user: { login: c.user }, created_at: c.created_at })));
      }
      if (sub === '/comments' && method === 'POST') {
        need(perm, 'write');
        const comment = { id: ++this.commentId, body: String(input.body), user: who.login, created_at: new Date().toISOString() };
        issue.comments.push(comment);
        return ok(
          {
            id: comment.id,
            body: comment.body,
            user: { login: who.login },
            html_url: `https://github.com/${this.owner}/${this.repo}/issues/${issue.number}#issuecomment-${comment.id}`,
          },
          201,
        );
      }
      if (sub === '/labels' && method === 'POST') {
        need(perm, 'write');
        for (const l of (input.labels as string[]) ?? []) {
          this.labels.add(l);
          if (!issue.labels.includes(l)) issue.labels.push(l);
        }
        return ok(issue.labels.map((name) => ({ name })));
      }
      if (sub === '/assignees' && method === 'POST') {
        need(perm, 'write');
        // Logins that cannot be assigned are ignored without an error.
        issue.assignees.push(...((input.assignees as string[]) ?? []).filter((a) => this.collaborators.includes(a) && !issue.assignees.includes(a)));
        return ok(this.shapeIssue(issue), 201);
      }
    }
    throw new HttpError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
  }

  /**
   * An upstream project's releases: "List releases" paged by `per_page` (default 30, at most 100) and
   * `page` with a `Link` header naming the next and last pages, "Get a release by tag name" (404 when
   * none) (docs.github.com, REST API endpoints for releases; "Using pagination in the REST API").
   * The primary rate limit answers 403 with `x-ratelimit-remaining: 0` and the reset time
   * (docs.github.com, "Rate limits for the REST API": exceeding the primary rate limit).
   */
  private upstream(repo: string, tag: string | undefined, url: URL): [number, unknown, Record<string, string>] {
    if (this.upstreamFault === 'not-found')
      throw new HttpError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/releases/releases' });
    if (this.upstreamFault === 'rate-limited')
      throw new HttpError(
        403,
        {
          message: 'API rate limit exceeded for installation ID 1.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        },
        { 'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(this.now() / 1000) + 3600) },
      );
    const all = upstreamReleases(repo) ?? [];
    if (tag !== undefined) {
      const release = all.find((r) => r.tag_name === decodeURIComponent(tag));
      if (!release)
        throw new HttpError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name' });
      return [200, release, {}];
    }
    const q = url.searchParams;
    const perPage = Math.min(100, Math.max(1, Number(q.get('per_page') ?? 30)));
    const page = Math.max(1, Number(q.get('page') ?? 1));
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const at = (n: number) => `<${this.baseUrl}${url.pathname}?${new URLSearchParams({ ...Object.fromEntries(q), page: String(n) }).toString()}>`;
    const links = page < last ? [`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`] : [];
    return [200, all.slice((page - 1) * perPage, page * perPage), links.length > 0 ? { link: links.join(', ') } : {}];
  }

  /** Refuses a write over the content-creation limits, with the seconds to wait in `retry-after`. */
  private admitWrite(limit: { perMinute: number; perHour?: number }): void {
    const now = this.now();
    const windows: [number, number][] = [[60_000, limit.perMinute], ...(limit.perHour ? [[3_600_000, limit.perHour] as [number, number]] : [])];
    for (const [span, max] of windows) {
      const recent = this.writes.filter((t) => now - t < span);
      if (recent.length >= max) {
        this.secondaryLimited++;
        const wait = Math.max(1, Math.ceil((Math.min(...recent) + span - now) / 1000));
        throw new HttpError(
          403,
          {
            message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
            documentation_url: 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits',
          },
          { 'retry-after': String(wait) },
        );
      }
    }
    this.writes.push(now);
    while (this.writes.length > 0 && now - (this.writes[0] as number) > 3_600_000) this.writes.shift();
  }

  private isAncestor(ancestor: string, sha: string): boolean {
    for (let s: string | undefined = sha; s; s = this.commits.get(s)?.parents[0]) if (s === ancestor) return true;
    return false;
  }
}
