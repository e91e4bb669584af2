import * as core from '@actions/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../inputs.js';
import { CONCURRENCY, pauseDeps, type Clients } from '../clients.js';
import { runCheck } from '../check.js';
import { renderLogLine, renderMatrix, renderSummary, reportOutput } from '../report/render.js';
import { NEEDS_UPGRADE } from '../report/types.js';
import { describeKubeError } from '../fleet/kube-api.js';
import { readClusterEndpoint } from '../fleet/discover.js';
import type { GitHub } from '../repo/github.js';
import type { LookForBlockers } from '../effects/propose.js';

/** `command: check`: the report, in outputs and the job summary, and with `on-drift` the proposals. */
export async function check(settings: Settings, clients: Clients): Promise<void> {
  const report = await core.group(`Checking ${settings.clusters.join(', ') || 'every cluster'} in ${settings.regions.join(', ')}`, async () => {
    const r = await runCheck(settings, {
      clientsFor: clients.clientsFor,
      now: () => new Date(),
      concurrency: CONCURRENCY,
      prefetch: () => {
        Promise.all([import('../effects/pauses.js'), import('../fleet/kube.js')]).catch(() => undefined);
      },
      // Read-only: pauses are reported, never restored, by the check.
      lookForPauses: async (clusters) => {
        const unchecked: string[] = [];
        if (clusters.length === 0) return { found: [], unchecked };
        const { handlePauses } = await import('../effects/pauses.js');
        const found = await handlePauses(clusters, settings.upgrade.clusterAutoscaler, 'report', false, await pauseDeps(settings, clients), (c, reason) => unchecked.push(`${c.name} (${c.region}): ${reason}`));
        return { found, unchecked };
      },
    });
    for (const ng of r.nodegroups) core.info(renderLogLine(ng));
    for (const p of r.pauses) (p.stale ? core.warning : core.info)(`${p.region}/${p.cluster}: cluster-autoscaler ${p.deployment} ${p.note}${p.stale ? ': stale, its job is gone; the next upgrade run restores it, or run command: restore' : ''}`);
    return r;
  });

  const github = settings.onDrift !== 'none' ? await clients.github() : null;
  if (github) {
    report.proposals = await core.group(`Proposing the upgrades (${settings.onDrift})`, async () => {
      const [{ propose }, { currentRepo }] = await Promise.all([import('../effects/propose.js'), import('../repo/github.js')]);
      const proposals = await propose(report, settings, github, currentRepo(), blockerLook(settings, clients));
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
  return async (region, name, nodegroups) => {
    try {
      const [kubeFor, { readBlockers }] = await Promise.all([clients.kube(), import('../effects/upgrade.js')]);
      const cluster = settings.kubeconfig ? { name, region, nodegroups: [] } : await readClusterEndpoint(clients.clientsFor(region).eks, region, name);
      const blockers = await readBlockers(kubeFor(cluster), nodegroups);
      return { ran: true, blockers };
    } catch (error) {
      return { ran: false, reason: describeKubeError(error) };
    }
  };
}

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
