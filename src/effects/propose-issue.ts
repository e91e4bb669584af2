import { proposedRelease, type NodegroupReport } from '../model/check-report.js';
import { describeGitHubError } from '../repo/github.js';
import { manifestPath } from '../repo/manifest.js';
import { marker, proposalBody, proposalTitle, targetsHash } from '../report/proposal-body.js';
import type { Proposal } from '../model/check-report.js';

import { converge, isDrift, resultFor, type Context } from './proposal-common.js';

/** One cluster's drift as an issue: found again by its hidden marker, updated, closed when the drift is gone. */
export async function proposeIssue(ctx: Context, region: string, cluster: string, entries: readonly NodegroupReport[]): Promise<Proposal> {
  const { github, repo, settings } = ctx;
  const drift = entries.filter(isDrift);
  const soaking = entries.some((e) => e.status === 'soaking');
  // A release whose image is not yet in the region (waiting without a stage's proof) is not drift gone.
  const unpublished = entries.some((e) => e.status === 'waiting' && !e.proof);
  const tag = marker('issue', region, cluster, settings.account);
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
      if (!existing && unpublished) return result('none', `a newer release has no image in ${region} yet: nothing is proposed until it has`);
      if (!existing) return result('none', soaking ? 'newer releases are soaking (younger than min-release-age)' : 'no drift');
      if (unpublished) return result('unchanged', `a newer release has no image in ${region} yet: the issue is kept as it is`, existing);
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
