import { DescribeUpdateCommand, paginateListUpdates, type EKSClient, type Update } from '@aws-sdk/client-eks';
import pLimit from 'p-limit';

/** ListUpdates ids read at most: a node group's whole update history, in practice. */
export const MAX_UPDATE_HISTORY = 500;

/**
 * The node group's version updates, oldest first. ListUpdates documents no order and users see it in
 * random order (aws/containers-roadmap#1439), so every page is read (up to MAX_UPDATE_HISTORY ids),
 * each update described, and the list sorted by `createdAt`.
 */
export async function updateHistory(eks: EKSClient, clusterName: string, nodegroupName: string): Promise<Update[]> {
  const ids: string[] = [];
  for await (const page of paginateListUpdates({ client: eks, pageSize: 100 }, { name: clusterName, nodegroupName })) {
    ids.push(...(page.updateIds ?? []));
    if (ids.length >= MAX_UPDATE_HISTORY) break;
  }
  const limit = pLimit(10);
  const described = await Promise.all(
    [...new Set(ids)].slice(0, MAX_UPDATE_HISTORY).map((updateId) => limit(() => eks.send(new DescribeUpdateCommand({ name: clusterName, nodegroupName, updateId })))),
  );
  return described
    .map((d) => d.update)
    .filter((u): u is Update => u?.type === 'VersionUpdate')
    .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
}
