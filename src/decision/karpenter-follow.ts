import type { NodegroupState } from '../model/fleet.js';
import type { DisruptionBudget, NodeClaimRead, NodeClassRead, NodePoolRead } from '../model/karpenter-objects.js';
import type { NodeClassPin, PlanItem } from '../model/plan.js';
import { windowAt } from './cron.js';
import { durationDays } from './auto-mode.js';
import { formatDuration } from './duration.js';
import { kubernetesMinor } from './release.js';

/*
 * The upgrade of a Karpenter EC2NodeClass pinned in the cluster's manifest, pure: the team's GitOps
 * applies the merged alias; Karpenter's AMI controller resolves it into `status.amis`; every NodeClaim
 * whose `status.imageID` is not among them is drifted, and Karpenter replaces it within its NodePool's
 * disruption budgets (karpenter.sh docs, Concepts, Disruption: "Drift", "NodePool Disruption Budgets").
 * The action only follows.
 */

/** The alias a node class names, when its only selector term is an alias. */
export function aliasOfClass(nc: NodeClassRead | undefined): string | undefined {
  const terms = nc?.terms ?? [];
  return terms.length === 1 && terms[0]?.alias ? terms[0].alias : undefined;
}

/** The NodeClaims of a class whose image is not one the class resolves now: drifted, not yet replaced. */
export function driftedClaims(nc: NodeClassRead): NodeClaimRead[] {
  const ids = new Set(nc.amis.map((a) => a.id));
  return nc.nodeClaims.filter((c) => !c.imageId || !ids.has(c.imageId));
}

/** Where the pin lives and what applies it, for messages: `the EC2NodeClass in deploy/karpenter/al2023.yaml`. */
export const appliedFrom = (pin: NodeClassPin): string => (pin.file ? `the EC2NodeClass in ${pin.file}` : 'the EC2NodeClass manifest');

/** The upgrade's line for a pinned node class: a follow (`update`) until the class names the pin and every NodeClaim runs what it resolves. */
export function planNodeClassFollow(ng: NodegroupState, cluster: { name: string; region: string; version?: string }, pin: NodeClassPin): PlanItem {
  const nc = ng.nodeClass;
  const minor = cluster.version ? (kubernetesMinor(cluster.version) ?? cluster.version) : '';
  const alias = aliasOfClass(nc);
  const item = (action: PlanItem['action'], reason: string): PlanItem => ({
    cluster: cluster.name,
    region: cluster.region,
    nodegroup: ng.name,
    nodeKind: 'karpenter',
    amiType: null,
    nodes: nc ? nc.nodeClaims.length : null,
    current: alias ? { version: minor, releaseVersion: alias } : null,
    target: { version: minor, releaseVersion: pin.alias },
    source: 'manifest',
    action,
    reason,
  });
  const then = 'then follow Karpenter’s drift to nodes on its images';
  if (!nc)
    return item('update', `no EC2NodeClass ${ng.name} in the cluster yet: would wait for GitOps to apply ${appliedFrom(pin)} with ${pin.alias}, ${then}`);
  if (alias !== pin.alias) {
    const names = alias ? `names ${alias}` : 'is not selected by one alias';
    return item(
      'update',
      `the EC2NodeClass ${names}: would wait for GitOps to apply ${appliedFrom(pin)} (${pin.alias}) and Karpenter to resolve it, ${then} ` +
        `(${nc.nodeClaims.length} NodeClaim(s) now)`,
    );
  }
  if (nc.amis.length === 0) {
    return item('update', `names ${pin.alias}, but Karpenter resolves no image for it yet: would wait for status.amis, ${then}`);
  }
  const drifted = driftedClaims(nc).length;
  if (drifted > 0) {
    return item('update', `on ${pin.alias}; ${drifted} of ${nc.nodeClaims.length} NodeClaim(s) still on an older image: would follow Karpenter’s drift`);
  }
  return item('up-to-date', `already on ${pin.alias}, all ${nc.nodeClaims.length} NodeClaim(s) on the images it resolves`);
}

/** A budget's node allowance for a pool of `total` nodes: a percentage rounds up (nodepool.go GetAllowedDisruptions, roundUp true). */
export function allowance(nodes: string, total: number): number | undefined {
  const pct = /^(\d+)%$/.exec(nodes);
  if (pct) return Math.ceil((Number(pct[1]) * total) / 100);
  return /^\d+$/.test(nodes) ? Number(nodes) : undefined;
}

/**
 * What a NodePool's budgets allow for drift now: the most restrictive active budget whose reasons
 * include `Drifted` (or name none). A budget with a schedule is active only inside its window; with
 * none, always. Inactive budgets allow any number; no budget at all is Karpenter's default, 10%
 * (kubernetes-sigs/karpenter pkg/apis/v1/nodepool.go, GetAllowedDisruptionsByReason and
 * Budget.GetAllowedDisruptions; a schedule that does not parse fails closed: 0).
 */
export function driftAllowance(pool: NodePoolRead, total: number, now: number): { allowed: number; why: string | null } {
  const budgets: DisruptionBudget[] = pool.budgets.length > 0 ? pool.budgets : [{ nodes: '10%', schedule: null, duration: null, reasons: null }];
  let best: { allowed: number; why: string | null } = { allowed: Number.POSITIVE_INFINITY, why: null };
  for (const b of budgets) {
    if (b.reasons && !b.reasons.includes('Drifted')) continue;
    let window = '';
    if (b.schedule) {
      const days = durationDays(b.duration);
      const at = days === undefined ? undefined : windowAt(b.schedule, days * 86_400_000, now);
      if (!at) {
        if (best.allowed > 0)
          best = { allowed: 0, why: `its budget's schedule "${b.schedule}" (duration ${b.duration ?? 'none'}) does not parse: Karpenter fails closed` };
        continue;
      }
      if (!at.open) continue;
      window = ` (its window "${b.schedule}" for ${b.duration} is open until ${new Date(at.closesAt!).toISOString().slice(0, 16)}Z)`;
    }
    const n = allowance(b.nodes, total);
    const allowed = n ?? 0;
    if (allowed < best.allowed) best = { allowed, why: `budget nodes: "${b.nodes}"${window} allows ${allowed} of ${total} node(s) at a time` };
  }
  return best;
}

/** Why the NodePools of a class let no drifted node be replaced now, one line per blocking pool; empty when none blocks. */
export function blockingBudgets(nc: NodeClassRead, now: number): string[] {
  const lines: string[] = [];
  for (const pool of nc.nodePools) {
    const claims = nc.nodeClaims.filter((c) => c.nodePool === pool.name);
    if (claims.length === 0) continue;
    const { allowed, why } = driftAllowance(pool, claims.length, now);
    if (allowed === 0 && why) lines.push(`NodePool ${pool.name}: ${why}`);
  }
  return lines;
}

/** The report of a follow that ran out of time while nodes were still drifted: how many, what blocks, what to do. */
export function driftTimeoutReason(nc: NodeClassRead, alias: string, timeoutMs: number, now: number): string {
  const drifted = driftedClaims(nc);
  const blocks = blockingBudgets(nc, now);
  const what =
    blocks.length > 0
      ? `a disruption budget blocks drift: ${blocks.join('; ')}. Karpenter replaces them once it allows: widen the budget, or wait for the window`
      : 'no disruption budget blocks drift now: Karpenter may be unable to launch replacements, or PodDisruptionBudgets hold the old nodes; ' +
        'look at the NodeClaims’ conditions and Karpenter’s events';
  return (
    `${drifted.length} of ${nc.nodeClaims.length} NodeClaim(s) still drifted (not on an image ${alias} resolves) after ${formatDuration(timeoutMs)} ` +
    `(wait-timeout): ${what}; re-run the job to follow again (Karpenter goes on replacing them without it)`
  );
}
