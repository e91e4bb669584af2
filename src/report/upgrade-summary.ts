import type { UpgradeReport } from '../model/upgrade-report.js';
import type { NodegroupUpgrade } from '../model/upgrade-report.js';
import { UNHEALTHY_TAG, unhealthyParameter } from '../model/fleet.js';
import { formatDuration } from '../decision/duration.js';
import { expectedMinutes, rolloutText } from '../decision/rollout.js';
import { cell } from './markdown.js';
import { renderPauses } from './check-summary.js';

const ICON: Record<NodegroupUpgrade['result'], string> = {
  upgraded: '✅',
  unhealthy: '🩺',
  failed: '❌',
  'timed-out': '⌛',
  blocked: '⛔',
  'not-started': '⏸️',
  planned: '📝',
  'up-to-date': '✅',
  skipped: '➖',
};

/** A cluster as the tables name it: with `accounts`, under its account (two accounts may each have a cluster of one name). */
const clusterOf = (row: { account?: string; cluster: string }) => (row.account ? `${row.account}/${row.cluster}` : row.cluster);

/** A mermaid gantt chart of the phases each node group went through (GitHub renders it). */
function timeline(report: UpgradeReport): string {
  const timed = report.nodegroups.filter((n) => n.phases.length > 0 && n.endedAt);
  if (timed.length === 0) return '';
  const lines = ['```mermaid', 'gantt', '  title Node group updates (phases as observed)', '  dateFormat X', '  axisFormat %H:%M'];
  for (const n of timed) {
    lines.push(`  section ${clusterOf(n)}/${n.nodegroup}`);
    n.phases.forEach((p, i) => {
      const start = Math.floor(Date.parse(p.at) / 1000);
      const end = Math.max(start + 1, Math.floor(Date.parse(n.phases[i + 1]?.at ?? (n.endedAt as string)) / 1000));
      lines.push(`  ${p.phase} :${n.result === 'upgraded' ? 'done' : i === n.phases.length - 1 ? 'crit' : 'done'}, ${start}, ${end}`);
    });
  }
  lines.push('```');
  return lines.join('\n');
}

/**
 * The upgrade's summary: the job summary and the comment on the merged pull request are this same
 * text, so they never disagree.
 */
export function renderUpgradeSummary(report: UpgradeReport): string {
  const counts = new Map<string, number>();
  for (const n of report.nodegroups) counts.set(n.result, (counts.get(n.result) ?? 0) + 1);
  const tally = [...counts].map(([r, c]) => `${ICON[r as NodegroupUpgrade['result']]} ${c} ${r}`).join(' · ');
  const unhealthy = report.nodegroups.filter((n) => n.result === 'unhealthy');
  // EKS's update when each had one (an update id); a self-managed replacement or Karpenter's drift has none.
  const rolled = unhealthy.every((n) => n.updateId) ? "EKS's update" : 'The roll';
  const headline =
    unhealthy.length > 0
      ? `🩺 ${rolled} of ${unhealthy.map((n) => `${n.cluster}/${n.nodegroup}`).join(', ')} succeeded, ` +
        'but the workloads on it did not come back healthy: ' +
        `no further node group of ${[...new Set(unhealthy.map((n) => n.cluster))].join(', ')} was started.`
      : report.dryRun
        ? report.ok
          ? '📝 Dry run: this is what an upgrade would do. Nothing was changed.'
          : '⛔ Dry run: pre-flight found problems. Nothing was changed.'
        : report.ok
          ? '✅ Every planned node group update succeeded.'
          : '❌ Not every planned node group update succeeded: see below.';

  const rows = report.nodegroups.map((n) => {
    const result = `${ICON[n.result]} ${n.result}${n.resumed ? ' (resumed)' : ''}`;
    const duration = n.durationMs !== null ? formatDuration(n.durationMs) : '—';
    const versions = `${cell(n.from?.releaseVersion)} | ${cell(n.to?.releaseVersion)}`;
    return `| ${cell(clusterOf(n))} | ${cell(n.nodegroup)} | ${versions} | ${result} | ${duration} | ${cell(n.reason)} |`;
  });
  const parts = [
    '## EKS node group upgrade',
    '',
    headline,
    '',
    ...report.warnings.flatMap((w) => [`> [!WARNING]\n> ${cell(w)}`, '']),
    ...report.autoscalers
      .filter((a) => a.outcome === 'held')
      .flatMap((a) => [`> [!IMPORTANT]\n> ${cell(clusterOf(a))}: cluster-autoscaler ${cell(a.deployment)} stays paused: ${cell(a.note)}`, '']),
    ...unhealthy.flatMap((n) => renderUnhealthy(n, report.manifestDir)),
    ...renderPauses(report.pauses),
    tally || 'Nothing to do.',
    '',
    '| Cluster | Node group | From | To | Result | Duration | Details |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ];

  // How each update rolls, from its node group's update settings: before anything rolls, in a dry run too.
  const rolling = report.plan.filter((p) => p.action === 'update' && p.updateSettings);
  if (rolling.length > 0) {
    parts.push(
      '',
      '<details><summary>How the updates roll</summary>',
      '',
      '| Cluster | Node group | Nodes | Expected | How it rolls |',
      '|---|---|---|---|---|',
    );
    for (const p of rolling)
      parts.push(
        `| ${cell(clusterOf(p))} | ${cell(p.nodegroup)} | ${cell(p.nodes)} | ~${expectedMinutes(p.updateSettings, p.nodes)} min ` +
          `| ${cell(rolloutText(p.updateSettings, p.nodes))} |`,
      );
    parts.push('', '</details>');
  }

  if (report.autoscalers.length > 0) {
    parts.push('', '### cluster-autoscaler', '', '| Cluster | Deployment | Replicas | Paused | Restored | Outcome |', '|---|---|---|---|---|---|');
    for (const a of report.autoscalers) {
      const paused = a.pausedAt && a.restoredAt ? formatDuration(Date.parse(a.restoredAt) - Date.parse(a.pausedAt)) : a.pausedAt ? 'yes' : '—';
      const outcome = `${a.outcome}${a.note ? `: ${cell(a.note)}` : ''}${renderReverts(a)}`;
      parts.push(`| ${cell(clusterOf(a))} | ${cell(a.deployment)} | ${cell(a.replicas)} | ${paused} | ${cell(a.restoredAt)} | ${outcome} |`);
    }
  }

  const failures = report.nodegroups.filter((n) => n.errors.length > 0 || n.blockers.length > 0);
  for (const n of failures) {
    parts.push('', `### ${clusterOf(n)}/${n.nodegroup}: ${n.result}`, '');
    for (const e of n.errors)
      parts.push(
        `- \`${e.errorCode}\`: ${cell(e.errorMessage)}${e.resourceIds.length ? ` (resources: ${e.resourceIds.map((r) => `\`${r}\``).join(', ')})` : ''}`,
      );
    for (const b of n.blockers) parts.push(`- Blocking: ${cell(b)}`);
    if (n.errors.some((e) => e.errorCode === 'PodEvictionFailure')) {
      parts.push(
        '',
        'EKS could not drain a node within 15 minutes. ' +
          'Relax the PodDisruptionBudget named above (or scale its workload up) and re-run, or re-run with `force: true` to evict regardless.',
      );
    }
  }

  const chart = timeline(report);
  if (chart) parts.push('', '### Timeline', '', chart);
  parts.push('');
  return parts.join('\n');
}

/** One sentence on a pause undone during the update: who, what was done, and how long cluster-autoscaler ran. */
function renderReverts(a: UpgradeReport['autoscalers'][number]): string {
  const reverts = a.reverts ?? [];
  if (reverts.length === 0) return '';
  const during = (action: string) => [...new Set(reverts.filter((r) => r.action === action).map((r) => r.nodegroup))].join(', ');
  const again = during('re-paused');
  const left = during('left-running');
  const failed = during('re-pause-failed');
  const parts = [
    `undone ${reverts.length} time(s) by ${[...new Set(reverts.map((r) => r.by))].join(', ')}`,
    ...(again ? [`paused again during ${again}`] : []),
    ...(left ? [`then left running during ${left}`] : []),
    ...(failed ? [`could not pause again during ${failed}`] : []),
  ];
  return `. ${cell(parts.join('; '))}; cluster-autoscaler ran ${formatDuration(a.runningMs ?? 0)} in all during the update`;
}

/**
 * What did not come back after a node group's update, and what a person can do about it. EKS's API
 * reference (UpdateNodegroupVersion): "You cannot roll back a node group to an earlier Kubernetes
 * version or AMI version"; CreateNodegroup accepts any release version since 2021
 * (aws/containers-roadmap#810), so the way back for a release is a new node group at the old release.
 */
function renderUnhealthy(n: NodegroupUpgrade, manifestDir: string): string[] {
  const h = n.health;
  const label = `${clusterOf(n)}/${n.nodegroup}`;
  const lines = [`### 🩺 ${label}: unhealthy after the update to ${n.to?.releaseVersion ?? 'its target'}`, ''];
  if (h) {
    lines.push(`The health gate watched ${h.watched} workload(s) for ${formatDuration(h.durationMs)}.`, '');
    if (h.workloads.length > 0) {
      lines.push('| Workload | Ready | Desired | Before the update |', '|---|---|---|---|');
      for (const w of h.workloads)
        lines.push(`| ${w.kind} ${cell(`${w.namespace}/${w.name}`)} | ${w.ready} | ${w.desired} | ${w.before.ready}/${w.before.desired} |`);
      lines.push('');
    }
    if (h.pods.length > 0) {
      lines.push('| Pod | Reason | Restarts (during the gate) | Events |', '|---|---|---|---|');
      for (const p of h.pods)
        lines.push(
          `| ${cell(`${p.namespace}/${p.name}`)} | ${cell(p.reason ?? 'restarting')} | ${p.restarts} (${p.restartsDuringGate}) ` +
            `| ${cell(p.events.join(' · ') || '—')} |`,
        );
      lines.push('');
    }
    for (const problem of h.nodes) lines.push(`- ${cell(problem)}`);
    if (h.nodes.length > 0) lines.push('');
  }
  const from = n.from?.imageId ?? n.from?.releaseVersion;
  const manifest = `${manifestDir}/${n.account ? `${n.account}/` : ''}${n.region}/${n.cluster}.yaml`;
  lines.push(
    '**What you can do**',
    '',
    `1. Look at the pods named above: \`kubectl -n <namespace> describe pod <pod>\` and \`kubectl -n <namespace> logs <pod> --previous\`.`,
    `2. Keep this release off the rest of the fleet: pin \`${from ?? 'the previous release'}\` back for the node groups not yet upgraded in \`${manifest}\`, ` +
      `and hold the pull requests of other clusters for ${n.to?.releaseVersion ?? 'this release'}.`,
    ...(n.wayBack
      ? [`3. To go back: ${n.wayBack}`]
      : [
          n.to?.imageId
            ? `3. To go back: make a launch template version naming the previous image \`${from}\` and update the node group to it ` +
              `(\`aws eks update-nodegroup-version --cluster-name ${n.cluster} --nodegroup-name ${n.nodegroup} ` +
              '--launch-template id=<template>,version=<that version>`).'
            : '3. To go back: EKS does not move a managed node group to an older AMI release ' +
              '("You cannot roll back a node group to an earlier Kubernetes version or AMI version", UpdateNodegroupVersion). ' +
              `Create a node group at \`${from}\` (\`aws eks create-nodegroup ... --release-version ${from}\`), then drain and delete ${n.nodegroup}.`,
          `4. Once it is healthy again, remove the mark that holds further upgrades of ${n.cluster}, its SSM parameter and its tag: ` +
            `\`aws ssm delete-parameter --region ${n.region} --name ${h?.parameter ?? unhealthyParameter(n.cluster, n.nodegroup)}\` and ` +
            `\`aws eks untag-resource --resource-arn ${h?.arn ?? '<node group ARN>'} --tag-keys ${UNHEALTHY_TAG}\`, or re-run with \`force: true\`. ` +
            'Removing the tag alone does not lift it (an infrastructure-as-code apply may remove the tag; the parameter stays).' +
            `${h?.recordError ? ` (Not all of the mark could be written: ${cell(h.recordError)}.)` : ''}`,
        ]),
    '',
  );
  return lines;
}

/** The marker that tells a comment of this action's upgrade apart from others. */
export const UPGRADE_COMMENT_MARKER = '<!-- eks-ami-drift:upgrade -->';
