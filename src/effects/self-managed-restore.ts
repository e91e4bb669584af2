import { paginateDescribeAutoScalingGroups, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { describeError } from '../fleet/aws-clients.js';
import { clusterTag } from '../fleet/autoscaling.js';
import type { ExecutorContext } from './executor.js';
import { decodeRecord, RECORD_TAG } from './self-managed-record.js';
import { undoSelfManaged } from './self-managed-steps.js';

/** What `restore` did with one self-managed group's record of a replacement a killed run left. */
export interface SelfManagedRestore {
  cluster: string;
  region: string;
  group: string;
  outcome: 'undone' | 'undo-failed';
  note: string;
}

/**
 * The Auto Scaling groups of the cluster that carry a replacement's record (`eks-ami-drift/replacing`,
 * ./self-managed-record.ts): those tagged `kubernetes.io/cluster/<name>`, as the check finds them
 * (../fleet/autoscaling.ts), read with the record on their tags.
 */
export async function recordedGroups(ctx: Pick<ExecutorContext, 'cluster' | 'clients'>): Promise<AutoScalingGroup[]> {
  const groups: AutoScalingGroup[] = [];
  const paginator = paginateDescribeAutoScalingGroups(
    { client: ctx.clients.autoscaling, pageSize: 100 },
    { Filters: [{ Name: 'tag-key', Values: [clusterTag(ctx.cluster.name)] }] },
  );
  // A record that does not decode still marks its group: it is reported, not skipped.
  for await (const page of paginator) groups.push(...(page.AutoScalingGroups ?? []).filter((g) => (g.Tags ?? []).some((t) => t.Key === RECORD_TAG)));
  return groups;
}

/**
 * `restore` for self-managed groups (docs/self-managed.md, "The resumable record"): every group of the
 * cluster a killed run left mid-replacement is undone (../effects/self-managed-steps.ts undoSelfManaged):
 * the surplus drained and terminated, old instances first; nodes tainted for the replacement
 * uncordoned; the recorded processes resumed; minimum, maximum and desired capacity back; the record
 * removed. One group's failure is its own line; the others go on.
 */
export async function undoRecorded(ctx: ExecutorContext, groups?: readonly AutoScalingGroup[]): Promise<SelfManagedRestore[]> {
  const { cluster } = ctx;
  const done: SelfManagedRestore[] = [];
  for (const g of groups ?? (await recordedGroups(ctx))) {
    const group = g.AutoScalingGroupName ?? '';
    const line = (outcome: SelfManagedRestore['outcome'], note: string) => done.push({ cluster: cluster.name, region: cluster.region, group, outcome, note });
    try {
      const record = decodeRecord(g.Tags);
      if (!record) continue;
      line('undone', await undoSelfManaged(ctx, group, record));
    } catch (error) {
      line('undo-failed', `${error instanceof Error ? error.message : describeError(error)}: the record stays on the group for the next run or restore`);
    }
  }
  return done;
}
