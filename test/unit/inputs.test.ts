import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSettings } from '../../src/action/inputs.js';
import { InputError, splitList } from '../../src/inputs/settings.js';
import { settingsWith } from './settings.js';
import { fanOut, type BatchEntry } from '../../src/decision/matrix.js';

const INPUTS = [
  'command',
  'clusters',
  'regions',
  'nodegroups',
  'min-release-age',
  'fail-on-drift',
  'kubeconfig',
  'on-drift',
  'labels',
  'assignees',
  'reviewers',
  'github-token',
  'manifest-dir',
  'dry-run',
  'force',
  'release-version',
  'follow-control-plane',
  'pause-cluster-autoscaler',
  'apply-node-classes',
  'cluster-autoscaler',
  'max-parallel',
  'wait-timeout',
  'poll-interval',
  'stages',
  'stage-tag',
  'stage-soak',
  'history-cache',
  'kube-timeout',
];

function withInputs(inputs: Record<string, string>, env: NodeJS.ProcessEnv = { AWS_REGION: 'us-east-1' }) {
  for (const name of INPUTS) delete process.env[`INPUT_${name.toUpperCase()}`];
  for (const [name, value] of Object.entries(inputs)) process.env[`INPUT_${name.toUpperCase()}`] = value;
  return () => getSettings(env);
}

async function rejects(inputs: Record<string, string>, input: string, ...mentions: string[]) {
  let error: unknown;
  try {
    await withInputs(inputs)();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).input).toBe(input);
  expect((error as Error).message).toContain(`Input '${input}'`);
  for (const m of mentions) expect((error as Error).message).toContain(m);
}

afterEach(() => {
  // Clears the inputs (the settings are not read).
  withInputs({});
});

describe('inputs', () => {
  it('has defaults that check every cluster in the runner region', async () => {
    expect(await withInputs({})()).toEqual(settingsWith());
  });

  it('splits lists on commas and newlines, trimming and dropping duplicates', async () => {
    expect(splitList(' prod-a, prod-b\nprod-c,,\n prod-a ')).toEqual(['prod-a', 'prod-b', 'prod-c']);
    const s = await withInputs({
      clusters: 'prod, staging',
      regions: 'us-east-1\neu-west-1',
      nodegroups: 'general',
      'min-release-age': '1d12h',
      'fail-on-drift': 'true',
    })();
    expect(s).toMatchObject({
      clusters: ['prod', 'staging'],
      regions: ['us-east-1', 'eu-west-1'],
      nodegroups: ['general'],
      minReleaseAge: { text: '1d12h', ms: 36 * 3_600_000 },
      failOnDrift: true,
    });
  });

  it('falls back to AWS_DEFAULT_REGION, and says what to do when there is no region', async () => {
    expect((await withInputs({}, { AWS_DEFAULT_REGION: 'eu-central-1' })()).regions).toEqual(['eu-central-1']);
    await expect(withInputs({}, {})()).rejects.toThrow("Input 'regions': no region given");
  });

  it.each([
    ['7d', 7 * 86_400_000],
    ['36h', 36 * 3_600_000],
    ['90m', 90 * 60_000],
    ['2w', 14 * 86_400_000],
    ['0', 0],
  ])('accepts min-release-age %s', async (text, ms) => {
    expect((await withInputs({ 'min-release-age': text })()).minReleaseAge).toEqual({ text, ms });
  });

  it('rejects an unknown command, naming the accepted ones', () => rejects({ command: 'upgrade-all' }, 'command', '"upgrade-all"', 'check, upgrade'));
  it('reads the upgrade inputs', async () => {
    const s = await withInputs({
      command: 'upgrade',
      'dry-run': 'true',
      'release-version': '1.33.13-20260714',
      'cluster-autoscaler': 'ops/ca',
      'max-parallel': '4',
      'wait-timeout': '2h',
      'poll-interval': '500ms',
    })();
    expect(s.upgrade).toMatchObject({
      dryRun: true,
      releaseVersion: '1.33.13-20260714',
      clusterAutoscaler: { namespace: 'ops', name: 'ca' },
      maxParallel: 4,
      waitTimeoutMs: 7_200_000,
      pollIntervalMs: 500,
    });
  });
  it.each([
    [{ 'on-drift': 'pr' }, 'on-drift', 'none, issue, pull-request'],
    [{ 'on-drift': 'issue' }, 'github-token', 'needs a token'],
    [{ 'manifest-dir': '../outside' }, 'manifest-dir', 'relative path'],
    [{ 'manifest-dir': '/etc' }, 'manifest-dir', 'relative path'],
    [{ 'release-version': 'latest' }, 'release-version', '1.33.13-20260714'],
    [{ 'cluster-autoscaler': 'cluster-autoscaler' }, 'cluster-autoscaler', 'namespace/name'],
    [{ 'cluster-autoscaler': 'Kube_System/x' }, 'cluster-autoscaler', 'namespace/name'],
    [{ 'max-parallel': '0' }, 'max-parallel', '1 to 20'],
    [{ 'max-parallel': 'all' }, 'max-parallel', '1 to 20'],
    [{ 'wait-timeout': 'forever' }, 'wait-timeout', '36h'],
    [{ 'poll-interval': '0' }, 'poll-interval', 'more than 0'],
    [{ 'dry-run': 'maybe' }, 'dry-run', 'true or false'],
    [{ assignees: 'alice, bob smith' }, 'assignees', 'GitHub logins'],
    [{ reviewers: '-bad-' }, 'reviewers', 'GitHub logins'],
  ])('rejects %j naming the input', (inputs, input, mention) => rejects(inputs, input, mention));
  it('masks the GitHub token as soon as it is read', async () => {
    const writes: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk: string) => (writes.push(String(chunk)), true);
    try {
      await withInputs({ 'github-token': 'ghs_secret123' })();
    } finally {
      process.stdout.write = write;
    }
    expect(writes.join('')).toContain('::add-mask::ghs_secret123');
  });
  it.each(['7 days', '-1d', '1.5h', 'h', '36', 'P7D', '1d 12h'])('rejects min-release-age %j with the accepted form', (bad) =>
    rejects({ 'min-release-age': bad }, 'min-release-age', '36h', '7d'),
  );
  it.each(['prod cluster', 'prod;rm -rf /', '-prod', '$(whoami)', 'a'.repeat(101)])('rejects cluster name %j', (bad) =>
    rejects({ clusters: `ok, ${bad}` }, 'clusters', 'letters, digits'),
  );
  it('accepts a batch of the matrix output as `clusters`: 10,000 clusters of 100-character names give batches of 40, all read', async () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `c${String(i).padStart(5, '0')}`.padEnd(100, 'x'));
    const { include } = fanOut(names.map((cluster) => ({ cluster, region: 'us-east-1' })));
    const largest = (include as BatchEntry[]).reduce((a, b) => (b.clusters.length > a.clusters.length ? b : a));
    const s = await withInputs({ clusters: largest.clusters, regions: largest.region })();
    expect(s.clusters).toHaveLength(40);
    expect(s.clusters.every((c) => c.length === 100)).toBe(true);
    expect(s.regions).toEqual(['us-east-1']);
  });
  it('a batch with one bad name is refused whole, naming the name', () => rejects({ clusters: 'prod-a,prod b,prod-c' }, 'clusters', '"prod b"', 'comma'));
  it.each(['US-EAST-1', 'us-east', 'useast1', 'us-east-1; curl x'])('rejects region %j', (bad) => rejects({ regions: bad }, 'regions', 'us-east-1'));
  it('reads stages, with the stage tag and soak defaults', async () => {
    expect((await withInputs({ stages: 'canary, staging\nproduction' })()).stages).toEqual({
      names: ['canary', 'staging', 'production'],
      tag: 'eks-ami-drift/stage',
      soak: { text: '3d', ms: 3 * 86_400_000 },
    });
    expect((await withInputs({ stages: 'canary,prod', 'stage-tag': 'env', 'stage-soak': '36h' })()).stages).toEqual({
      names: ['canary', 'prod'],
      tag: 'env',
      soak: { text: '36h', ms: 36 * 3_600_000 },
    });
  });
  it('rejects one stage, a stage named twice, and a name that cannot be a tag value', async () => {
    await rejects({ stages: 'production' }, 'stages', 'expected at least two');
    await rejects({ stages: 'canary, Canary, prod' }, 'stages', '"Canary" is named twice');
    await rejects({ stages: 'canary, stag ing' }, 'stages', 'stage names in rollout order');
  });
  it('rejects a stage tag or soak that cannot be read, and either one without stages', async () => {
    await rejects({ stages: 'a,b', 'stage-tag': 'aws:stage' }, 'stage-tag', 'not starting with aws:');
    await rejects({ stages: 'a,b', 'stage-soak': 'a week' }, 'stage-soak', 'is not a duration');
    await rejects({ 'stage-soak': '3d' }, 'stage-soak', 'stages is not');
    await rejects({ 'stage-tag': 'env' }, 'stage-tag', 'stages is not');
  });
  it('reads history-cache as a file path with stages, and rejects a folder, or the input without stages', async () => {
    expect((await withInputs({ stages: 'a,b' })()).historyCache).toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'history-'));
    expect((await withInputs({ stages: 'a,b', 'history-cache': join(dir, 'eks-ami-drift', 'history.json') })()).historyCache).toBe(
      join(dir, 'eks-ami-drift', 'history.json'),
    );
    await rejects({ stages: 'a,b', 'history-cache': dir }, 'history-cache', `${dir} is a folder: expected the path of a file`);
    await rejects({ stages: 'a,b', 'history-cache': 'cache/' }, 'history-cache', 'is not a file path');
    await rejects({ 'history-cache': '.eks-ami-drift/history.json' }, 'history-cache', 'stages is not');
  });
  it('reads kube-timeout, 10s when not given', async () => {
    expect((await withInputs({})()).kubeTimeout).toEqual({ text: '10s', ms: 10_000 });
    expect((await withInputs({ 'kube-timeout': '1m30s' })()).kubeTimeout).toEqual({ text: '1m30s', ms: 90_000 });
  });
  it.each(['0', '500ms', '11m', 'ten seconds', '10'])('rejects kube-timeout %j with the accepted form', (bad) =>
    rejects({ 'kube-timeout': bad }, 'kube-timeout', 'a duration from 1s to 10m', '10s'),
  );
  it('rejects an invalid runner region', async () => await expect(withInputs({}, { AWS_REGION: 'mars' })()).rejects.toThrow("Input 'regions'"));
  it('rejects a node group name that EKS would not accept', () => rejects({ nodegroups: 'gpu/1' }, 'nodegroups', 'node group names'));
  it('rejects fail-on-drift that is not a boolean', () => rejects({ 'fail-on-drift': 'yes' }, 'fail-on-drift', 'true or false'));

  describe('kubeconfig', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    it('accepts a readable kubeconfig', async () => {
      const path = join(dir, 'ok');
      writeFileSync(path, 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n');
      expect((await withInputs({ kubeconfig: path })()).kubeconfig).toBe(path);
    });
    it('rejects a missing file', () => rejects({ kubeconfig: join(dir, 'absent') }, 'kubeconfig', 'cannot read', 'ENOENT'));
    it('rejects a file that is not YAML', async () => {
      const path = join(dir, 'bad');
      writeFileSync(path, 'clusters: [\n');
      await rejects({ kubeconfig: path }, 'kubeconfig', 'is not YAML');
    });
    it('rejects YAML that is not a kubeconfig', async () => {
      const path = join(dir, 'other');
      writeFileSync(path, 'name: not a kubeconfig\nclusters: []\n');
      await rejects({ kubeconfig: path }, 'kubeconfig', 'users, contexts');
    });
  });
});
