import * as core from '@actions/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckReport } from '../model/check-report.js';
import type { UpgradeReport } from '../model/upgrade-report.js';
import type { RestoreResult } from '../model/pause.js';
import { renderMatrix, renderSummary, reportOutput } from '../report/check-summary.js';
import { renderRestoreSummary } from '../report/restore-summary.js';

/*
 * Each command's outputs and job summary, rendered from its report. Written before the step fails, so
 * a failing step still leaves its report behind.
 */

export async function writeCheckOutputs(report: CheckReport): Promise<void> {
  // Only pull requests and issues that are open now: never one a person closed.
  const opened = report.proposals.filter((p) => p.open);
  const of = (kind: string) => opened.filter((p) => p.kind === kind);
  core.setOutput(
    'pull-request-number',
    of('pull-request')
      .map((p) => p.number)
      .join(','),
  );
  core.setOutput(
    'pull-request-url',
    of('pull-request')
      .map((p) => p.url)
      .join(','),
  );
  core.setOutput(
    'issue-number',
    of('issue')
      .map((p) => p.number)
      .join(','),
  );
  core.setOutput('report', reportOutput(report));
  core.setOutput('report-file', writeReportFile(report));
  core.setOutput('drift', String(report.drift));
  core.setOutput('matrix', renderMatrix(report));
  await core.summary.addRaw(renderSummary(report)).write();
}

export async function writeUpgradeOutputs(report: UpgradeReport, summary: string): Promise<void> {
  core.setOutput('upgrades', JSON.stringify(report));
  await core.summary.addRaw(summary).write();
}

export async function writeRestoreOutputs(result: RestoreResult): Promise<void> {
  core.setOutput('pauses', JSON.stringify(result.pauses));
  await core.summary.addRaw(renderRestoreSummary(result)).write();
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
