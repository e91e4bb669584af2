import type { UpstreamRelease } from '../model/release-notes.js';
import type { GitHub } from './github.js';

/*
 * The upstream projects' releases (awslabs/amazon-eks-ami, bottlerocket-os/bottlerocket), read for
 * the pull request's release notes (issue 26) through the run's GitHub client: GITHUB_API_URL with the
 * action's token. On github.com that is api.github.com, where these public repositories are. On a GitHub
 * Enterprise Server, GITHUB_API_URL is the server's own API (docs.github.com, Actions, "Variables":
 * default environment variables, GITHUB_API_URL; the GHES docs give the same), and github.com's repositories are
 * not on it unless mirrored there: the read answers 404 and the notes fall back to the links. The
 * server's token is never sent to api.github.com (another host, where it is not a credential), and an
 * anonymous read there is limited to 60 requests an hour per address and is often blocked from a
 * server's runners (docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api: "The primary rate limit for
 * unauthenticated requests is 60 requests per hour").
 *
 * Each release is read at most once a run: one listing per repository (Octokit's paginate, 100 a page,
 * following the Link header), kept for every cluster of the run, and a release read by its tag only when
 * the listing lacks it. A rate limit (403 or 429) stops all further reads of the run at once, without
 * the client's waiting (../repo/github.ts): notes are a courtesy, never worth a wait or a failure.
 */

/** Why the notes of a repository could not be read, in a few words for the pull request's body. */
export class NotesUnreadable extends Error {}

interface RequestError {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | undefined>; data?: { message?: string } };
}

/** Request options for these reads: no retry on a refusal, no wait on a rate limit (see github.ts). */
const NO_WAIT = { request: { retries: 0, noWait: true } };

export class UpstreamReleases {
  /** Requests made, for the summary and tests. */
  requests = 0;
  private readonly lists = new Map<string, Promise<UpstreamRelease[]>>();
  private readonly tags = new Map<string, Promise<UpstreamRelease | null>>();
  private stopped: string | undefined;

  constructor(private readonly github: GitHub) {}

  /** Where the reads go: the client's base URL (GITHUB_API_URL). */
  get apiUrl(): string {
    return String(this.github.request.endpoint.DEFAULTS.baseUrl);
  }

  /** Every release of a repository (drafts only if the token may see them), in the order GitHub lists them. */
  list(owner: string, repo: string): Promise<UpstreamRelease[]> {
    const key = `${owner}/${repo}`;
    let list = this.lists.get(key);
    if (!list) {
      list = this.guard(key, () =>
        this.github.paginate(this.github.rest.repos.listReleases, { owner, repo, per_page: 100, ...NO_WAIT }, (response) => {
          this.requests++;
          return response.data.map((r) => ({ tag: r.tag_name, body: r.body ?? null, draft: r.draft, prerelease: r.prerelease }));
        }),
      );
      this.lists.set(key, list);
    }
    return list;
  }

  /** One release by its tag, or null when there is none. */
  byTag(owner: string, repo: string, tag: string): Promise<UpstreamRelease | null> {
    const key = `${owner}/${repo}@${tag}`;
    let release = this.tags.get(key);
    if (!release) {
      release = this.guard(`${owner}/${repo}`, async () => {
        try {
          this.requests++;
          const { data: r } = await this.github.rest.repos.getReleaseByTag({ owner, repo, tag, ...NO_WAIT });
          return { tag: r.tag_name, body: r.body ?? null, draft: r.draft, prerelease: r.prerelease };
        } catch (error) {
          if ((error as RequestError).status === 404) return null;
          throw error;
        }
      });
      this.tags.set(key, release);
    }
    return release;
  }

  /** Runs a read unless the run already stopped reading; turns its failure into a reason people read. */
  private async guard<T>(repo: string, read: () => Promise<T>): Promise<T> {
    if (this.stopped) throw new NotesUnreadable(this.stopped);
    try {
      return await read();
    } catch (error) {
      const e = error as RequestError;
      const message = e.response?.data?.message ?? e.message ?? String(error);
      if (e.status === 403 || e.status === 429) {
        // A 403 that is not a rate limit (a token that may not read) stops the run's reads as well.
        const limited = /rate limit/i.test(message) || e.response?.headers?.['x-ratelimit-remaining'] === '0' || e.status === 429;
        this.stopped = limited
          ? `GitHub's rate limit was reached (HTTP ${e.status}) at ${this.apiUrl}; not asked again in this run`
          : `GitHub answered ${e.status} "${message}" for ${repo}'s releases at ${this.apiUrl}`;
        throw new NotesUnreadable(this.stopped);
      }
      if (e.status === 404)
        throw new NotesUnreadable(
          `${this.apiUrl} has no ${repo} (HTTP 404): a GitHub Enterprise Server does not hold github.com's repositories unless they are mirrored there`,
        );
      if (typeof e.status === 'number') throw new NotesUnreadable(`GitHub answered ${e.status} "${message}" for ${repo}'s releases`);
      throw new NotesUnreadable(`${repo}'s releases could not be reached at ${this.apiUrl}: ${message}`);
    }
  }
}
