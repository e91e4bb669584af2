import type { CheckReport, ClusterReport, NodegroupReport, NodegroupStatus } from '../model/check-report.js';
import { NEEDS_UPGRADE, STATUSES } from '../model/check-report.js';
import { bytes, cell, OUTPUT_BUDGET_BYTES, SUMMARY_BUDGET_BYTES } from './markdown.js';
import { rolloutText } from '../decision/rollout.js';
import { fanOut } from '../decision/matrix.js';
import type { PauseReport } from '../model/pause.js';

/** A cluster's region, and its account with `accounts`: how the tables say where a cluster is. */
const whereOf = (row: { account?: string; region: string }) => (row.account ? `${row.region} · ${row.account}` : row.region);

const PAUSE_ICON: Record<PauseReport['outcome'], string> = { reported: '⏸️', restored: '▶️', left: '⏸️', 'left-alone': '➖', 'restore-failed': '❌' };

/**
 * The cluster-autoscaler pauses found, one row each: the check's, the upgrade's and the restore
 * command's summaries show the same table.
 */
export function renderPauses(pauses: readonly PauseReport[], unchecked: readonly string[] = []): string[] {
  const parts: string[] = [];
  if (pauses.length > 0) {
    parts.push(
      '### cluster-autoscaler pauses',
      '',
      '| Cluster | Deployment | Recorded replicas | Paused since | Lease renewed | State | What happened |',
      '|---|---|---|---|---|---|---|',
      ...pauses.map((p) => {
        const state = p.stale ? '**stale**: its job is gone' : p.updateInProgress ? 'update in progress' : 'held by a running job';
        const happened = `${PAUSE_ICON[p.outcome]} ${p.outcome}: ${cell(p.note)}`;
        const since = `${cell(p.pausedAt)} | ${cell(p.leaseRenewedAt)}`;
        return `| ${cell(p.cluster)} (${whereOf(p)}) | ${cell(p.deployment)} | ${p.replicas} | ${since} | ${state} | ${happened} |`;
      }),
      '',
    );
    if (pauses.some((p) => p.stale && p.outcome === 'reported')) {
      parts.push(
        'A stale pause leaves the cluster without autoscaling. The next `upgrade` run restores it, or run `command: restore` for the cluster now.',
        '',
      );
    }
  }
  if (unchecked.length > 0) {
    parts.push(
      `<details><summary>Pauses not looked for in ${unchecked.length} cluster(s): the Kubernetes API could not be read</summary>\n\n` +
        `${unchecked.map((u) => `- ${cell(u)}`).join('\n')}\n\n</details>`,
      '',
    );
  }
  return parts;
}

/** Clusters whose Bottlerocket nodes could not be read: their in-place updates were not seen. */
function renderNodesUnchecked(unchecked: readonly string[]): string[] {
  if (unchecked.length === 0) return [];
  return [
    `<details><summary>Nodes not looked at in ${unchecked.length} cluster(s): Bottlerocket updates in place were not seen there ` +
      '(the node groups are compared by their release alone)</summary>\n\n' +
      `${unchecked.map((u) => `- ${cell(u)}`).join('\n')}\n\n</details>`,
    '',
  ];
}

/** Clusters whose Karpenter objects could not be read: their node classes are not in the report. */
function renderNodeClassesUnchecked(unchecked: readonly string[]): string[] {
  if (unchecked.length === 0) return [];
  return [
    `<details><summary>Karpenter node classes not looked at in ${unchecked.length} cluster(s): ` +
      'the check could not list EC2NodeClasses there (the RBAC is in docs/iam-and-rbac.md)</summary>\n\n' +
      `${unchecked.map((u) => `- ${cell(u)}`).join('\n')}\n\n</details>`,
    '',
  ];
}

const ICON: Record<NodegroupStatus, string> = {
  'up-to-date': '✅',
  drift: '⬆️',
  soaking: '⏳',
  waiting: '🚦',
  'behind-control-plane': '⚠️',
  unsupported: '⛔',
  custom: '➖',
  'tracks-latest': '🎯',
  'auto-mode': '🤖',
  unknown: '❓',
  error: '❌',
};

/** How a row that is not a managed node group is marked beside its name. */
const KIND_NOTE: Partial<Record<NodegroupReport['kind'], string>> = {
  'self-managed': ' · _self-managed_',
  karpenter: ' · _Karpenter EC2NodeClass_',
  'auto-mode': ' · _EKS Auto Mode NodePool_',
};

const NEEDS_LOOK: ReadonlySet<NodegroupStatus> = new Set(['error', 'behind-control-plane', 'drift', 'unsupported', 'unknown']);

/**
 * `{"include":[{"cluster":"prod","region":"us-east-1"}]}`: one job per cluster with strategy.matrix; past
 * GitHub's 256 jobs, batches `{"batch":"1/256","region":"us-east-1","clusters":"a,b"}` (../decision/matrix.ts).
 */
export function renderMatrix(report: CheckReport): string {
  return JSON.stringify(
    fanOut(report.clusters.filter((c) => !c.error).map((c) => ({ cluster: c.cluster, region: c.region, ...(c.account ? { account: c.account } : {}) }))),
  );
}

/**
 * The rollout at a glance: one row per stage, one column per AMI type; each cell says which trains its
 * node groups run (how many, since when) and what waits, for what.
 */
export function renderRollout(rollout: NonNullable<CheckReport['rollout']>): string[] {
  const amiTypes = [...new Set(rollout.cells.map((c) => c.amiType))].sort();
  if (amiTypes.length === 0) return [];
  const day = (iso: string | null) => (iso ? iso.slice(0, 10) : 'unknown');
  const text = (stage: string, amiType: string) => {
    const c = rollout.cells.find((x) => x.stage === stage && x.amiType === amiType);
    if (!c) return '—';
    const runs = c.trains.map((t) => `${t.train} ×${t.nodegroups} since ${day(t.since)}`).join('<br>');
    const waits = c.waitingFor.map((w) =>
      w.failed
        ? `🚦 ${c.waiting} waiting: ${w.train} failed earlier`
        : `🚦 ${c.waiting} waiting for ${w.train}${w.provenAt ? ` (proven ${day(w.provenAt)} at the earliest)` : ''}`,
    );
    return [runs || '—', ...(c.drift > 0 ? [`⬆️ ${c.drift} drift`] : []), ...waits].join('<br>');
  };
  return [
    `### Rollout: ${rollout.stages.join(' → ')}`,
    '',
    'A later stage gets a release train once every node group of its AMI type in the earlier stages ' +
      `has run it for ${rollout.stageSoak} without a failed update. ` +
      `Stage tag: \`${rollout.stageTag}\` (a cluster without it is in ${rollout.stages.at(-1)}).`,
    '',
    `| Stage | ${amiTypes.join(' | ')} |`,
    `|---|${amiTypes.map(() => '---').join('|')}|`,
    ...rollout.stages.map((stage) => `| **${cell(stage)}** | ${amiTypes.map((t) => text(stage, t)).join(' | ')} |`),
    '',
  ];
}

/** A row's cluster, with its account when there is one: two accounts may each have a cluster of one name in one region. */
const placeOf = (row: { account?: string; region: string; cluster: string }) => `${row.account ?? ''}/${row.region}/${row.cluster}`;

/** With `accounts`: each account, its role, and how many clusters it has, or why it could not be read. */
function renderAccounts(accounts: CheckReport['accounts']): string[] {
  if (!accounts) return [];
  return [
    '### Accounts',
    '',
    '| Account | Role | Clusters | |',
    '|---|---|---|---|',
    ...accounts.map((a) => `| ${a.account} | ${cell(a.role)} | ${a.error ? '—' : a.clusters} | ${a.error ? `❌ ${cell(a.error)}` : '✅ read'} |`),
    '',
  ];
}

/** The clusters whose Kubernetes version nears (within 90 days) or is past an end of support, by name. */
function renderSupportCalendar(clusters: readonly ClusterReport[]): string[] {
  const named = clusters.filter((c) => c.kubernetesSupport?.notice);
  if (named.length === 0) return [];
  return ['### Kubernetes support calendar', '', ...named.map((c) => `- ⏰ **${cell(c.cluster)}** (${whereOf(c)}): ${cell(c.kubernetesSupport!.notice)}`), ''];
}

function countsLine(counts: Partial<Record<NodegroupStatus, number>>): string {
  return STATUSES.filter((s) => (counts[s] ?? 0) > 0)
    .map((s) => `${ICON[s]} ${counts[s]} ${s}`)
    .join(' · ');
}

function clusterSection(cluster: ClusterReport, entries: NodegroupReport[]): string {
  const counts: Partial<Record<NodegroupStatus, number>> = {};
  for (const e of entries) counts[e.status] = (counts[e.status] ?? 0) + 1;
  const attention = entries.some((e) => NEEDS_LOOK.has(e.status));
  const version = cluster.controlPlaneVersion ? `Kubernetes ${cluster.controlPlaneVersion}` : 'version unknown';
  const stage = cluster.stage ? ` · stage ${cell(cluster.stage)}${cluster.stageNote ? ` (${cell(cluster.stageNote)})` : ''}` : '';
  const where = cluster.account ? `${cluster.region} · account ${cluster.account}` : cluster.region;
  const title = `<b>${cell(cluster.cluster)}</b> (${where}) · ${version}${stage} · ${countsLine(counts) || 'no node groups'}`;
  const rows = entries.map((e) => {
    const name = `${cell(e.nodegroup ?? '(cluster)')}${KIND_NOTE[e.kind] ?? ''}`;
    const inPlace = e.inPlace ? ` · 🔄 nodes run ${e.inPlace.osVersions.join(', ')} (updated in place)` : '';
    const current = `${cell(e.releaseVersion ?? e.imageId)}${inPlace}`;
    const latest = e.targetReleaseVersion ? `${cell(e.targetReleaseVersion)} (proven; latest ${cell(e.latestReleaseVersion)})` : cell(e.latestReleaseVersion);
    // How EKS will roll what should be upgraded: its strategy, how many at once, Capacity Blocks, node auto repair.
    const rolls = NEEDS_UPGRADE.has(e.status) && e.updateSettings ? ` · 🔁 ${rolloutText(e.updateSettings, e.nodes)}` : '';
    const status = `${ICON[e.status]} ${e.status}`;
    return `| ${name} | ${cell(e.amiType)} | ${cell(e.kubernetesVersion)} | ${current} | ${latest} | ${status} | ${cell(e.reason + rolls)} |`;
  });
  const table =
    rows.length > 0
      ? ['| Node group | AMI type | Kubernetes | Current | Latest | Status | Why |', '|---|---|---|---|---|---|---|', ...rows].join('\n')
      : '_No node groups._';
  return `<details${attention ? ' open' : ''}>\n<summary>${title}</summary>\n\n${table}\n\n</details>`;
}

/**
 * The job summary: the totals first, then one collapsible table per cluster, the ones that need a
 * look first and open, the rest closed, so 500 node groups stay readable.
 */
export function renderSummary(report: CheckReport): string {
  const byCluster = new Map<string, NodegroupReport[]>();
  for (const ng of report.nodegroups) {
    const key = placeOf(ng);
    byCluster.set(key, [...(byCluster.get(key) ?? []), ng]);
  }
  const rank = (c: ClusterReport) => {
    const entries = byCluster.get(placeOf(c)) ?? [];
    return Math.min(...entries.map((e) => STATUSES.indexOf(e.status)), STATUSES.length);
  };
  const clusters = [...report.clusters].sort((a, b) => rank(a) - rank(b));
  const total = report.nodegroups.filter((n) => n.nodegroup !== null).length;
  const upgrades = report.nodegroups.filter((n) => NEEDS_UPGRADE.has(n.status)).length;

  const unreadAccounts = (report.accounts ?? []).filter((a) => a.error);
  // Node groups that wait for the earlier stages, and those whose release has no image in their region yet.
  const waiting = report.nodegroups.filter((n) => n.status === 'waiting');
  const staged = waiting.filter((n) => n.proof).length;
  const waits = [
    staged > 0 ? `${staged} wait for the earlier stages` : '',
    waiting.length > staged ? `${waiting.length - staged} wait for their release's image in their region` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const headline =
    unreadAccounts.length > 0
      ? `❌ ${unreadAccounts.length} of ${report.accounts!.length} accounts could not be read` +
        `${report.counts.error > 0 ? `, and ${report.counts.error} could not be checked` : ''}: see Accounts.`
      : report.counts.error > 0
        ? `❌ ${report.counts.error} could not be checked.`
        : upgrades > 0
          ? `⬆️ ${upgrades} of ${total} node groups should be upgraded.` + `${waits ? ` 🚦 ${waits}.` : ''}`
          : waiting.length > 0 && staged === waiting.length
            ? `🚦 No drift to act on now: ${waiting.length} of ${total} node groups wait for a release the earlier stages have not proven yet.`
            : waiting.length > 0
              ? `🚦 No drift to act on now: of ${total} node groups, ${waits}.`
              : `✅ No drift: ${total} node groups checked.`;

  const proposals = report.proposals.filter((p) => p.result !== 'none');
  const accountsLine = report.accounts ? ` in ${report.accounts.length} account(s)` : '';
  const proposalRows = proposals.map(
    (p) => `| ${cell(p.cluster)} (${whereOf(p)}) | ${p.kind} | ${p.url ? `[#${p.number}](${p.url})` : '—'} | ${p.result} | ${cell(p.reason)} |`,
  );
  const proposalSection =
    proposalRows.length > 0
      ? ['### Pull requests and issues', '', '| Cluster | Kind | Link | What happened | Why |', '|---|---|---|---|---|', ...proposalRows, '']
      : [];
  const head = [
    '## EKS AMI drift',
    '',
    headline,
    '',
    `${countsLine(report.counts) || 'No node groups found.'}`,
    '',
    `${report.clusters.length} cluster(s)${accountsLine} in ${report.regions.join(', ')} · ` +
      `minimum release age ${report.minReleaseAge} · checked ${report.generatedAt}`,
    '',
    ...renderAccounts(report.accounts),
    ...renderSupportCalendar(report.clusters),
    ...(report.rollout ? renderRollout(report.rollout) : []),
    ...proposalSection,
    ...renderPauses(report.pauses, report.pausesUnchecked),
    ...renderNodesUnchecked(report.nodesUnchecked ?? []),
    ...renderNodeClassesUnchecked(report.nodeClassesUnchecked ?? []),
    ...(report.warnings?.length ? ['> [!WARNING]', ...report.warnings.map((w) => `> ${w}`), ''] : []),
  ].join('\n');

  // Every cluster gets a table, the ones that need a look first. A fleet too large for GitHub's 1 MiB
  // summary is shortened, visibly: clusters that need nothing collapse into one line, then the tables
  // that do not fit are left out (every node group stays in the report and report-file).
  const entriesOf = (c: ClusterReport) => byCluster.get(placeOf(c)) ?? [];
  const sections = clusters.map((c) => ({ c, text: clusterSection(c, entriesOf(c)) }));
  const full = [head, ...sections.map((x) => x.text), ''].join('\n');
  if (bytes(full) <= SUMMARY_BUDGET_BYTES) return full;

  const quiet = sections.filter((x) => !x.c.error && !entriesOf(x.c).some((e) => NEEDS_LOOK.has(e.status)));
  const loud = sections.filter((x) => !quiet.includes(x));
  const quietLine =
    quiet.length > 0
      ? `<details>\n<summary>✅ ${quiet.length} cluster(s) need nothing ` +
        `(${quiet.reduce((n, x) => n + entriesOf(x.c).length, 0)} node groups up to date, soaking or custom): ` +
        'their tables are collapsed into this line</summary>\n\n' +
        `${quiet.map((x) => `${cell(x.c.cluster)} (${whereOf(x.c)})`).join(' · ')}\n\n</details>`
      : '';
  const parts = [head];
  let size = bytes(head) + bytes(quietLine) + 2048;
  let left = 0;
  for (const x of loud) {
    if (size + bytes(x.text) + 1 > SUMMARY_BUDGET_BYTES) {
      left++;
      continue;
    }
    size += bytes(x.text) + 1;
    parts.push(x.text);
  }
  if (quietLine) parts.push(quietLine);
  parts.push(
    "> [!NOTE]\n> Shortened to stay under GitHub's 1 MiB job summary limit: " +
      `${quiet.length > 0 ? `${quiet.length} cluster(s) that need nothing are collapsed into one line` : ''}` +
      `${quiet.length > 0 && left > 0 ? '; ' : ''}` +
      `${left > 0 ? `${left} cluster table(s) that need a look were left out` : ''}` +
      '. Every node group is in the JSON file named by the `report-file` output.',
    '',
  );
  return parts.join('\n');
}

/**
 * The `report` output: the whole report when it fits GitHub's 1 MB job output limit; otherwise only
 * the node groups that need a look, marked `truncated` (the whole report is in report-file).
 */
export function reportOutput(report: CheckReport): string {
  const whole = JSON.stringify(report);
  if (bytes(whole) <= OUTPUT_BUDGET_BYTES) return whole;
  const kept = report.nodegroups.filter((n) => NEEDS_LOOK.has(n.status));
  const truncated = {
    reason: "over GitHub's 1 MB job output limit: only node groups that need a look are listed; the whole report is in report-file",
    nodegroups: report.nodegroups.length,
    kept: kept.length,
  };
  const shorter = JSON.stringify({ ...report, nodegroups: kept, truncated });
  return bytes(shorter) <= OUTPUT_BUDGET_BYTES ? shorter : JSON.stringify({ ...report, nodegroups: [], truncated: { ...truncated, kept: 0 } });
}

/** One line per node group for the log. */
export function renderLogLine(ng: NodegroupReport): string {
  const name = ng.nodegroup ? `${ng.cluster}/${ng.nodegroup}` : ng.cluster;
  return `${ICON[ng.status]} ${ng.account ? `${ng.account} ` : ''}${ng.region} ${name}: ${ng.status}: ${ng.reason}`;
}
