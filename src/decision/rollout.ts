import type { UpdateSettings } from '../model/fleet.js';

/*
 * How EKS will roll a managed node group, before it rolls: pure, from what DescribeNodegroup said.
 * - updateConfig (EKS API reference, NodegroupUpdateConfig): maxUnavailable, "the maximum number of
 *   nodes unavailable at once during a version update ... The maximum number is 100", or
 *   maxUnavailablePercentage, "this percentage of nodes are updated in parallel, up to 100 nodes at
 *   once"; EKS's default is one node (../shared/reference/eks.md section 5).
 * - updateStrategy: "The default strategy ... launches the new instances first, before terminating the
 *   old instances. The minimal strategy removes the guardrails and terminates the old instances before
 *   launching the new instances" (same reference).
 * - Capacity Blocks: "When upgrading managed node groups with Capacity Blocks, make sure that the
 *   desired size of the node group is set to 0" (EKS user guide, Create a managed node group with
 *   Capacity Blocks for ML, Considerations).
 * - nodeRepairConfig.enabled: node auto repair "continuously monitors the health of nodes ... and
 *   replaces nodes when possible" (EKS user guide, managed node groups; node health): nodes may be
 *   replaced outside any update.
 */

/** Nodes EKS replaces at once: maxUnavailable, else the percentage of the nodes (at least 1, at most 100), else 1. */
export function nodesAtOnce(settings: UpdateSettings | undefined, nodes: number | null): number {
  if (settings?.maxUnavailable) return Math.min(100, Math.max(1, settings.maxUnavailable));
  if (settings?.maxUnavailablePercentage) return Math.min(100, Math.max(1, Math.floor(((nodes ?? 1) * settings.maxUnavailablePercentage) / 100)));
  return 1;
}

/** How many rounds of replacement the update takes. */
export function waves(settings: UpdateSettings | undefined, nodes: number | null): number {
  return Math.max(1, Math.ceil((nodes ?? 1) / nodesAtOnce(settings, nodes)));
}

/** A rough duration for people, in minutes: setup and scale-up, then about 4 minutes a round of replacement. */
export function expectedMinutes(settings: UpdateSettings | undefined, nodes: number | null): number {
  return 10 + 4 * waves(settings, nodes);
}

/** Why a Capacity Block node group cannot be updated now, or null. */
export function capacityBlockHold(settings: UpdateSettings | undefined, nodes: number | null): string | null {
  if (settings?.capacityType !== 'CAPACITY_BLOCK' || (nodes ?? 0) === 0) return null;
  return (
    `held: a Capacity Block node group is updated only at desired size 0 (EKS user guide, Capacity Blocks for managed node groups: ` +
    `"make sure that the desired size of the node group is set to 0"), and it has ${nodes}: ` +
    'scale it to 0 (when its reservation allows), and the next run updates it'
  );
}

/** What the update will do, in a sentence: its strategy, how many at a time, Capacity Blocks and node auto repair. */
export function rolloutText(settings: UpdateSettings | undefined, nodes: number | null): string {
  if (!settings) return 'one node at a time, new nodes first (EKS’s default)';
  const hold = capacityBlockHold(settings, nodes);
  const n = nodesAtOnce(settings, nodes);
  const how = settings.maxUnavailable
    ? `maxUnavailable ${settings.maxUnavailable}`
    : settings.maxUnavailablePercentage
      ? `maxUnavailablePercentage ${settings.maxUnavailablePercentage}`
      : 'EKS’s default';
  const rounds = waves(settings, nodes);
  const parts = [
    settings.strategy === 'MINIMAL'
      ? `MINIMAL: terminates ${n} old node(s) before it launches their replacements (${how}), so the node group runs ${n} short in each of ${rounds} round(s)`
      : `${settings.strategy ?? 'DEFAULT'}: launches new nodes first, then replaces ${n} at a time (${how}), ${rounds} round(s)`,
  ];
  if (hold) parts.unshift(`⏸️ ${hold}`);
  else if (settings.capacityType === 'CAPACITY_BLOCK') parts.push('Capacity Block at desired size 0: updated without nodes');
  if (settings.nodeRepair) parts.push('node auto repair on: EKS also replaces unhealthy nodes on its own');
  return parts.join('; ');
}
