import type { styleText } from 'node:util';
import type { CheckReport, NodegroupReport } from '../model/check-report.js';
import type { UpgradeReport } from '../model/upgrade-report.js';

/* The command line's tables: what a terminal shows of a report. */

export type Paint = (style: Parameters<typeof styleText>[0], text: string) => string;
const STATUS_STYLE: Record<string, Parameters<typeof styleText>[0]> = {
  'up-to-date': 'green',
  drift: 'yellow',
  'behind-control-plane': 'yellow',
  soaking: 'cyan',
  waiting: 'cyan',
  error: 'red',
  unsupported: 'red',
  unknown: 'magenta',
  custom: 'gray',
  'tracks-latest': 'yellow',
  'auto-mode': 'gray',
};

/** Columns padded to their widest cell. */
function columns(rows: string[][], paintCell: (row: number, col: number, text: string) => string = (_r, _c, t) => t): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r, i) =>
    r
      .map((cell, c) => paintCell(i, c, c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** The check on a terminal: one table per cluster, then the totals. */
export function renderCheckTable(report: CheckReport, paint: Paint): string {
  const lines: string[] = [''];
  for (const c of report.clusters) {
    const entries = report.nodegroups.filter((n) => n.cluster === c.cluster && n.region === c.region);
    lines.push(paint('bold', `${c.cluster} (${c.region}) · Kubernetes ${c.controlPlaneVersion ?? '?'}${c.stage ? ` · stage ${c.stage}` : ''}`));
    if (c.error) lines.push(`  ${paint('red', `error: ${c.error}`)}`);
    const rows = [['  node group', 'AMI type', 'k8s', 'current', 'target', 'status', 'why']];
    for (const e of entries.filter((n) => n.nodegroup !== null))
      rows.push([`  ${e.nodegroup}`, e.amiType ?? '-', e.kubernetesVersion ?? '-', e.releaseVersion ?? e.imageId ?? '-', target(e), e.status, e.reason]);
    lines.push(...columns(rows, (r, col, text) => (r === 0 ? paint('dim', text) : col === 5 ? paint(STATUS_STYLE[text.trim()] ?? 'reset', text) : text)), '');
  }
  const counts = Object.entries(report.counts)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  lines.push(`${report.nodegroups.filter((n) => n.nodegroup !== null).length} node group(s) in ${report.clusters.length} cluster(s): ${counts || 'none'}`, '');
  return lines.join('\n');
}

function target(e: NodegroupReport): string {
  return e.targetReleaseVersion ?? e.latestReleaseVersion ?? e.latestImageId ?? '-';
}

/** The upgrade's result on a terminal: one row per node group. */
export function renderUpgradeTable(report: UpgradeReport, paint: Paint): string {
  const rows = [['cluster/node group', 'from', 'to', 'result', 'why']];
  for (const n of report.nodegroups) rows.push([`${n.cluster}/${n.nodegroup}`, n.from?.releaseVersion ?? '-', n.to?.releaseVersion ?? '-', n.result, n.reason]);
  const style = (t: string) => (['upgraded', 'up-to-date'].includes(t.trim()) ? 'green' : ['skipped', 'planned'].includes(t.trim()) ? 'reset' : 'red');
  return [
    '',
    ...columns(rows, (r, col, text) => (r === 0 ? paint('dim', text) : col === 3 ? paint(style(text), text) : text)),
    `${report.ok ? 'ok' : 'not ok'}${report.dryRun ? ' (dry run)' : ''}`,
    '',
  ].join('\n');
}
