import { context, getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type GitHub = ReturnType<typeof getOctokit>;

export type Repo = { owner: string; repo: string };

/**
 * The one place the GitHub client is made. `@actions/github` takes the API's address from
 * GITHUB_API_URL, like the runner sets it (github.com, GHES, or a local stand-in).
 *
 * At fleet scale GitHub's limits are the normal case: a first run that proposes for 100 clusters
 * makes hundreds of writes, and GitHub allows about 80 content-creating requests a minute and 500 an
 * hour (secondary rate limits, answered 403 or 429 with `retry-after`). @octokit/plugin-throttling
 * paces writes as GitHub's best practices ask (one at a time, a second apart, three seconds before
 * requests that notify people) and waits out both kinds of limit before retrying (except for reads
 * marked `noWait`, which give up at once);
 * @octokit/plugin-retry retries server errors. `log` says when the run waits, and why.
 */
/** A request as the throttling plugin hands it over; `request.noWait`: a read not worth a wait (./upstream-releases.ts). */
type ThrottledRequest = { method: string; url: string; request?: unknown };
const noWait = (options: ThrottledRequest) => (options.request as { noWait?: boolean } | undefined)?.noWait === true;

export function createGitHub(token: string, log: (line: string) => void = () => undefined): GitHub {
  return getOctokit(
    token,
    {
      throttle: {
        onRateLimit: (retryAfter: number, options: ThrottledRequest, _octokit: unknown, retryCount: number) => {
          const wait = !noWait(options) && retryCount < 2 && retryAfter <= 15 * 60;
          log(
            `GitHub's rate limit reached on ${options.method} ${options.url}: ` +
              (wait ? `retrying in ${retryAfter} s` : noWait(options) ? 'not waiting for a read that can do without' : 'giving up (the reset is too far off)'),
          );
          return wait;
        },
        onSecondaryRateLimit: (retryAfter: number, options: ThrottledRequest, _octokit: unknown, retryCount: number) => {
          const wait = !noWait(options) && retryCount < 5;
          const why = noWait(options) ? 'not waiting for a read that can do without' : 'giving up after 5 waits';
          log(`GitHub's secondary rate limit reached on ${options.method} ${options.url}: ${wait ? `retrying in ${retryAfter} s` : why}`);
          return wait;
        },
      },
    },
    throttling,
    retry,
  );
}

export function currentRepo(): Repo {
  return context.repo;
}

interface RequestError {
  status?: number;
  message?: string;
  request?: { method?: string; url?: string };
  response?: { headers?: Record<string, string | undefined>; data?: { message?: string } };
}

/**
 * GitHub's refusal with what to do about it: a 403 names the permission the workflow must grant
 * (GitHub says which in `x-accepted-github-permissions`).
 */
export function describeGitHubError(error: unknown, doing: string): string {
  const e = error as RequestError;
  if (typeof e?.status !== 'number') return `${doing}: ${error instanceof Error ? error.message : String(error)}`;
  const message = e.response?.data?.message ?? e.message ?? `HTTP ${e.status}`;
  const accepted = e.response?.headers?.['x-accepted-github-permissions'];
  if (e.status === 403 && accepted) {
    const grants = accepted
      .split(/[,;]\s*/)
      .map((p) => p.replace('=', ': ').replace(/_/g, '-'))
      .join(', ');
    return (
      `${doing}: GitHub answered ${e.status} "${message}". ` +
      `The token needs ${grants}: add it under \`permissions:\` in the workflow (or use a GitHub App token that has it).`
    );
  }
  if (e.status === 401) return `${doing}: GitHub answered 401 "${message}": the github-token input is not a valid token`;
  return `${doing}: GitHub answered ${e.status} "${message}"`;
}

/** A file's text at a commit, or `null` when it does not exist there. */
export async function readRepoFile(github: GitHub, repo: Repo, path: string, ref: string): Promise<string | null> {
  try {
    const { data } = await github.rest.repos.getContent({ ...repo, path, ref });
    if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) return null;
    return Buffer.from(data.content, 'base64').toString('utf8');
  } catch (error) {
    if ((error as RequestError).status === 404) return null;
    throw new Error(describeGitHubError(error, `reading ${path} at ${ref.slice(0, 12)}`));
  }
}

/** Reads repository files through the API at a commit, or from the checked-out workspace. */
export type FileReader = (path: string) => Promise<string | null>;

export function repoFileReader(from: { github: GitHub; repo: Repo } | null, ref: string, workspace: string | undefined): FileReader {
  if (from) return (path) => readRepoFile(from.github, from.repo, path, ref);
  return async (path) => {
    const full = workspace ? join(workspace, path) : path;
    return existsSync(full) ? readFileSync(full, 'utf8') : null;
  };
}
