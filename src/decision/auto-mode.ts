import type { ClusterState, NodegroupState } from '../model/fleet.js';
import type { NodegroupDecision } from '../model/check-report.js';
import type { DisruptionBudget } from '../model/karpenter-objects.js';
import type { DriftPolicy } from './drift.js';

/*
 * An EKS Auto Mode NodePool, pure: AWS chooses its nodes' AMI, so there is nothing to pin or propose;
 * what a team can see and steer is how old its nodes are, when they expire, and when its disruption
 * budgets let Karpenter replace them.
 */

/**
 * "EKS Auto Mode enforces a 21-day maximum node lifetime" (Amazon EKS User Guide, "Automate cluster
 * infrastructure with EKS Auto Mode", awsdocs/amazon-eks-user-guide latest/ug/automode/automode.adoc).
 */
export const AUTO_MODE_MAX_LIFETIME_DAYS = 21;

const DAY_MS = 86_400_000;
const round = (days: number) => Math.round(days * 10) / 10;

/** `336h` → 14 days, `30m` → a fraction; `Never` or unparsable → undefined. Karpenter's durations are Go durations (h, m, s). */
export function durationDays(text: string | null): number | undefined {
  if (!text || text === 'Never') return undefined;
  let ms = 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  for (const [, n, unit] of parts) ms += Number(n) * (unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : 1000);
  return ms / DAY_MS;
}

/**
 * A pool's budgets as text. No budget: Karpenter's default, one budget of `nodes: 10%`; several active at
 * once: Karpenter applies the most restrictive (karpenter.sh docs, Concepts, Disruption, "NodePool
 * Disruption Budgets").
 */
export function budgetsText(budgets: readonly DisruptionBudget[]): string {
  if (budgets.length === 0) return "disruption budget: Karpenter's default, 10% of the nodes at a time";
  const one = (b: DisruptionBudget) =>
    `${b.nodes} node(s)${b.schedule ? ` from "${b.schedule}" for ${b.duration ?? '?'}` : ' at any time'}${b.reasons ? ` for ${b.reasons.join(', ')}` : ''}`;
  return `disruption budgets (the most restrictive active one applies): ${budgets.map(one).join('; ')}`;
}

/** An Auto Mode NodePool's entry: its nodes' ages against its expiry and the 21-day limit, its budgets. */
export function classifyAutoModePool(cluster: ClusterState, ng: NodegroupState, policy: DriftPolicy): NodegroupDecision {
  const { pool, nodes } = ng.autoModePool!;
  const now = policy.now.getTime();
  const ages = nodes
    .map((n) => (n.createdAt ? Math.max(0, (now - Date.parse(n.createdAt)) / DAY_MS) : NaN))
    .filter((d) => Number.isFinite(d))
    .sort((a, b) => b - a)
    .map((d) => Math.round(d * 10) / 10);
  const expireDays = durationDays(pool.expireAfter);
  const limit = Math.min(expireDays ?? AUTO_MODE_MAX_LIFETIME_DAYS, AUTO_MODE_MAX_LIFETIME_DAYS);
  const expiry = pool.expireAfter
    ? `expireAfter ${pool.expireAfter}${expireDays !== undefined ? ` (${Math.round(expireDays * 10) / 10} days)` : ''}`
    : 'no expireAfter';
  const oldest = ages[0];
  const within = oldest !== undefined ? `, replaced within ${round(Math.max(0, limit - oldest))} days` : '';
  const nodesText = nodes.length === 0 ? 'no nodes now' : `${nodes.length} node(s), the oldest ${oldest ?? '?'} days old${within}`;
  return {
    cluster: cluster.name,
    region: cluster.region,
    nodegroup: pool.name,
    amiType: null,
    kubernetesVersion: ng.version ?? null,
    controlPlaneVersion: cluster.version ?? null,
    releaseVersion: null,
    latestReleaseVersion: null,
    latestReleasePublishedAt: null,
    latestReleaseParameter: null,
    releaseNotesUrl: null,
    nodes: nodes.length,
    kind: 'auto-mode',
    launchTemplate: null,
    imageId: null,
    imageName: null,
    latestImageId: null,
    unhealthy: null,
    inPlace: null,
    autoMode: {
      nodeClass: pool.nodeClassRef.name,
      expireAfter: pool.expireAfter,
      maxLifetimeDays: AUTO_MODE_MAX_LIFETIME_DAYS,
      nodeAgesDays: ages,
      budgets: pool.budgets,
    },
    status: 'auto-mode',
    reason:
      `EKS Auto Mode chooses the AMI (nothing to pin or propose): ${nodesText}; ${expiry}, ` +
      `and Auto Mode replaces a node at ${AUTO_MODE_MAX_LIFETIME_DAYS} days at the latest; ${budgetsText(pool.budgets)}`,
  };
}
