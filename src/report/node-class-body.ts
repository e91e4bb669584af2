import type { NodegroupReport } from '../model/check-report.js';
import { budgetsText } from '../decision/auto-mode.js';
import { cell } from './markdown.js';

/*
 * The Karpenter node classes' part of a cluster's pull request (issue 25): the aliases moved, the
 * EC2NodeClass files bumped (or why not), and how the nodes follow: Karpenter replaces them through
 * drift, within their NodePools' disruption budgets (karpenter.sh docs, Concepts, Disruption:
 * "Drift", "NodePool Disruption Budgets"; no budget is Karpenter's default, 10% of the nodes).
 */

/** What the pull request did with the EC2NodeClass files its pins name. */
export interface NodeClassFiles {
  /** The files bumped on the branch. */
  files: string[];
  /** Why a file was not bumped (missing, no such document, moved by a person). */
  notes: string[];
}

export function nodeClassSection(kind: 'pr' | 'issue', drift: readonly NodegroupReport[], manifest: string, done: NodeClassFiles): string[] {
  if (drift.length === 0) return [];
  const lines = [
    `**Karpenter node classes** (${drift.length}): the alias of each EC2NodeClass, published for the cluster's Kubernetes minor and every ` +
      'architecture and variant its NodePools allow:',
    '',
    '| EC2NodeClass | Current | Target | Published | Nodes | NodePools |',
    '|---|---|---|---|---|---|',
    ...drift.map(
      (e) =>
        `| ${cell(e.nodegroup)} | ${cell(`${e.amiType}@${e.releaseVersion}`)} | ${cell(e.nodeClass?.targetAlias)} | ` +
        `${e.latestReleasePublishedAt?.slice(0, 10) ?? '—'} | ${cell(e.nodes)} | ${cell(e.nodeClass?.nodePools.join(', ') || '—')} |`,
    ),
    '',
  ];
  if (kind === 'pr') {
    const files = done.files.length > 0 ? ` and ${done.files.map((f) => `\`${f}\``).join(', ')}` : '';
    lines.push(
      `**What merging does for them.** This pull request moves their pins in \`${manifest}\`${files}. Once the EC2NodeClass names the new alias ` +
        '(applied by your GitOps from its file), Karpenter resolves it to the new images, marks the nodes made from the old ones as drifted and ' +
        "replaces them itself, within the NodePools' disruption budgets; cluster-autoscaler is not involved.",
    );
  } else {
    lines.push(`**To upgrade them**, move each EC2NodeClass's alias (and its pin in \`${manifest}\`): Karpenter then replaces the nodes through drift.`);
  }
  lines.push('', '**Disruption budgets** (Karpenter replaces drifted nodes only as they allow; when several are active, the most restrictive applies):', '');
  for (const e of drift) for (const p of e.nodeClass?.budgets ?? []) lines.push(`- \`${e.nodegroup}\` / NodePool \`${p.nodePool}\`: ${budgetsText(p.budgets)}`);
  if (drift.every((e) => (e.nodeClass?.budgets ?? []).length === 0)) lines.push('- no NodePool uses them: no node is replaced');
  if (done.notes.length > 0) lines.push('', '**Not changed here** (a person’s edit wins):', '', ...done.notes.map((n) => `- ${n}`));
  return lines;
}
