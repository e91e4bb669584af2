import type { CredentialOutlook, UpgradeSettings } from '../model/settings.js';
import type { PlanItem } from '../model/plan.js';
import { formatDuration } from './duration.js';
import { waves } from './rollout.js';
import type { UpdateSettings } from '../model/fleet.js';

/** How long to wait for one node group: 8 minutes a round of replacement (one node a round by default, more with its updateConfig). */
export function defaultWaitTimeoutMs(nodes: number | null, settings?: UpdateSettings): number {
  return Math.max(40 * 60_000, 15 * 60_000 + 8 * 60_000 * waves(settings, nodes));
}

/**
 * How long the plan may keep the job busy: clusters one after another, in each the updates in waves
 * of max-parallel, each wave as long as its longest wait timeout plus the health gate's.
 */
export function planBudgetMs(items: readonly PlanItem[], settings: UpgradeSettings): number {
  const byCluster = new Map<string, number[]>();
  for (const i of items.filter((p) => p.action === 'update')) {
    const key = `${i.region}/${i.cluster}`;
    byCluster.set(key, [...(byCluster.get(key) ?? []), (settings.waitTimeoutMs ?? defaultWaitTimeoutMs(i.nodes, i.updateSettings)) + settings.healthTimeoutMs]);
  }
  let total = 0;
  for (const timeouts of byCluster.values()) {
    timeouts.sort((a, b) => b - a);
    for (let w = 0; w < timeouts.length; w += settings.maxParallel) total += timeouts[w] as number;
  }
  return total;
}

/**
 * The warning for a plan that may outlast credentials nobody renews, or `undefined`: a stated expiry
 * before the plan's end, or session credentials whose expiry no source states (never a guess).
 */
export function credentialWarning(budgetMs: number, outlook: CredentialOutlook, now: number): string | undefined {
  if (outlook.renewable || budgetMs === 0) return undefined;
  if (outlook.expiresAt !== null && now + budgetMs <= outlook.expiresAt) return undefined;
  const advice =
    'Set role-to-assume (and permissions: id-token: write) so the action renews its own credentials, ' +
    'or give the credentials a session longer than the plan ' +
    "(role-duration-seconds of aws-actions/configure-aws-credentials, at most the role's MaxSessionDuration).";
  const plan = `The plan may take up to ${formatDuration(budgetMs)} (its wait timeouts)`;
  if (outlook.expiresAt === null) {
    return (
      `${plan}, but the AWS credentials are ${outlook.source}: their expiry is unknown, and nobody in this job renews them. ` +
      'If they expire first, the action can neither follow the updates nor restore cluster-autoscaler. ' +
      advice
    );
  }
  const left = Math.max(0, outlook.expiresAt - now);
  return (
    `${plan}, but the AWS credentials are ${outlook.source} and have about ${formatDuration(left)} left: ` +
    'once they expire the action can neither follow the updates nor restore cluster-autoscaler. ' +
    advice
  );
}
