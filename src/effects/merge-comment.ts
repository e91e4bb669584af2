import { describeGitHubError, type GitHub, type Repo } from '../repo/github.js';
import { BODY_BUDGET_CHARS, fitMarkdown } from '../report/markdown.js';
import { UPGRADE_COMMENT_MARKER } from '../report/upgrade-summary.js';

/** Reports the upgrade back on the pull request whose merge made the commit. A failure is returned as a warning, never thrown. */
export async function commentOnMergedPullRequest(
  github: GitHub,
  repo: Repo,
  sha: string,
  summary: string,
): Promise<{ commented: number | null; warning: string | null }> {
  try {
    const { data } = await github.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: sha });
    const pr = data.find((p) => p.merged_at || p.state === 'closed') ?? data[0];
    if (!pr) return { commented: null, warning: null };
    const note = "Shortened to GitHub's 65,536-character comment limit: the whole result is in the job summary and the `upgrades` output.";
    const body = fitMarkdown(`${UPGRADE_COMMENT_MARKER}\n${summary}`, BODY_BUDGET_CHARS, note);
    await github.rest.issues.createComment({ ...repo, issue_number: pr.number, body });
    return { commented: pr.number, warning: null };
  } catch (error) {
    return { commented: null, warning: describeGitHubError(error, 'commenting the result on the merged pull request') };
  }
}
