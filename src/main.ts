import * as core from '@actions/core';
import { getSettings } from './inputs.js';
import { createAwsClients } from './fleet/aws.js';
import { runCheck, type CheckDeps } from './check.js';
import { renderLogLine, renderMatrix, renderSummary } from './report/render.js';
import { NEEDS_UPGRADE } from './report/types.js';

const defaultDeps: CheckDeps = { clientsFor: createAwsClients, now: () => new Date(), concurrency: 10 };

/** The main step. One `setFailed`, here; everything below throws or returns a report. */
export async function run(deps: CheckDeps = defaultDeps): Promise<void> {
  try {
    const settings = getSettings();
    const report = await core.group(`Checking ${settings.clusters.join(', ') || 'every cluster'} in ${settings.regions.join(', ')}`, async () => {
      const r = await runCheck(settings, deps);
      for (const ng of r.nodegroups) core.info(renderLogLine(ng));
      return r;
    });

    // Outputs and summary first: a failing step still leaves its report behind.
    core.setOutput('report', JSON.stringify(report));
    core.setOutput('drift', String(report.drift));
    core.setOutput('matrix', renderMatrix(report));
    await core.summary.addRaw(renderSummary(report)).write();

    const errors = report.nodegroups.filter((n) => n.status === 'error');
    if (errors.length > 0) {
      const names = errors.map((e) => (e.nodegroup ? `${e.cluster}/${e.nodegroup}` : e.cluster)).join(', ');
      core.setFailed(`${errors.length} could not be checked (${names}): see the report; the rest were checked.`);
    } else if (settings.failOnDrift && report.drift) {
      const drifted = report.nodegroups.filter((n) => NEEDS_UPGRADE.has(n.status)).length;
      core.setFailed(`${drifted} node group(s) should be upgraded, and fail-on-drift is true.`);
    }
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}
