import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeUpdateCommand, EKSClient, ListUpdatesCommand, type Update } from '@aws-sdk/client-eks';
import pLimit from 'p-limit';
import { loadHistoryRecord, readHistories, readUpdateHistory, saveHistoryRecord } from '../../src/fleet/update-history.js';
import type { ClusterState, HistoryRecord } from '../../src/model/fleet.js';

/**
 * A node group's update history as EKS gives it: ListUpdates lists ids only, 100 a page, in no
 * documented order (aws/containers-roadmap#1439); DescribeUpdate tells each one's type. `updates` in
 * the order listed.
 */
function eksWith(updates: Update[]) {
  const eks = new EKSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const mock = mockClient(eks);
  mock.on(ListUpdatesCommand).callsFake((input: { nextToken?: string; maxResults?: number }) => {
    const start = Number(input.nextToken ?? 0);
    const end = start + (input.maxResults ?? 100);
    return { updateIds: updates.slice(start, end).map((u) => u.id!), ...(end < updates.length ? { nextToken: String(end) } : {}) };
  });
  mock.on(DescribeUpdateCommand).callsFake((input: { updateId: string }) => ({ update: updates.find((u) => u.id === input.updateId) }));
  const described = () => mock.commandCalls(DescribeUpdateCommand).map((c) => c.args[0].input.updateId);
  return { eks, mock, described };
}

const config = (i: number): Update => ({
  id: `config-${i}`,
  type: 'ConfigUpdate',
  status: 'Successful',
  params: [{ type: 'DesiredSize', value: '3' }],
  createdAt: new Date(Date.UTC(2026, 5, 1) + i * 60_000),
});
const version = (id: string, release: string, day: number, status = 'Successful'): Update => ({
  id,
  type: 'VersionUpdate',
  status: status as Update['status'],
  params: [
    { type: 'Version', value: '1.33' },
    { type: 'ReleaseVersion', value: release },
  ],
  createdAt: new Date(Date.UTC(2026, 5, day)),
  errors: [],
});
/** Config updates with the version updates listed among them (the newest version update last). */
function history(configs: number, versions: Update[]): Update[] {
  const all = Array.from({ length: configs }, (_, i) => config(i));
  versions.forEach((v, i) => all.splice(Math.floor(((i + 1) * configs) / versions.length), 0, v));
  return all;
}

describe("a node group's update history", () => {
  it('finds every version update among the config updates, wherever they are listed, oldest first', async () => {
    const older = version('v-old', '1.33.12-20260610', 2);
    const newer = version('v-new', '1.33.13-20260618', 20);
    const { eks, described } = eksWith(history(150, [newer, older]));
    const read = await readUpdateHistory(eks, 'canary', 'general');
    expect(read.updates.map((u) => [u.id, u.releaseVersion, u.status])).toEqual([
      ['v-old', '1.33.12-20260610', 'Successful'],
      ['v-new', '1.33.13-20260618', 'Successful'],
    ]);
    expect(read).toMatchObject({ listed: 152, unread: 0, calls: { pages: 2, described: 152, recorded: 0 } });
    expect(described()).toHaveLength(152);
  });

  it('describes at most 200 updates a run, and with the record the next run describes only the rest', async () => {
    const newest = version('v-new', '1.33.13-20260618', 20);
    const { eks, mock, described } = eksWith(history(300, [version('v-old', '1.33.12-20260610', 2), newest]));
    const first = await readUpdateHistory(eks, 'canary', 'general');
    expect(first).toMatchObject({ listed: 302, unread: 102, calls: { pages: 4, described: 200, recorded: 0 } });

    mock.resetHistory();
    const second = await readUpdateHistory(eks, 'canary', 'general', first.entry);
    expect(second).toMatchObject({ listed: 302, unread: 0, calls: { pages: 4, described: 102, recorded: 200 } });
    expect(second.updates.map((u) => u.id)).toEqual(['v-old', 'v-new']);
    expect(new Set(described()).size).toBe(102);

    // Nothing new: the third run lists the ids and describes none.
    mock.resetHistory();
    const third = await readUpdateHistory(eks, 'canary', 'general', second.entry);
    expect(third.calls).toEqual({ pages: 4, described: 0, recorded: 302 });
    expect(third.updates.map((u) => u.id)).toEqual(['v-old', 'v-new']);
  });

  it('describes again a version update the record saw InProgress, and keeps config updates by their type alone', async () => {
    const running = version('v-run', '1.33.13-20260618', 20, 'InProgress');
    const updates = history(10, [running]);
    const { eks, mock, described } = eksWith(updates);
    const first = await readUpdateHistory(eks, 'canary', 'general');
    expect(first.entry['config-0']).toEqual({ type: 'ConfigUpdate' });
    expect(first.entry['v-run']).toMatchObject({ type: 'VersionUpdate', status: 'InProgress', releaseVersion: '1.33.13-20260618' });

    running.status = 'Failed';
    running.errors = [{ errorCode: 'NodeCreationFailure', errorMessage: 'Instances failed to join the kubernetes cluster' }];
    mock.resetHistory();
    const second = await readUpdateHistory(eks, 'canary', 'general', first.entry);
    expect(described()).toEqual(['v-run']);
    expect(second.updates).toEqual([
      {
        id: 'v-run',
        status: 'Failed',
        createdAt: Date.UTC(2026, 5, 20),
        releaseVersion: '1.33.13-20260618',
        launchTemplateVersion: null,
        errors: ['NodeCreationFailure: Instances failed to join the kubernetes cluster'],
      },
    ]);
  });

  it("reads a CUSTOM node group's update by its launch template version (EKS API reference, UpdateNodegroupVersion, example 2)", async () => {
    const lt: Update = {
      id: 'v-lt',
      type: 'VersionUpdate',
      status: 'Failed',
      params: [
        { type: 'LaunchTemplateName', value: 'my-launch-template' },
        { type: 'LaunchTemplateVersion', value: '3' },
      ],
      createdAt: new Date(Date.UTC(2026, 5, 20)),
      errors: [],
    };
    const { eks } = eksWith([lt]);
    const read = await readUpdateHistory(eks, 'canary', 'custom');
    expect(read.updates).toEqual([
      { id: 'v-lt', status: 'Failed', createdAt: Date.UTC(2026, 5, 20), releaseVersion: null, launchTemplateVersion: '3', errors: [] },
    ]);
  });

  it("says the node group's history is still being read, and whether the next run continues", async () => {
    const updates = history(250, [version('v-new', '1.33.13-20260618', 20)]);
    const cluster = (): ClusterState => ({ name: 'canary', region: 'us-east-1', nodegroups: [{ name: 'general' }], nodegroupNames: ['general'] });
    const without = cluster();
    await readHistories(eksWith(updates).eks, [without], pLimit(4));
    expect(without.nodegroups[0]!.historyError).toBe(
      'its update history is still being read: 51 of its 251 updates not yet read (at most 200 DescribeUpdate calls per node group a run); ' +
        'set history-cache to keep what was read, so the next run continues where this one stopped',
    );

    const record: HistoryRecord = { schema: 1, nodegroups: { 'us-east-1/canary/gone': { x: { type: 'ConfigUpdate' } } } };
    const first = cluster();
    await readHistories(eksWith(updates).eks, [first], pLimit(4), { record, continues: true });
    expect(first.nodegroups[0]!.historyError).toContain('51 of its 251 updates not yet read');
    expect(first.nodegroups[0]!.historyError).toContain('the next run continues (history-cache)');
    // A node group no longer in its cluster leaves the record.
    expect(Object.keys(record.nodegroups)).toEqual(['us-east-1/canary/general']);

    const second = cluster();
    await readHistories(eksWith(updates).eks, [second], pLimit(4), { record, continues: true });
    expect(second.nodegroups[0]).toMatchObject({ historyCalls: { pages: 3, described: 51, recorded: 200 } });
    expect(second.nodegroups[0]!.historyError).toBeUndefined();
    expect(second.nodegroups[0]!.updates!.map((u) => u.id)).toEqual(['v-new']);
  });
});

describe('the history record file (history-cache)', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'history-'));

  it('is empty and silent before the first run, and round-trips what a run wrote', () => {
    const path = join(dir(), 'nested', 'history.json');
    expect(loadHistoryRecord(path)).toEqual({ record: { schema: 1, nodegroups: {} }, warning: null });
    const record: HistoryRecord = { schema: 1, nodegroups: { 'us-east-1/canary/general': { a: { type: 'ConfigUpdate' } } } };
    saveHistoryRecord(path, record);
    expect(loadHistoryRecord(path)).toEqual({ record, warning: null });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(record);
  });

  it('is started anew, with a warning that names the input, when the file is not a record of this action', () => {
    const path = join(dir(), 'history.json');
    writeFileSync(path, '{"cache": true}');
    const loaded = loadHistoryRecord(path);
    expect(loaded.record).toEqual({ schema: 1, nodegroups: {} });
    expect(loaded.warning).toBe(`history-cache ${path} is not a record of this action (expected {"schema": 1, "nodegroups": {...}}): starting a new record`);
  });
});
