import type { Settings } from '../model/settings.js';
import { proposedRelease, type CheckReport, type NodegroupReport } from '../model/check-report.js';
import { describeGitHubError, readRepoFile, type GitHub, type Repo } from '../repo/github.js';
import { manifestPath, parseManifest, renderManifest, updateManifest } from '../repo/manifest.js';
import type { PinnedRelease } from '../model/plan.js';
import { editedByPerson, marker, proposalBody, proposalTitle, targetsHash } from '../report/proposal-body.js';
import type { BlockerLook } from '../model/check-report.js';
import type { Proposal } from '../model/check-report.js';

/** The trailer that marks a commit as this action's: a commit without it was made by a person. */
export const COMMIT_TRAILER = 'Eks-Ami-Drift:';

export function branchName(region: string, cluster: string): string {
  return `eks-ami-drift/${region}/${cluster}`;
}

interface Context {
  github: GitHub;
  repo: Repo;
  settings: Settings;
  defaultBranch: string;
  lookForBlockers?: LookForBlockers;
}

/**
 * Turns the check's drift into one pull request or one issue per cluster, idempotently: run ten
 * times on the same drift and there is one, unchanged; a newer release updates it; when the drift is
 * gone it is closed with a comment saying why. A pull request a person edited, or one with merge
 * conflicts, is never overwritten: it gets a comment instead.
 */
/** Looks at what would block the upgrade of these node groups now (PodDisruptionBudgets), if it can. */
export type LookForBlockers = (region: string, cluster: string, nodegroups: string[]) => Promise<BlockerLook>;

export async function propose(report: CheckReport, settings: Settings, github: GitHub, repo: Repo, lookForBlockers?: LookForBlockers): Promise<Proposal[]> {
  const { data } = await github.rest.repos.get(repo).catch((error: unknown) => {
    throw new Error(describeGitHubError(error, `reading ${repo.owner}/${repo.repo}`));
  });
  const ctx: Context = { github, repo, settings, defaultBranch: data.default_branch, ...(lookForBlockers ? { lookForBlockers } : {}) };
  const proposals: Proposal[] = [];
  // One cluster at a time: each has its own file, branch and pull request, so there is nothing to
  // gain in racing GitHub's secondary rate limits.
  for (const cluster of report.clusters.filter((c) => !c.error)) {
    const entries = report.nodegroups.filter((n) => n.cluster === cluster.cluster && n.region === cluster.region && n.nodegroup !== null);
    const kind = settings.onDrift === 'issue' ? 'issue' : 'pull-request';
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
function resultFor(kind: Proposal['kind'], region: string, cluster: string) {
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
const ACTIONS_MAY_NOT_CREATE = /not permitted to create or approve pull requests/i;

/**
 * Labels, assignees and (for a pull request) reviewers are best effort: the pull request or issue
 * stands without them. What is missing is applied on every run, and what GitHub refuses or silently
 * drops (labels and assignees of a token without push access, a non-collaborator; a review request
 * to the author or a non-collaborator answers 422) becomes a warning naming the login and GitHub's
 * reason (see ../shared/reference/eks.md section 10). A reviewer who already reviewed is not asked again.
 */
async function converge(
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
async function gh<T>(doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new Error(describeGitHubError(error, doing));
  }
}

/** A node group to propose: one its kind pins, drifted, with a target (for a pin by image, the image AWS recommends now). */
const isDrift = (e: NodegroupReport) =>
  e.pinKey !== null && e.status === 'drift' && e.latestReleaseVersion !== null && (e.pinKey !== 'imageId' || e.latestImageId !== null);

/**
 * The pin of a node group, by its kind's pin key: to its target (`proposed`; an image id with a comment
 * saying which release it is), or to what it runs now (`current`, for a first manifest).
 */
function pinOf(e: NodegroupReport, which: 'proposed' | 'current'): PinnedRelease {
  const kubernetesVersion = e.kubernetesVersion as string;
  if (e.pinKey === 'imageId') {
    return which === 'proposed'
      ? { kubernetesVersion, imageId: e.latestImageId as string, imageNote: `${e.latestReleaseVersion}: AWS's EKS-optimized AMI in ${e.region}` }
      : { kubernetesVersion, imageId: e.imageId as string, ...(e.imageName ? { imageNote: e.imageName } : {}) };
  }
  return { kubernetesVersion, releaseVersion: (which === 'proposed' ? proposedRelease(e) : e.releaseVersion) as string };
}

/** The manifest's new text: the file on the default branch with the drifted pins moved, or a new file. */
async function desiredManifest(
  ctx: Context,
  region: string,
  cluster: string,
  entries: readonly NodegroupReport[],
): Promise<{ path: string; current: string | null; next: string }> {
  const path = manifestPath(ctx.settings.manifestDir, region, cluster);
  const current = await readRepoFile(ctx.github, ctx.repo, path, ctx.defaultBranch);
  const names = entries.filter((e) => e.pinKey !== null).map((e) => e.nodegroup as string);
  if (current !== null)
    parseManifest(path, current, { cluster, region }, names, Object.fromEntries(entries.map((e) => [e.nodegroup as string, e.amiType ?? undefined])));
  const targets: Record<string, PinnedRelease> = {};
  for (const e of entries.filter(isDrift)) targets[e.nodegroup as string] = pinOf(e, 'proposed');
  if (current !== null) return { path, current, next: updateManifest(current, targets) };
  // A first manifest records the current state of every node group it can pin, and the targets.
  const pins: Record<string, PinnedRelease> = {};
  for (const e of entries) {
    if (e.pinKey === null || !e.kubernetesVersion || !e.releaseVersion || ['unsupported', 'unknown', 'error', 'custom'].includes(e.status)) continue;
    if (e.pinKey === 'imageId' && !e.imageId) continue;
    pins[e.nodegroup as string] = targets[e.nodegroup as string] ?? pinOf(e, 'current');
  }
  return { path, current, next: renderManifest({ cluster, region, nodegroups: pins }) };
}

async function proposePullRequest(ctx: Context, region: string, cluster: string, entries: readonly NodegroupReport[]): Promise<Proposal> {
  const { github, repo } = ctx;
  const branch = branchName(region, cluster);
  const drift = entries.filter(isDrift);
  const soaking = entries.some((e) => e.status === 'soaking');
  const result = resultFor('pull-request', region, cluster);

  const open = (await gh('listing pull requests', () => github.rest.pulls.list({ ...repo, state: 'open', head: `${repo.owner}:${branch}`, per_page: 10 })))
    .data[0];

  if (drift.length === 0) {
    if (!open) return result('none', soaking ? 'newer releases are soaking (younger than min-release-age)' : 'no drift');
    if (soaking) return result('unchanged', 'the newest releases are still soaking: the pull request is kept as it is', open);
    await gh('commenting on the pull request', () =>
      github.rest.issues.createComment({
        ...repo,
        issue_number: open.number,
        body:
          `Closing: every node group of ${cluster} (${region}) is now on its latest release ` +
          '(upgraded outside this pull request), so there is nothing left to merge.',
      }),
    );
    await gh('closing the pull request', () => github.rest.pulls.update({ ...repo, pull_number: open.number, state: 'closed' }));
    await github.rest.git.deleteRef({ ...repo, ref: `heads/${branch}` }).catch(() => undefined);
    return result('closed', 'the drift is gone: closed with a comment', open);
  }

  const { path, current, next } = await desiredManifest(ctx, region, cluster, entries);
  if (current === next) {
    // The default branch already pins these releases: the change was merged but the nodes are not
    // there. A pull request with no change would help nobody; the upgrade workflow's run says why.
    if (open) return result('unchanged', `${path} on ${ctx.defaultBranch} already pins these releases: see the upgrade workflow's last run`, open);
    return result(
      'none',
      `${path} on ${ctx.defaultBranch} already pins these releases, but the node groups are not on them: see the upgrade workflow's last run`,
    );
  }
  const title = proposalTitle(region, cluster, drift);
  const look = ctx.lookForBlockers
    ? await ctx.lookForBlockers(
        region,
        cluster,
        drift.map((d) => d.nodegroup as string),
      )
    : undefined;
  const body = proposalBody('pr', region, cluster, entries, path, look);
  const hash = targetsHash(drift);

  if (open) {
    const full = (await gh('reading the pull request', () => github.rest.pulls.get({ ...repo, pull_number: open.number }))).data;
    const commits = (await gh('listing the pull request commits', () => github.rest.pulls.listCommits({ ...repo, pull_number: open.number, per_page: 100 })))
      .data;
    const edited = commits.some((c) => !c.commit.message.includes(COMMIT_TRAILER));
    // The body carries a hash of what the action wrote: any other text is a person's, whatever the
    // targets were then or are now.
    const bodyEdited = editedByPerson(full.body);
    const conflicting = full.mergeable === false;
    const warnings = await converge(ctx, open.number, full, true);
    if (edited || bodyEdited || conflicting) {
      const why = edited
        ? 'it has commits made by a person'
        : bodyEdited
          ? 'its description was edited by a person'
          : 'it has merge conflicts with the base branch';
      await noticeOnce(
        ctx,
        open.number,
        hash,
        `The latest releases for ${cluster} (${region}) are: ${drift.map((d) => `\`${d.nodegroup}\` → \`${proposedRelease(d)}\``).join(', ')}. ` +
          `This pull request was not updated because ${why}, and will not be while that is so. ` +
          `Update it by hand (merging upgrades to what \`${path}\` pins then), or close it: ` +
          'a new pull request is opened when a release newer than these appears, not for these.',
      );
      return result('unchanged', `not overwritten: ${why} (commented)`, open, warnings);
    }
    const onBranch = await readRepoFile(github, repo, path, branch);
    if (onBranch === next && full.body === body && full.title === title) return result('unchanged', 'already proposes these releases', open, warnings);
    await commitToBranch(ctx, branch, path, next, drift, true);
    await gh('updating the pull request', () => github.rest.pulls.update({ ...repo, pull_number: open.number, title, body }));
    return result('updated', `now proposes ${drift.map((d) => proposedRelease(d)).join(', ')}`, open, warnings);
  }

  // A pull request a person closed for these same releases is not opened again.
  const closed = (await gh('listing pull requests', () => github.rest.pulls.list({ ...repo, state: 'closed', head: `${repo.owner}:${branch}`, per_page: 10 })))
    .data;
  const declined = closed.find((p) => !p.merged_at && (p.body ?? '').includes(`eks-ami-drift:targets ${hash}`));
  if (declined)
    return result('unchanged', `pull request #${declined.number} for these releases was closed without merging: not reopened until a newer release appears`, {
      ...declined,
      state: 'closed',
    });

  await commitToBranch(ctx, branch, path, next, drift, false);
  let pr;
  try {
    pr = (await github.rest.pulls.create({ ...repo, title, body, head: branch, base: ctx.defaultBranch })).data;
  } catch (error) {
    const e = error as { status?: number; message?: string; response?: { data?: { message?: string } } };
    if (e.status === 403 && ACTIONS_MAY_NOT_CREATE.test(e.response?.data?.message ?? e.message ?? '')) {
      // Leave nothing behind: the branch just pushed goes again.
      await github.rest.git.deleteRef({ ...repo, ref: `heads/${branch}` }).catch(() => undefined);
      throw new Error(
        'opening the pull request: GitHub refused it because the repository (or its organization) does not allow GitHub Actions to create pull requests. ' +
          'Turn on "Allow GitHub Actions to create and approve pull requests" under Settings → Actions → General → Workflow permissions, ' +
          'or pass a GitHub App token (actions/create-github-app-token) as github-token. The branch pushed for it was deleted again.',
      );
    }
    throw new Error(describeGitHubError(error, 'opening the pull request'));
  }
  const warnings = await converge(ctx, pr.number, null, true);
  return result('created', `proposes ${drift.map((d) => `${d.nodegroup} → ${proposedRelease(d)}`).join(', ')}`, pr, warnings);
}

/**
 * One commit on top of the default branch (git data API: blob, tree, commit, ref), so the workflow
 * needs no checkout and the commit is the token's. The branch is (re)pointed at it.
 */
async function commitToBranch(ctx: Context, branch: string, path: string, content: string, drift: readonly NodegroupReport[], exists: boolean): Promise<void> {
  const { github, repo } = ctx;
  try {
    const base = (await github.rest.git.getRef({ ...repo, ref: `heads/${ctx.defaultBranch}` })).data.object.sha;
    const baseTree = (await github.rest.git.getCommit({ ...repo, commit_sha: base })).data.tree.sha;
    const blob = (await github.rest.git.createBlob({ ...repo, content, encoding: 'utf-8' })).data.sha;
    const tree = (await github.rest.git.createTree({ ...repo, base_tree: baseTree, tree: [{ path, mode: '100644', type: 'blob', sha: blob }] })).data.sha;
    const [region, cluster] = [drift[0]?.region, drift[0]?.cluster];
    const message = [
      `eks-ami-drift: upgrade ${cluster} (${region}) node groups`,
      '',
      ...drift.map((d) => `- ${d.nodegroup}: ${d.releaseVersion} -> ${proposedRelease(d)}`),
      '',
      `${COMMIT_TRAILER} ${region}/${cluster}`,
    ].join('\n');
    const commit = (await github.rest.git.createCommit({ ...repo, message, tree, parents: [base] })).data.sha;
    if (exists) await github.rest.git.updateRef({ ...repo, ref: `heads/${branch}`, sha: commit, force: true });
    else {
      try {
        await github.rest.git.createRef({ ...repo, ref: `refs/heads/${branch}`, sha: commit });
      } catch (error) {
        // The branch outlived its pull request (closed, or made by an earlier run): point it anew.
        if ((error as { status?: number }).status !== 422) throw error;
        await github.rest.git.updateRef({ ...repo, ref: `heads/${branch}`, sha: commit, force: true });
      }
    }
  } catch (error) {
    throw new Error(describeGitHubError(error, `committing ${path} to ${branch}`));
  }
}

/** A comment, once per set of targets (a hidden marker says which), so re-runs do not spam. */
async function noticeOnce(ctx: Context, number: number, hash: string, text: string): Promise<void> {
  const tag = `<!-- eks-ami-drift:notice ${hash} -->`;
  const comments = await ctx.github.paginate(ctx.github.rest.issues.listComments, { ...ctx.repo, issue_number: number, per_page: 100 });
  if (comments.some((c) => (c.body ?? '').includes(tag))) return;
  await ctx.github.rest.issues.createComment({ ...ctx.repo, issue_number: number, body: `${tag}\n${text}` });
}

async function proposeIssue(ctx: Context, region: string, cluster: string, entries: readonly NodegroupReport[]): Promise<Proposal> {
  const { github, repo, settings } = ctx;
  const drift = entries.filter(isDrift);
  const soaking = entries.some((e) => e.status === 'soaking');
  const tag = marker('issue', region, cluster);
  let existing:
    | { number: number; html_url: string; body?: string | null; title: string; labels?: ({ name?: string } | string)[]; assignees?: { login: string }[] | null }
    | undefined;
  try {
    // Found by the hidden marker in its body among all open issues, whatever their labels now (a
    // person may relabel it): not by title, not by search (which lags). The list also holds pull
    // requests: those are skipped.
    const issues = await github.paginate(github.rest.issues.listForRepo, { ...repo, state: 'open', per_page: 100 });
    existing = issues.find((i) => !i.pull_request && (i.body ?? '').includes(tag));
  } catch (error) {
    throw new Error(describeGitHubError(error, 'listing issues'));
  }
  const result = resultFor('issue', region, cluster);
  try {
    if (drift.length === 0) {
      if (!existing) return result('none', soaking ? 'newer releases are soaking (younger than min-release-age)' : 'no drift');
      if (soaking) return result('unchanged', 'the newest releases are still soaking: the issue is kept as it is', existing);
      await github.rest.issues.createComment({
        ...repo,
        issue_number: existing.number,
        body: `Resolved: every node group of ${cluster} (${region}) is now on its latest release.`,
      });
      await github.rest.issues.update({ ...repo, issue_number: existing.number, state: 'closed', state_reason: 'completed' });
      return result('closed', 'the drift is gone: closed with a comment', existing);
    }
    const path = manifestPath(settings.manifestDir, region, cluster);
    const title = proposalTitle(region, cluster, drift);
    const body = proposalBody('issue', region, cluster, entries, path);
    if (existing) {
      const warnings = await converge(ctx, existing.number, existing, false);
      if (existing.body === body && existing.title === title) return result('unchanged', 'already reports these releases', existing, warnings);
      await github.rest.issues.update({ ...repo, issue_number: existing.number, title, body });
      return result('updated', `now reports ${drift.map((d) => proposedRelease(d)).join(', ')}`, existing, warnings);
    }
    // An issue a person closed as not planned for these same releases is not filed again (newer
    // releases are): like a pull request closed without merging. The most recently updated closed
    // issues are looked at.
    const closed = (await github.rest.issues.listForRepo({ ...repo, state: 'closed', sort: 'updated', direction: 'desc', per_page: 100 })).data;
    const declined = closed.find(
      (i) =>
        !i.pull_request &&
        i.state_reason === 'not_planned' &&
        (i.body ?? '').includes(tag) &&
        (i.body ?? '').includes(`eks-ami-drift:targets ${targetsHash(drift)}`),
    );
    if (declined)
      return result('unchanged', `issue #${declined.number} for these releases was closed as not planned: not filed again until a newer release appears`, {
        ...declined,
        state: 'closed',
      });
    const { data } = await github.rest.issues.create({
      ...repo,
      title,
      body,
      labels: settings.labels,
      ...(settings.assignees.length ? { assignees: settings.assignees } : {}),
    });
    // Labels and assignees of a token without push access are dropped silently on create.
    const warnings = await converge(ctx, data.number, data, false);
    return result('created', `reports ${drift.map((d) => `${d.nodegroup} → ${proposedRelease(d)}`).join(', ')}`, data, warnings);
  } catch (error) {
    throw new Error(describeGitHubError(error, existing ? `updating issue #${existing.number}` : 'opening the issue'));
  }
}
