import type { Settings } from '../model/settings.js';
import { type CheckReport } from '../model/check-report.js';
import { describeGitHubError, type GitHub, type Repo } from '../repo/github.js';
import { UpstreamReleases } from '../repo/upstream-releases.js';
import type { Proposal } from '../model/check-report.js';

import type { Context, LookForBlockers } from './proposal-common.js';
import { proposeIssue } from './propose-issue.js';
import { proposePullRequest } from './propose-pull-request.js';

/**
 * Turns the check's drift into one pull request or one issue per cluster, idempotently: run ten
 * times on the same drift and there is one, unchanged; a newer release updates it; when the drift is
 * gone it is closed with a comment saying why. A pull request a person edited, or one with merge
 * conflicts, is never overwritten: it gets a comment instead.
 */

/** The upstream releases read once per run: one per GitHub client, which the run makes once (with `accounts`, propose runs per account). */
const upstreams = new WeakMap<GitHub, UpstreamReleases>();
function upstreamOf(github: GitHub): UpstreamReleases {
  if (!upstreams.has(github)) upstreams.set(github, new UpstreamReleases(github));
  return upstreams.get(github)!;
}

export async function propose(report: CheckReport, settings: Settings, github: GitHub, repo: Repo, lookForBlockers?: LookForBlockers): Promise<Proposal[]> {
  const { data } = await github.rest.repos.get(repo).catch((error: unknown) => {
    throw new Error(describeGitHubError(error, `reading ${repo.owner}/${repo.repo}`));
  });
  const ctx: Context = {
    github,
    repo,
    settings,
    defaultBranch: data.default_branch,
    upstream: upstreamOf(github),
    ...(lookForBlockers ? { lookForBlockers } : {}),
  };
  const proposals: Proposal[] = [];
  // One cluster at a time: each has its own file, branch and pull request, so there is nothing to
  // gain in racing GitHub's secondary rate limits.
  for (const cluster of report.clusters.filter((c) => !c.error)) {
    const entries = report.nodegroups.filter((n) => n.cluster === cluster.cluster && n.region === cluster.region && n.nodegroup !== null);
    const kind = settings.onDrift === 'issue' ? 'issue' : 'pull-request';
    // A cluster the health gate holds (../decision/holds.ts holdUnhealthy) gets nothing proposed: its
    // upgrade would be blocked, and the release that failed must not come back as a pull request.
    const held = entries.filter((e) => e.unhealthy);
    if (held.length > 0) {
      proposals.push({
        cluster: cluster.cluster,
        region: cluster.region,
        kind,
        result: 'none',
        number: null,
        url: null,
        open: false,
        reason:
          `held: ${held.map((e) => `${e.nodegroup} was found unhealthy on ${e.unhealthy!.target}`).join('; ')}; ` +
          'nothing is proposed until the mark is lifted (see its reason)',
        warnings: [],
      });
      continue;
    }
    try {
      proposals.push(
        kind === 'issue'
          ? await proposeIssue(ctx, cluster.region, cluster.cluster, entries)
          : await proposePullRequest(ctx, cluster.region, cluster.cluster, entries),
      );
    } catch (error) {
      proposals.push({
        cluster: cluster.cluster,
        region: cluster.region,
        kind,
        result: 'error',
        number: null,
        url: null,
        open: false,
        reason: error instanceof Error ? error.message : String(error),
        warnings: [],
      });
    }
  }
  return proposals;
}

/** Builds one cluster's Proposal from what happened and the pull request or issue it happened to. */
