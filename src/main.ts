import * as core from '@actions/core';
import { context } from '@actions/github';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { getSettings, type Settings } from './inputs.js';
import { createAwsClients, type AwsClients } from './fleet/aws.js';
import { describeKubeError, eksKubeApi, eksToken, kubeconfigApi, type KubeApi } from './fleet/kube.js';
import type { ClusterState } from './fleet/types.js';
import { createGitHub, currentRepo, describeGitHubError, repoFileReader, type GitHub } from './repo/github.js';
import { runCheck } from './check.js';
import { runUpgrade } from './upgrade.js';
import { renderLogLine, renderMatrix, renderPauses, renderSummary, reportOutput } from './report/render.js';
import { BODY_BUDGET_CHARS, fitMarkdown } from './report/markdown.js';
import { renderUpgradeSummary, UPGRADE_COMMENT_MARKER } from './report/upgrade.js';
import { NEEDS_UPGRADE } from './report/types.js';
import { readBlockers, type PauseRecord } from './effects/upgrade.js';
import { propose, type LookForBlockers } from './effects/propose.js';
import { readClusterEndpoint, readRegion } from './fleet/discover.js';
import { assumeRoleProvider, credentialOutlook } from './fleet/credentials.js';
import { handlePauses, type PauseDeps } from './effects/pauses.js';

/** AWS calls in flight at once, across regions. */
const CONCURRENCY = 10;

/** The clients of the run, made once and passed in. */
export interface Clients {
  clientsFor: (region: string) => AwsClients;
  github: GitHub | null;
}

export function makeClients(settings: Settings): Clients {
  const made = new Map<string, AwsClients>();
  // With role-to-assume, one provider for every client: the action renews the session itself.
  const credentials = settings.role
    ? assumeRoleProvider(settings.role, { getIdToken: (audience) => core.getIDToken(audience), mask: (secret) => core.setSecret(secret), region: settings.regions[0] as string })
    : undefined;
  return {
    clientsFor: (region) => {
      if (!made.has(region)) made.set(region, createAwsClients(region, credentials));
      return made.get(region) as AwsClients;
    },
    github: settings.githubToken ? createGitHub(settings.githubToken, (line) => core.info(line)) : null,
  };
}

/** Kubernetes access to a cluster: the kubeconfig input, else DescribeCluster and an EKS token. */
export function kubeAccess(settings: Settings, clientsFor: (region: string) => AwsClients): (cluster: ClusterState) => KubeApi {
  const masked = new Set<string>();
  return (cluster) => {
    if (settings.kubeconfig) return kubeconfigApi(settings.kubeconfig, cluster.name);
    if (!cluster.endpoint) throw new Error(`DescribeCluster gave no endpoint for ${cluster.name}`);
    const { eks } = clientsFor(cluster.region);
    return eksKubeApi(cluster.name, { server: cluster.endpoint, ...(cluster.caData ? { caData: cluster.caData } : {}) }, async () => {
      const token = await eksToken(cluster.name, cluster.region, eks.config.credentials);
      if (!masked.has(token.token)) core.setSecret(token.token);
      masked.add(token.token);
      return token;
    });
  };
}

async function check(settings: Settings, clients: Clients): Promise<void> {
  const report = await core.group(`Checking ${settings.clusters.join(', ') || 'every cluster'} in ${settings.regions.join(', ')}`, async () => {
    const r = await runCheck(settings, {
      clientsFor: clients.clientsFor,
      now: () => new Date(),
      concurrency: CONCURRENCY,
      // Read-only: pauses are reported, never restored, by the check.
      lookForPauses: async (clusters) => {
        const unchecked: string[] = [];
        const found = await handlePauses(clusters, settings.upgrade.clusterAutoscaler, 'report', false, pauseDeps(settings, clients), (c, reason) => unchecked.push(`${c.name} (${c.region}): ${reason}`));
        return { found, unchecked };
      },
    });
    for (const ng of r.nodegroups) core.info(renderLogLine(ng));
    for (const p of r.pauses) (p.stale ? core.warning : core.info)(`${p.region}/${p.cluster}: cluster-autoscaler ${p.deployment} ${p.note}${p.stale ? ': stale, its job is gone; the next upgrade run restores it, or run command: restore' : ''}`);
    return r;
  });

  if (settings.onDrift !== 'none' && clients.github) {
    report.proposals = await core.group(`Proposing the upgrades (${settings.onDrift})`, async () => {
      const proposals = await propose(report, settings, clients.github as GitHub, currentRepo(), blockerLook(settings, clients));
      for (const p of proposals) {
        core.info(`${p.region}/${p.cluster}: ${p.kind} ${p.result}${p.number ? ` #${p.number}` : ''}: ${p.reason}`);
        for (const w of p.warnings) core.warning(`${p.region}/${p.cluster}: ${p.kind}${p.number ? ` #${p.number}` : ''}: ${w}`);
      }
      return proposals;
    });
  }

  // Outputs and summary first: a failing step still leaves its report behind.
  // Only pull requests and issues that are open now: never one a person closed.
  const opened = report.proposals.filter((p) => p.open);
  const numbers = (kind: string) => opened.filter((p) => p.kind === kind);
  core.setOutput('pull-request-number', numbers('pull-request').map((p) => p.number).join(','));
  core.setOutput('pull-request-url', numbers('pull-request').map((p) => p.url).join(','));
  core.setOutput('issue-number', numbers('issue').map((p) => p.number).join(','));
  core.setOutput('report', reportOutput(report));
  core.setOutput('report-file', writeReportFile(report));
  core.setOutput('drift', String(report.drift));
  core.setOutput('matrix', renderMatrix(report));
  await core.summary.addRaw(renderSummary(report)).write();

  const errors = report.nodegroups.filter((n) => n.status === 'error');
  if (report.clusters.length === 0) {
    core.setFailed(`no EKS clusters found in ${settings.regions.join(', ')}: check the regions input and the account of the AWS credentials`);
    return;
  }
  const problems = report.proposals.filter((p) => p.result === 'error').map((p) => `${p.region}/${p.cluster}: ${p.reason}`);
  if (errors.length > 0) {
    const names = errors.map((e) => (e.nodegroup ? `${e.cluster}/${e.nodegroup}` : e.cluster)).join(', ');
    problems.unshift(`${errors.length} could not be checked (${names}): see the report; the rest were checked.`);
  }
  if (problems.length > 0) {
    core.setFailed(problems.join('\n'));
  } else if (settings.failOnDrift && report.drift) {
    const drifted = report.nodegroups.filter((n) => NEEDS_UPGRADE.has(n.status)).length;
    core.setFailed(`${drifted} node group(s) should be upgraded, and fail-on-drift is true.`);
  }
}

/**
 * The upgrade's PodDisruptionBudget pre-flight, run from the check for the pull request's description.
 * Best effort: a check role without Kubernetes access gets the reason in the description instead.
 */
function blockerLook(settings: Settings, clients: Clients): LookForBlockers {
  const kubeFor = kubeAccess(settings, clients.clientsFor);
  return async (region, name, nodegroups) => {
    try {
      const cluster = settings.kubeconfig ? { name, region, nodegroups: [] } : await readClusterEndpoint(clients.clientsFor(region).eks, region, name);
      const blockers = await readBlockers(kubeFor(cluster), nodegroups);
      return { ran: true, blockers };
    } catch (error) {
      return { ran: false, reason: describeKubeError(error) };
    }
  };
}

async function upgrade(settings: Settings, clients: Clients): Promise<void> {
  const repo = currentRepo();
  const sha = context.sha;
  // Every pause in force, for the post step: saved whole each time one starts or ends.
  const pauses = new Map<string, PauseRecord>();
  const report = await runUpgrade(settings, {
    clientsFor: clients.clientsFor,
    kubeFor: kubeAccess(settings, clients.clientsFor),
    readFile: repoFileReader(clients.github, repo, sha, process.env.GITHUB_WORKSPACE),
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
  if (clients.github && context.eventName === 'push' && !report.dryRun && report.nodegroups.some((n) => n.updateId)) {
    await commentOnMergedPullRequest(clients.github, sha, summary);
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

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The whole report as a JSON file in the job's temporary directory (RUNNER_TEMP), one per step, for
 * actions/upload-artifact or a later step: unlike the `report` output it has no size limit.
 */
function writeReportFile(report: object): string {
  const dir = join(process.env.RUNNER_TEMP || tmpdir(), 'eks-ami-drift');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `report-${(process.env.GITHUB_ACTION || String(process.pid)).replace(/[^\w.-]/g, '_')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  return file;
}

export function pauseDeps(settings: Settings, clients: Clients): PauseDeps {
  return { eks: (region) => clients.clientsFor(region).eks, kubeFor: kubeAccess(settings, clients.clientsFor), now: Date.now, sleep };
}

/**
 * `command: restore`: restores the cluster-autoscaler pauses of the clusters named (every cluster of
 * the regions when none is), stale or not, but not while a node group update of that cluster is in
 * progress unless `force`. For a workflow_dispatch button when a job was lost.
 */
async function restore(settings: Settings, clients: Clients): Promise<void> {
  const limit = pLimit(CONCURRENCY);
  const clusters = (
    await Promise.all(settings.regions.map((region) => readRegion(clients.clientsFor(region).eks, { region, clusters: settings.clusters, nodegroups: [] }, limit)))
  ).flat();
  const problems: string[] = clusters.filter((c) => c.error).map((c) => `${c.name} (${c.region}): ${c.error}`);
  const pauses = await handlePauses(clusters, settings.upgrade.clusterAutoscaler, 'restore', settings.upgrade.force, pauseDeps(settings, clients), (c, reason) =>
    problems.push(`${c.name} (${c.region}): cannot read its Kubernetes API: ${reason}`),
  );
  for (const p of pauses) (p.outcome === 'restored' ? core.info : core.warning)(`${p.region}/${p.cluster}: cluster-autoscaler ${p.deployment} ${p.note}`);
  const read = clusters.filter((c) => !c.error).length;
  if (pauses.length === 0 && problems.length === 0) core.info(`no cluster-autoscaler is paused in the ${read} cluster(s) read: nothing to restore`);
  core.setOutput('pauses', JSON.stringify(pauses));
  const headline =
    pauses.length === 0 ? `✅ No cluster-autoscaler was paused in the ${read} cluster(s) read.` : `${pauses.filter((p) => p.outcome === 'restored').length} of ${pauses.length} paused cluster-autoscaler(s) restored.`;
  await core.summary.addRaw(['## cluster-autoscaler restore', '', headline, '', ...renderPauses(pauses, problems)].join('\n')).write();
  problems.push(...pauses.filter((p) => p.outcome === 'left' || p.outcome === 'restore-failed').map((p) => `${p.cluster} (${p.region}): ${p.note}`));
  if (clusters.length === 0) problems.push(`no EKS clusters found in ${settings.regions.join(', ')}`);
  if (problems.length > 0) core.setFailed(problems.join('\n'));
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

/** The main step. One `setFailed`, here or in the command; everything below throws or returns. */
export async function run(): Promise<void> {
  try {
    const settings = getSettings();
    const clients = makeClients(settings);
    if (settings.command === 'upgrade') await upgrade(settings, clients);
    else if (settings.command === 'restore') await restore(settings, clients);
    else await check(settings, clients);
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}
