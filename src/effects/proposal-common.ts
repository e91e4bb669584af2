import type { Settings } from '../model/settings.js';
import { type NodegroupReport } from '../model/check-report.js';
import { describeGitHubError, type GitHub, type Repo } from '../repo/github.js';
import type { BlockerLook } from '../model/check-report.js';
import type { Proposal } from '../model/check-report.js';
import { pinOlderThanRunning } from '../decision/in-place.js';
import type { UpstreamReleases } from '../repo/upstream-releases.js';

/* What a cluster's pull request and its issue have in common: the context, the result, labels and reviewers. */

/** Looks at what would block the upgrade of these node groups now (PodDisruptionBudgets), if it can. */
export type LookForBlockers = (region: string, cluster: string, nodegroups: string[]) => Promise<BlockerLook>;

export interface Context {
  github: GitHub;
  repo: Repo;
  settings: Settings;
  defaultBranch: string;
  lookForBlockers?: LookForBlockers;
  /** The upstream releases, read once for the whole run (the pull requests' release notes). */
  upstream?: UpstreamReleases;
}

export function resultFor(kind: Proposal['kind'], region: string, cluster: string) {
  return (result: Proposal['result'], reason: string, on?: { number: number; html_url: string; state?: string }, warnings: string[] = []): Proposal => ({
    cluster,
    region,
    kind,
    result,
    number: on?.number ?? null,
    url: on?.html_url ?? null,
    open: on !== undefined && result !== 'closed' && (on.state ?? 'open') === 'open',
    reason,
    warnings,
  });
}

/** GitHub's refusal when "Allow GitHub Actions to create and approve pull requests" is off. */
export const ACTIONS_MAY_NOT_CREATE = /not permitted to create or approve pull requests/i;

/**
 * Labels, assignees and (for a pull request) reviewers are best effort: the pull request or issue
 * stands without them. What is missing is applied on every run, and what GitHub refuses or silently
 * drops (labels and assignees of a token without push access, a non-collaborator; a review request
 * to the author or a non-collaborator answers 422) becomes a warning naming the login and GitHub's
 * reason (see ../shared/reference/eks.md section 10). A reviewer who already reviewed is not asked again.
 */
export async function converge(
  ctx: Context,
  number: number,
  current: { labels?: ({ name?: string } | string)[]; assignees?: { login: string }[] | null; requested_reviewers?: { login: string }[] | null } | null,
  pull: boolean,
): Promise<string[]> {
  const { github, repo, settings } = ctx;
  const warnings: string[] = [];
  // Labels and assignees in one write (GitHub's content-creation limits make each write count).
  const labelsNow = (current?.labels ?? []).map((l) => (typeof l === 'string' ? l : (l.name ?? '')));
  const assigneesNow = (current?.assignees ?? []).map((a) => a.login);
  const labels = settings.labels.filter((l) => !labelsNow.includes(l));
  const assignees = settings.assignees.filter((a) => !assigneesNow.includes(a));
  if (labels.length > 0 || assignees.length > 0) {
    try {
      const { data } = await github.rest.issues.update({
        ...repo,
        issue_number: number,
        ...(labels.length > 0 ? { labels: [...labelsNow, ...labels] } : {}),
        ...(assignees.length > 0 ? { assignees: [...assigneesNow, ...assignees] } : {}),
      });
      const droppedLabels = labels.filter((l) => !(data.labels ?? []).some((d) => (typeof d === 'string' ? d : d.name) === l));
      const droppedAssignees = assignees.filter((a) => !(data.assignees ?? []).some((d) => d.login === a));
      if (droppedLabels.length > 0) warnings.push(`label(s) ${droppedLabels.join(', ')} were not applied by GitHub (a token without push access cannot label)`);
      if (droppedAssignees.length > 0)
        warnings.push(`${droppedAssignees.join(', ')} could not be assigned: GitHub silently ignores logins that cannot be assigned in this repository`);
    } catch (error) {
      warnings.push(
        describeGitHubError(error, `setting labels ${labels.join(', ') || '(none)'} and assignees ${assignees.join(', ') || '(none)'} on #${number}`),
      );
    }
  }
  if (pull && settings.reviewers.length > 0) {
    const requested = (current?.requested_reviewers ?? []).map((r) => r.login);
    let wanted = settings.reviewers.filter((r) => !requested.includes(r));
    if (wanted.length > 0 && current) {
      const reviews = await github.rest.pulls.listReviews({ ...repo, pull_number: number, per_page: 100 }).then(
        (r) => r.data,
        () => [],
      );
      wanted = wanted.filter((r) => !reviews.some((v) => v.user?.login === r));
    }
    // One at a time: one login GitHub refuses must not cost the others their request.
    for (const reviewer of wanted) {
      try {
        await github.rest.pulls.requestReviewers({ ...repo, pull_number: number, reviewers: [reviewer] });
      } catch (error) {
        warnings.push(`reviewer ${reviewer}: ${describeGitHubError(error, 'requesting a review')}`);
      }
    }
  }
  return warnings;
}

/** A GitHub call whose failure says what was being done, and which permission is missing. */
export async function gh<T>(doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new Error(describeGitHubError(error, doing));
  }
}

/** A node group to propose: one its kind pins, drifted, with a target (for a pin by image, the image AWS recommends now). */
export const isDrift = (e: NodegroupReport) =>
  e.pinKey !== null &&
  e.status === 'drift' &&
  e.latestReleaseVersion !== null &&
  (e.pinKey !== 'imageId' || e.latestImageId !== null) &&
  // A Karpenter node class: the alias to move to (../decision/karpenter-drift.ts).
  (e.pinKey !== 'alias' || !!e.nodeClass?.targetAlias) &&
  // Never a release older than what its nodes run after an in-place update (Bottlerocket).
  pinOlderThanRunning(e) === null;
