import { createHash } from 'node:crypto';
import { proposedRelease, type NodegroupReport } from '../model/check-report.js';
import { BODY_BUDGET_CHARS, cell, fitMarkdown } from './markdown.js';
import type { BlockerLook } from '../model/check-report.js';
import { expectedMinutes, rolloutText } from '../decision/rollout.js';
import { nodeClassSection, type NodeClassFiles } from './node-class-body.js';
import type { EntryReleaseNotes } from '../model/release-notes.js';
import { releaseNotesSection } from './release-notes-body.js';

/** The hidden marker a pull request or issue of this action carries, and by which it is found again. */
export function marker(kind: 'pr' | 'issue', region: string, cluster: string, account?: string): string {
  return `<!-- eks-ami-drift:${kind} ${account ? `${account}/` : ''}${region}/${cluster} -->`;
}

/** A short fingerprint of the targets, so "the same proposal" can be recognised. */
export function targetsHash(drift: readonly NodegroupReport[]): string {
  return createHash('sha256')
    .update(
      drift
        .map((d) => `${d.nodegroup}=${proposedRelease(d)}`)
        .sort()
        .join(','),
    )
    .digest('hex')
    .slice(0, 12);
}

const BODY_MARKER = /<!-- eks-ami-drift:body ([0-9a-f]{12}) -->\n?/;

/**
 * The body as the action writes it: with a hidden marker holding a hash of the rest, so a later run
 * can tell the body it wrote from one a person edited, whatever the targets are now.
 */
export function signBody(body: string): string {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const [first, ...rest] = body.split('\n');
  return [first, `<!-- eks-ami-drift:body ${hash} -->`, ...rest].join('\n');
}

/**
 * Whether a person changed a body this action wrote. A body without the hash but with the action's
 * marker was written by a version before the hash: it is taken as the action's (and signed on its next
 * update), so that pull requests opened before an upgrade of the action are not frozen.
 */
export function editedByPerson(body: string | null | undefined): boolean {
  const text = body ?? '';
  const m = BODY_MARKER.exec(text);
  if (!m) return !/<!-- eks-ami-drift:(pr|issue) /.test(text);
  return createHash('sha256').update(text.replace(BODY_MARKER, '')).digest('hex').slice(0, 12) !== m[1];
}

/** A rough duration for people: about 4 minutes a round of replacement, as many at once as its update settings allow (../decision/rollout.ts). */
export function estimatedMinutes(e: Pick<NodegroupReport, 'nodes' | 'updateSettings'>): number {
  return expectedMinutes(e.updateSettings, e.nodes);
}

export function proposalTitle(region: string, cluster: string, drift: readonly NodegroupReport[]): string {
  const names = drift.map((d) => d.nodegroup).join(', ');
  const classes = drift.some((d) => d.pinKey === 'alias');
  const groups = drift.some((d) => d.pinKey !== 'alias');
  const what = classes ? (groups ? 'EKS node groups and Karpenter node classes' : 'Karpenter node classes') : 'EKS node groups';
  const account = drift[0]?.account;
  return `Upgrade ${what} of ${cluster} (${region}${account ? `, account ${account}` : ''}): ${names}`;
}

/**
 * The body of a pull request (or issue): per node group the current and target release, what kind of
 * AMI, how old the release is, its notes, what merging does and how long it may take. Rendered from
 * the check's report entries only.
 */
export function proposalBody(
  kind: 'pr' | 'issue',
  region: string,
  cluster: string,
  entries: readonly NodegroupReport[],
  manifest: string,
  look?: BlockerLook,
  nodeClassFiles: NodeClassFiles = { files: [], notes: [] },
  releaseNotes: readonly EntryReleaseNotes[] = [],
): string {
  const classes = entries.filter((e) => e.status === 'drift' && e.pinKey === 'alias' && e.nodeClass?.targetAlias);
  const drift = entries.filter((e) => e.status === 'drift' && e.pinKey !== 'alias');
  const rest = entries.filter((e) => e.status !== 'drift' && e.status !== 'up-to-date' && e.nodegroup !== null);
  // Absolute dates: the body must be the same text on every run while the drift is the same.
  const published = (e: NodegroupReport) => e.latestReleasePublishedAt?.slice(0, 10) ?? '—';
  const total = drift.reduce((sum, e) => sum + estimatedMinutes(e), 0);
  const rows = drift.map((e) => {
    const target = e.targetReleaseVersion
      ? `${cell(e.targetReleaseVersion)} (proven train ${cell(e.proof?.train)}; latest ${cell(e.latestReleaseVersion)})`
      : e.releaseNotesUrl
        ? `[${e.latestReleaseVersion}](${e.releaseNotesUrl})`
        : cell(e.latestReleaseVersion);
    const current = `${cell(e.nodegroup)} | ${cell(e.amiType)} | ${cell(e.kubernetesVersion)} | ${cell(e.releaseVersion)}`;
    return `| ${current} | ${target} | ${published(e)} | ${cell(e.nodes)} | ~${estimatedMinutes(e)} min | ${cell(rolloutText(e.updateSettings, e.nodes))} |`;
  });
  const account = entries[0]?.account;
  const lines = [`${marker(kind, region, cluster, account)}`, `<!-- eks-ami-drift:targets ${targetsHash([...drift, ...classes])} -->`];
  // With `accounts`, where the cluster is says its account too: two accounts may each have a cluster of this name here.
  const where = account ? `${region}, account ${account}` : region;
  if (drift.length > 0)
    lines.push(
      `Newer EKS-optimized AMI releases are published for ${drift.length} node group(s) of **${cluster}** (${where}).`,
      '',
      '| Node group | AMI type | Kubernetes | Current | Target | Published | Nodes | Expected duration | How it rolls |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
    );
  else lines.push(`Newer AMI versions are published for ${classes.length} Karpenter node class(es) of **${cluster}** (${where}).`, '');
  lines.push(...nodeClassSection(kind, classes, manifest, nodeClassFiles), ...(classes.length > 0 ? [''] : []));
  // The release notes go here, with what the rest of the body leaves of GitHub's limit (below).
  const notesAt = lines.length;
  if (drift.length === 0) {
    // Node classes alone: nothing below is about them.
  } else if (kind === 'pr') {
    lines.push(
      `**What merging does.** This pull request changes \`${manifest}\`. Merging it starts the upgrade workflow: ` +
        'pre-flight checks (node group ACTIVE with no health issues, no update already running, ' +
        'no PodDisruptionBudget that allows no disruption on these nodes); if any fails nothing changes. ' +
        'Then cluster-autoscaler is paused, each node group gets the EKS rolling update ' +
        '(new nodes on the target AMI, old nodes cordoned, drained and terminated, as many at once as its update settings allow: see How it rolls), ' +
        'then a health gate waits for its nodes and the workloads that ran on it to come back (ready, not crash-looping) ' +
        'before the next node group starts, stopping the rollout in this cluster if they do not; ' +
        'cluster-autoscaler is restored to its replica count, also if the job fails or is cancelled. ' +
        'The result is commented here. ' +
        `Expected about ${total} minutes in all, one node group at a time, plus the health gate's wait for each.`,
      '',
      'Not ready? Leave this open: it is updated when a newer release appears, and closed when the drift is gone. ' +
        'Closed without merging, it is not opened again for these releases, only for newer ones.',
    );
  } else {
    lines.push(
      `**To upgrade**, pin these releases in \`${manifest}\` (merging that upgrades through the upgrade workflow), ` +
        'or run `aws eks update-nodegroup-version` by hand with cluster-autoscaler paused. ' +
        `Expected about ${total} minutes in all. This issue is updated when a newer release appears and closed when the drift is gone.`,
    );
  }
  const proven = drift.filter((e) => e.proof?.applies && e.proof.proven);
  if (proven.length > 0) {
    lines.push(
      '',
      `**Proven by the earlier stages** (stage ${cell(proven[0]!.stage)}): ` +
        "each node group of the same AMI type in the earlier stages has run the train without a failed update (EKS's update history):",
      '',
      '| Node group | Train | Ran by | Stage | Release | Since | Update |',
      '|---|---|---|---|---|---|---|',
    );
    for (const e of proven) {
      for (const x of e.proof!.evidence)
        lines.push(
          `| ${cell(e.nodegroup)} | ${cell(e.proof!.train)} | ${cell(x.cluster)}/${cell(x.nodegroup)} | ${cell(x.stage)} | ${cell(x.release)} ` +
            `| ${cell(x.since?.slice(0, 16).replace('T', ' '))} | ${x.updateId ? `\`${x.updateId}\`` : 'created on it'} |`,
        );
    }
    lines.push(
      '',
      'The upgrade checks this proof again before it changes anything: ' +
        "an earlier stage's failed update to the train since then blocks it (unless `force: true`).",
    );
  }
  const unproven = drift.filter((e) => e.proof && !e.proof.applies);
  if (unproven.length > 0)
    lines.push(
      '',
      `**Stage gate:** no node group of ${[...new Set(unproven.map((e) => e.amiType))].join(', ')} runs in an earlier stage, ` +
        `so ${unproven.map((e) => `\`${e.nodegroup}\``).join(', ')} ${unproven.length > 1 ? 'are' : 'is'} proposed on min-release-age alone.`,
    );
  if (look?.ran) {
    const found = drift.flatMap((e) => (look.blockers[e.nodegroup as string] ?? []).map((b) => `- \`${e.nodegroup}\`: ${b}`));
    lines.push(
      '',
      found.length > 0
        ? `**Will block the upgrade now** (unless it is run with \`force: true\`):\n${found.join('\n')}`
        : '**Pre-flight now:** no PodDisruptionBudget that allows no disruption covers pods on these node groups.',
    );
    if (look.autoscaler) lines.push('', `**Will undo the pause:** ${look.autoscaler}.`);
  } else if (look) {
    lines.push('', `**Pre-flight now:** not run from the check (${cell(look.reason)}); the upgrade runs it before changing anything.`);
  }
  if (rest.length > 0) {
    lines.push(
      '',
      '<details><summary>Other node groups of this cluster that need a look (not changed here)</summary>',
      '',
      '| Node group | Status | Why |',
      '|---|---|---|',
    );
    for (const e of rest) lines.push(`| ${cell(e.nodegroup)} | ${e.status} | ${cell(e.reason)} |`);
    lines.push('', '</details>');
  }
  lines.push('', '_Kept up to date by eks-ami-drift from the scheduled check. It does not overwrite a person’s edits: it comments instead._');
  lines.splice(notesAt, 0, ...releaseNotesSection(releaseNotes, BODY_BUDGET_CHARS - lines.join('\n').length - 1));
  return signBody(
    fitMarkdown(
      lines.join('\n'),
      BODY_BUDGET_CHARS,
      "Shortened to GitHub's 65,536-character limit: every node group is in the check's job summary and report.",
    ),
  );
}
