import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DescribeUpdateCommand, paginateListUpdates, type EKSClient, type Update } from '@aws-sdk/client-eks';
import pLimit, { type LimitFunction } from 'p-limit';
import { describeError } from './aws-clients.js';
import type { ClusterState, HistoryRecord, RecordedUpdate, UpdateRecord } from '../model/fleet.js';

/**
 * A node group's update history for the staged rollout's proof, read within a stated bound.
 *
 * ListUpdates with `nodegroupName` lists every update of the node group, ConfigUpdates of
 * UpdateNodegroupConfig included (scaling, labels, taints), ids only, at most 100 a page (EKS API
 * reference, ListUpdates: maxResults 1 to 100), in no documented order (users see a random one:
 * aws/containers-roadmap#1439). Only DescribeUpdate tells an update's `type` (VersionUpdate,
 * ConfigUpdate, ...; EKS API reference, Update), so every id is listed and each one not yet known is
 * described. A terminal update (Successful, Failed, Cancelled) never changes, and an update's type
 * never does: the history record (`history-cache`) keeps what was described, and a run describes only
 * what is new, plus the version updates still InProgress.
 */

/** DescribeUpdate calls per node group per run, at most: beyond it the proof says the history is still being read. */
export const MAX_DESCRIBES = 200;
/** ListUpdates pages (100 ids each) per node group per run, at most: 5,000 updates. */
export const MAX_LIST_PAGES = 50;
const TERMINAL = new Set(['Successful', 'Failed', 'Cancelled']);

export interface HistoryRead {
  /** Version updates, oldest first. */
  updates: UpdateRecord[];
  /** The record's entry for the node group: every listed id described so far. */
  entry: Record<string, RecordedUpdate>;
  listed: number;
  /** Ids listed but not described (past MAX_DESCRIBES). */
  unread: number;
  calls: { pages: number; described: number; recorded: number };
}

/** One node group's history: every id listed, the ones `known` does not settle described (up to `maxDescribes`). */
export async function readUpdateHistory(
  eks: EKSClient,
  clusterName: string,
  nodegroupName: string,
  known: Readonly<Record<string, RecordedUpdate>> = {},
  maxDescribes = MAX_DESCRIBES,
): Promise<HistoryRead> {
  const ids = new Set<string>();
  let pages = 0;
  for await (const page of paginateListUpdates({ client: eks, pageSize: 100 }, { name: clusterName, nodegroupName })) {
    pages++;
    for (const id of page.updateIds ?? []) ids.add(id);
    if (pages >= MAX_LIST_PAGES && page.nextToken) {
      throw new Error(`it lists more than ${MAX_LIST_PAGES * 100} updates (ListUpdates, ${MAX_LIST_PAGES} pages read): too many to prove from`);
    }
  }
  // A record entry settles an id when it says its type (and, for a version update, a terminal status).
  const settled = (r: RecordedUpdate | undefined) => typeof r?.type === 'string' && (r.type !== 'VersionUpdate' || TERMINAL.has(r.status ?? ''));
  const entry: Record<string, RecordedUpdate> = {};
  const toDescribe: string[] = [];
  // Version updates still running first (the record already knows them as such), then the new ids.
  for (const id of ids) {
    if (settled(known[id])) entry[id] = known[id]!;
    else if (known[id]?.type === 'VersionUpdate') toDescribe.unshift(id);
    else toDescribe.push(id);
  }
  const recorded = Object.keys(entry).length;
  const now = toDescribe.slice(0, Math.max(0, maxDescribes));
  const limit = pLimit(10);
  const described = await Promise.all(now.map((updateId) => limit(() => eks.send(new DescribeUpdateCommand({ name: clusterName, nodegroupName, updateId })))));
  for (const [i, d] of described.entries()) if (d.update) entry[now[i]!] = recordOf(d.update);
  // An InProgress version update not described this run stays as the record had it.
  for (const id of toDescribe.slice(now.length)) if (known[id]?.type === 'VersionUpdate') entry[id] = known[id]!;
  const updates = Object.entries(entry)
    .filter(([, r]) => r.type === 'VersionUpdate')
    .map(([id, r]) => updateOf(id, r))
    .sort((a, b) => a.createdAt - b.createdAt);
  return { updates, entry, listed: ids.size, unread: toDescribe.length - now.length, calls: { pages, described: now.length, recorded } };
}

function recordOf(u: Update): RecordedUpdate {
  if (u.type !== 'VersionUpdate') return { type: u.type ?? 'unknown' };
  const param = (type: string) => u.params?.find((p) => p.type === type)?.value ?? null;
  return {
    type: u.type,
    status: u.status ?? 'unknown',
    createdAt: u.createdAt?.getTime() ?? 0,
    releaseVersion: param('ReleaseVersion'),
    launchTemplateVersion: param('LaunchTemplateVersion'),
    errors: (u.errors ?? []).map((e) => `${e.errorCode ?? 'error'}: ${e.errorMessage ?? ''}`.trim()),
  };
}

function updateOf(id: string, r: RecordedUpdate): UpdateRecord {
  return {
    id,
    status: r.status ?? 'unknown',
    createdAt: r.createdAt ?? 0,
    releaseVersion: r.releaseVersion ?? null,
    launchTemplateVersion: r.launchTemplateVersion ?? null,
    errors: r.errors ?? [],
  };
}

/** The record's key of a node group. */
export const recordKey = (region: string, cluster: string, nodegroup: string) => `${region}/${cluster}/${nodegroup}`;

/**
 * Every managed node group's version updates, for the staged rollout's proof, with `record` (when
 * given) consulted and brought up to date. A node group whose history cannot be read, or not all of
 * it within the bound, carries why in `historyError`: its proof cannot be judged yet. `continues`: the
 * record is kept for the next run (history-cache), so the text can say the next run goes on.
 */
export async function readHistories(
  eks: EKSClient,
  clusters: readonly ClusterState[],
  limit: LimitFunction,
  options: { record?: HistoryRecord; continues?: boolean } = {},
): Promise<void> {
  const record = options.record;
  await Promise.all(
    clusters
      .filter((c) => !c.error)
      // EKS keeps update histories of managed node groups only (not of self-managed groups, nor of the
      // Karpenter node classes the upgrade adds from Kubernetes).
      .flatMap((c) => c.nodegroups.filter((ng) => !ng.error && (ng.kind ?? 'managed') === 'managed').map((ng) => ({ c, ng })))
      .map(({ c, ng }) =>
        limit(async () => {
          const key = recordKey(c.region, c.name, ng.name);
          try {
            const read = await readUpdateHistory(eks, c.name, ng.name, record?.nodegroups[key]);
            ng.updates = read.updates;
            ng.historyCalls = read.calls;
            if (record) record.nodegroups[key] = read.entry;
            if (read.unread > 0) {
              ng.historyError =
                `its update history is still being read: ${read.unread} of its ${read.listed} updates not yet read ` +
                `(at most ${MAX_DESCRIBES} DescribeUpdate calls per node group a run); ` +
                (options.continues
                  ? 'the next run continues (history-cache)'
                  : 'set history-cache to keep what was read, so the next run continues where this one stopped');
            }
          } catch (error) {
            ng.historyError = `its update history could not be read: ${describeError(error)}`;
          }
        }),
      ),
  );
  // Node groups gone from a cluster that was read leave the record.
  if (record) {
    for (const c of clusters.filter((x) => !x.error && x.nodegroupNames)) {
      const prefix = recordKey(c.region, c.name, '');
      for (const key of Object.keys(record.nodegroups)) {
        if (key.startsWith(prefix) && !c.nodegroupNames!.includes(key.slice(prefix.length))) delete record.nodegroups[key];
      }
    }
  }
}

/**
 * The history record at `path`: empty when the file does not exist yet (the first run), and empty with
 * a warning when it cannot be used (a run without it still proves right, only with more calls).
 */
export function loadHistoryRecord(path: string): { record: HistoryRecord; warning: string | null } {
  const empty = (): HistoryRecord => ({ schema: 1, nodegroups: {} });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { record: empty(), warning: null };
    return { record: empty(), warning: `history-cache ${path} could not be read (${(error as Error).message}): starting a new record` };
  }
  try {
    const parsed = JSON.parse(text) as Partial<HistoryRecord>;
    if (parsed.schema !== 1 || typeof parsed.nodegroups !== 'object' || parsed.nodegroups === null || Array.isArray(parsed.nodegroups))
      throw new Error('expected {"schema": 1, "nodegroups": {...}}');
    return { record: { schema: 1, nodegroups: parsed.nodegroups }, warning: null };
  } catch (error) {
    return { record: empty(), warning: `history-cache ${path} is not a record of this action (${(error as Error).message}): starting a new record` };
  }
}

/** Writes the record (its folder made if needed). */
export function saveHistoryRecord(path: string, record: HistoryRecord): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(record)}\n`);
}
