import { proposedRelease, type NodegroupReport } from '../model/check-report.js';
import { describeGitHubError, readRepoFile } from '../repo/github.js';
import { manifestPath, parseManifest, renderManifest, updateManifest } from '../repo/manifest.js';
import type { PinnedRelease } from '../model/plan.js';
import { editedByPerson, proposalBody, proposalTitle, targetsHash } from '../report/proposal-body.js';
import type { Proposal } from '../model/check-report.js';

import { firstNodeClassPins, isNodeClass, nodeClassFiles, targetAlias, targetText, type FileChange } from './propose-node-classes.js';
import { ACTIONS_MAY_NOT_CREATE, converge, gh, isDrift, resultFor, type Context } from './proposal-common.js';
import { releaseNotesFor } from './collect-release-notes.js';

/** The trailer that marks a commit as this action's: a commit without it was made by a person. */
export const COMMIT_TRAILER = 'Eks-Ami-Drift:';

/** The proposal's branch; with `accounts`, under the cluster's account (two accounts may each have a cluster of one name in one region). */
export function branchName(region: string, cluster: string, account?: string): string {
  return `eks-ami-drift/${account ? `${account}/` : ''}${region}/${cluster}`;
}

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

/**
 * The manifest's new text: the file on the default branch with the drifted pins moved, or a new file;
 * and the EC2NodeClass files its node classes' pins name, bumped (../effects/propose-node-classes.ts).
 */
async function desiredManifest(
  ctx: Context,
  region: string,
  cluster: string,
  all: readonly NodegroupReport[],
): Promise<{ path: string; current: string | null; next: string; files: FileChange[]; notes: string[] }> {
  const path = manifestPath(ctx.settings.manifestDir, region, cluster);
  const current = await readRepoFile(ctx.github, ctx.repo, path, ctx.defaultBranch);
  const entries = all.filter((e) => !isNodeClass(e));
  const classes = all.filter(isNodeClass);
  const names = entries.filter((e) => e.pinKey !== null).map((e) => e.nodegroup as string);
  const manifest =
    current === null
      ? null
      : parseManifest(
          path,
          current,
          { cluster, region },
          names,
          // A node group whose AMI type could not be read: its kind is not known for sure, its entry says.
          Object.fromEntries(
            entries.map((e) => [
              e.nodegroup as string,
              e.amiType || e.nodeKind === 'self-managed' ? { amiType: e.amiType ?? undefined, pinKey: e.pinKey } : {},
            ]),
          ),
          // The cluster's EC2NodeClasses, when the check read them (unread: the pins are not checked against them).
          classes.length > 0 ? classes.map((e) => e.nodegroup as string) : undefined,
        );
  const targets: Record<string, PinnedRelease> = {};
  for (const e of entries.filter(isDrift)) targets[e.nodegroup as string] = pinOf(e, 'proposed');
  const aliases = Object.fromEntries(classes.filter(isDrift).flatMap((e) => (targetAlias(e) ? [[e.nodegroup as string, targetAlias(e)!]] : [])));
  if (current !== null) {
    const { files, notes } = await nodeClassFiles(ctx, manifest?.nodeClasses ?? {}, classes.filter(isDrift));
    return { path, current, next: updateManifest(current, targets, aliases), files, notes };
  }
  // A first manifest records the current state of every node group it can pin, and the targets.
  const pins: Record<string, PinnedRelease> = {};
  for (const e of entries) {
    if (e.pinKey === null || !e.kubernetesVersion || !e.releaseVersion || ['unsupported', 'unknown', 'error', 'custom'].includes(e.status)) continue;
    if (e.pinKey === 'imageId' && !e.imageId) continue;
    pins[e.nodegroup as string] = targets[e.nodegroup as string] ?? pinOf(e, 'current');
  }
  const nodeClasses = firstNodeClassPins(classes);
  return { path, current, next: renderManifest({ cluster, region, nodegroups: pins, ...(nodeClasses ? { nodeClasses } : {}) }), files: [], notes: [] };
}

export async function proposePullRequest(ctx: Context, region: string, cluster: string, entries: readonly NodegroupReport[]): Promise<Proposal> {
  const { github, repo } = ctx;
  const branch = branchName(region, cluster, ctx.settings.account);
  const drift = entries.filter(isDrift);
  const soaking = entries.some((e) => e.status === 'soaking');
  // A release whose image is not yet in the region (waiting without a stage's proof) is not drift gone.
  const unpublished = entries.some((e) => e.status === 'waiting' && !e.proof);
  const result = resultFor('pull-request', region, cluster);

  const open = (await gh('listing pull requests', () => github.rest.pulls.list({ ...repo, state: 'open', head: `${repo.owner}:${branch}`, per_page: 10 })))
    .data[0];

  if (drift.length === 0) {
    if (!open && unpublished) return result('none', `a newer release has no image in ${region} yet: nothing is pinned until it has`);
    if (!open) return result('none', soaking ? 'newer releases are soaking (younger than min-release-age)' : 'no drift');
    if (unpublished) return result('unchanged', `a newer release has no image in ${region} yet: the pull request is kept as it is`, open);
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

  const { path, current, next, files, notes } = await desiredManifest(ctx, region, cluster, entries);
  if (current === next && files.length === 0) {
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
        drift.filter((d) => !isNodeClass(d)).map((d) => d.nodegroup as string),
      )
    : undefined;
  const releaseNotes = ctx.upstream ? await releaseNotesFor(ctx.upstream, drift) : [];
  const body = proposalBody('pr', region, cluster, entries, path, look, { files: files.map((f) => f.path), notes }, releaseNotes);
  const changes = [{ path, next }, ...files];
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
        `The latest releases for ${cluster} (${region}) are: ${drift.map((d) => `\`${d.nodegroup}\` → \`${targetText(d)}\``).join(', ')}. ` +
          `This pull request was not updated because ${why}, and will not be while that is so. ` +
          `Update it by hand (merging upgrades to what \`${path}\` pins then), or close it: ` +
          'a new pull request is opened when a release newer than these appears, not for these.',
      );
      return result('unchanged', `not overwritten: ${why} (commented)`, open, warnings);
    }
    const onBranch = await Promise.all(changes.map((c) => readRepoFile(github, repo, c.path, branch)));
    if (onBranch.every((text, i) => text === changes[i]!.next) && full.body === body && full.title === title)
      return result('unchanged', 'already proposes these releases', open, warnings);
    await commitToBranch(ctx, branch, changes, drift, true);
    await gh('updating the pull request', () => github.rest.pulls.update({ ...repo, pull_number: open.number, title, body }));
    return result('updated', `now proposes ${drift.map((d) => targetText(d)).join(', ')}`, open, warnings);
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

  await commitToBranch(ctx, branch, changes, drift, false);
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
  return result('created', `proposes ${drift.map((d) => `${d.nodegroup} → ${targetText(d)}`).join(', ')}`, pr, warnings);
}

/**
 * One commit on top of the default branch (git data API: blob, tree, commit, ref), so the workflow
 * needs no checkout and the commit is the token's. The branch is (re)pointed at it.
 */
async function commitToBranch(
  ctx: Context,
  branch: string,
  changes: readonly { path: string; next: string }[],
  drift: readonly NodegroupReport[],
  exists: boolean,
): Promise<void> {
  const { github, repo } = ctx;
  const path = changes.map((c) => c.path).join(', ');
  try {
    const base = (await github.rest.git.getRef({ ...repo, ref: `heads/${ctx.defaultBranch}` })).data.object.sha;
    const baseTree = (await github.rest.git.getCommit({ ...repo, commit_sha: base })).data.tree.sha;
    const entries = [];
    for (const c of changes) {
      const blob = (await github.rest.git.createBlob({ ...repo, content: c.next, encoding: 'utf-8' })).data.sha;
      entries.push({ path: c.path, mode: '100644' as const, type: 'blob' as const, sha: blob });
    }
    const tree = (await github.rest.git.createTree({ ...repo, base_tree: baseTree, tree: entries })).data.sha;
    const [region, cluster] = [drift[0]?.region, drift[0]?.cluster];
    const message = [
      `eks-ami-drift: upgrade ${cluster} (${region}) ${drift.some(isNodeClass) ? 'nodes' : 'node groups'}`,
      '',
      ...drift.map((d) =>
        isNodeClass(d)
          ? `- EC2NodeClass ${d.nodegroup}: ${d.amiType}@${d.releaseVersion} -> ${targetAlias(d)}`
          : `- ${d.nodegroup}: ${d.releaseVersion} -> ${proposedRelease(d)}`,
      ),
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
