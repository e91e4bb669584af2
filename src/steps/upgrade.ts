import * as core from '@actions/core';
import { context } from '@actions/github';
import type { Settings } from '../inputs.js';
import { CONCURRENCY, sleep, type Clients } from '../clients.js';
import { loadAwsClients } from '../fleet/aws.js';
import { credentialOutlook } from '../fleet/credentials.js';
import { currentRepo, describeGitHubError, repoFileReader, type GitHub } from '../repo/github.js';
import { runUpgrade } from '../upgrade.js';
import { BODY_BUDGET_CHARS, fitMarkdown } from '../report/markdown.js';
import { renderUpgradeSummary, UPGRADE_COMMENT_MARKER } from '../report/upgrade.js';
import type { PauseRecord } from '../effects/upgrade.js';

/** `command: upgrade`: the manifest's pins applied, then the result in outputs, summary and on the merged pull request. */
export async function upgrade(settings: Settings, clients: Clients): Promise<void> {
  const repo = currentRepo();
  const sha = context.sha;
  const [github, kubeFor] = await Promise.all([clients.github(), clients.kube(), loadAwsClients()]);
  // Every pause in force, for the post step: saved whole each time one starts or ends.
  const pauses = new Map<string, PauseRecord>();
  const report = await runUpgrade(settings, {
    clientsFor: clients.clientsFor,
    kubeFor,
    readFile: repoFileReader(github, repo, sha, process.env.GITHUB_WORKSPACE),
    sha,
    concurrency: CONCURRENCY,
    credentials: credentialOutlook(settings.role, process.env, Date.now()),
    now: Date.now,
    sleep,
    log: (line) => core.info(line),
    warn: (line) => core.warning(line),
    recordPause: (cluster, pause) => {
      if (pause) pauses.set(`${cluster.region}/${cluster.name}`, pause);
      else pauses.delete(`${cluster.region}/${cluster.name}`);
      core.saveState('pauses', JSON.stringify([...pauses.values()]));
    },
  });

  const summary = renderUpgradeSummary(report);
  core.setOutput('upgrades', JSON.stringify(report));
  await core.summary.addRaw(summary).write();
  if (github && context.eventName === 'push' && !report.dryRun && report.nodegroups.some((n) => n.updateId)) {
    await commentOnMergedPullRequest(github, sha, summary);
  }
  if (!report.ok) {
    const bad = report.nodegroups.filter((n) => !['upgraded', 'up-to-date', 'skipped', 'planned'].includes(n.result));
    core.setFailed(
      report.dryRun
        ? `pre-flight failed: ${bad.map((n) => `${n.cluster}/${n.nodegroup}: ${n.reason}`).join('; ')}`
        : `${bad.length} node group(s) not upgraded: ${bad.map((n) => `${n.cluster}/${n.nodegroup} ${n.result}: ${n.reason}`).join('; ')}`,
    );
  }
}

/** Reports back on the pull request whose merge triggered the run. A failure here is a warning. */
async function commentOnMergedPullRequest(github: GitHub, sha: string, summary: string): Promise<void> {
  const repo = currentRepo();
  try {
    const { data } = await github.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: sha });
    const pr = data.find((p) => p.merged_at || p.state === 'closed') ?? data[0];
    if (!pr) return;
    const body = fitMarkdown(`${UPGRADE_COMMENT_MARKER}\n${summary}`, BODY_BUDGET_CHARS, "Shortened to GitHub's 65,536-character comment limit: the whole result is in the job summary and the `upgrades` output.");
    await github.rest.issues.createComment({ ...repo, issue_number: pr.number, body });
    core.info(`commented on pull request #${pr.number}`);
  } catch (error) {
    core.warning(describeGitHubError(error, 'commenting the result on the merged pull request'));
  }
}
