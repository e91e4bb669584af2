import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { renderManifest } from '../../src/repo/manifest.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { runAction, type ActionRun } from '../sim/run-action.js';
import { startSimulator, type Simulator } from '../sim/server.js';

const [older, , newest] = releasesOf('AL2023_x86_64_STANDARD', '1.33')
  .slice(-3)
  .map((r) => r.releaseVersion) as [string, string, string];
const [middle] = releasesOf('AL2023_x86_64_STANDARD', '1.33')
  .slice(-2)
  .map((r) => r.releaseVersion) as [string];
const PATH = '.github/eks-ami-drift/us-east-1/prod.yaml';
const good = renderManifest({ cluster: 'prod', region: 'us-east-1', nodegroups: { general: { kubernetesVersion: '1.33', releaseVersion: newest } } });
const dir = mkdtempSync(join(tmpdir(), 'bad-inputs-'));
writeFileSync(join(dir, 'not-yaml'), 'clusters: [\n');

interface Case {
  name: string;
  inputs: Record<string, string>;
  /** The manifest at the commit the run is for (upgrade). */
  manifest?: string;
  env?: Record<string, string>;
  /** What the error must say. */
  says: string | RegExp;
}

const upgrade = { command: 'upgrade', clusters: 'prod', 'poll-interval': '100ms' };
const CASES: Case[] = [
  { name: 'unknown command', inputs: { command: 'destroy' }, says: `Input 'command': "destroy" is not a command: expected one of check, upgrade` },
  { name: 'command with a shell payload', inputs: { command: 'check; rm -rf /' }, says: `Input 'command'` },
  {
    name: 'cluster name with a shell payload',
    inputs: { clusters: 'prod;curl evil.example' },
    says: `Input 'clusters': "prod;curl evil.example" is not valid`,
  },
  { name: 'cluster name with a command substitution', inputs: { clusters: '$(id)' }, says: `Input 'clusters': "$(id)"` },
  { name: 'cluster name with a path', inputs: { clusters: '../../etc/passwd' }, says: `Input 'clusters'` },
  { name: 'cluster name too long', inputs: { clusters: 'a'.repeat(101) }, says: `Input 'clusters'` },
  {
    name: 'region with a shell payload',
    inputs: { regions: 'us-east-1; ls' },
    says: `Input 'regions': "us-east-1; ls" is not valid: expected AWS region codes`,
  },
  { name: 'region in capitals', inputs: { regions: 'EU-WEST-1' }, says: `Input 'regions'` },
  { name: 'no region at all', inputs: { regions: '' }, env: { AWS_REGION: '' }, says: `Input 'regions': no region given` },
  { name: 'node group with backticks', inputs: { nodegroups: 'ng`whoami`' }, says: `Input 'nodegroups'` },
  { name: 'duration in words', inputs: { 'min-release-age': '7 days' }, says: `Input 'min-release-age': "7 days" is not a duration` },
  { name: 'negative duration', inputs: { 'min-release-age': '-1d' }, says: `Input 'min-release-age'` },
  { name: 'boolean as yes', inputs: { 'fail-on-drift': 'yes' }, says: `Input 'fail-on-drift': "yes" is not valid: expected true or false` },
  {
    name: 'kubeconfig that does not exist',
    inputs: { kubeconfig: '/nonexistent/kubeconfig' },
    says: `Input 'kubeconfig': cannot read /nonexistent/kubeconfig`,
  },
  { name: 'kubeconfig that is not YAML', inputs: { kubeconfig: join(dir, 'not-yaml') }, says: `is not YAML` },
  { name: 'unknown on-drift', inputs: { 'on-drift': 'always' }, says: `Input 'on-drift': "always" is not valid: expected one of none, issue, pull-request` },
  { name: 'manifest-dir outside the repository', inputs: { 'manifest-dir': '../x' }, says: `Input 'manifest-dir'` },
  { name: 'absolute manifest-dir', inputs: { 'manifest-dir': '/etc' }, says: `Input 'manifest-dir'` },
  {
    name: 'release-version that is not one',
    inputs: { ...upgrade, 'release-version': 'latest' },
    says: `Input 'release-version': "latest" is not a release version`,
  },
  { name: 'release-version with a shell payload', inputs: { ...upgrade, 'release-version': `${newest}; echo pwned` }, says: `Input 'release-version'` },
  { name: 'cluster-autoscaler without a namespace', inputs: { ...upgrade, 'cluster-autoscaler': 'cluster-autoscaler' }, says: `Input 'cluster-autoscaler'` },
  { name: 'cluster-autoscaler with a path', inputs: { ...upgrade, 'cluster-autoscaler': 'a/b/c' }, says: `Input 'cluster-autoscaler'` },
  {
    name: 'max-parallel zero',
    inputs: { ...upgrade, 'max-parallel': '0' },
    says: `Input 'max-parallel': "0" is not valid: expected a whole number from 1 to 20`,
  },
  { name: 'max-parallel in exponent form', inputs: { ...upgrade, 'max-parallel': '1e3' }, says: `Input 'max-parallel'` },
  { name: 'wait-timeout in words', inputs: { ...upgrade, 'wait-timeout': 'soon' }, says: `Input 'wait-timeout'` },
  { name: 'poll-interval zero', inputs: { ...upgrade, 'poll-interval': '0' }, says: `Input 'poll-interval'` },
  { name: 'dry-run as perhaps', inputs: { ...upgrade, 'dry-run': 'perhaps' }, says: `Input 'dry-run'` },
  { name: 'assignee with a space', inputs: { assignees: 'alice, bob smith' }, says: `Input 'assignees'` },
  { name: 'reviewer with markup', inputs: { reviewers: '<script>' }, says: `Input 'reviewers'` },
  { name: 'label too long', inputs: { labels: 'x'.repeat(60) }, says: `Input 'labels'` },
  {
    name: 'manifest with an unknown key',
    inputs: upgrade,
    manifest: good.replace('nodegroups:', 'owner: me\nnodegroups:'),
    says: `${PATH}:${good.split('\n').findIndex((l) => l.startsWith('nodegroups:')) + 1}: unknown key "owner"`,
  },
  {
    name: 'manifest with a misspelt node group key',
    inputs: upgrade,
    manifest: good.replace('releaseVersion:', 'releaseVerison:'),
    says: `unknown key "releaseVerison" in node group general`,
  },
  {
    name: 'manifest with a release that does not parse',
    inputs: upgrade,
    manifest: good.replace(newest, '1.33.x'),
    says: `general.releaseVersion: "1.33.x" is not a release version`,
  },
  {
    name: 'manifest with an unquoted version',
    inputs: upgrade,
    manifest: good.replace('kubernetesVersion: "1.33"', 'kubernetesVersion: 1.30'),
    says: `unquoted 1.3 is a number in YAML: write "1.30"`,
  },
  {
    name: 'manifest with a node group that does not exist',
    inputs: upgrade,
    manifest: good.replace('general:', 'ghost:'),
    says: `node group "ghost" does not exist in cluster prod`,
  },
  {
    name: 'manifest for another cluster',
    inputs: upgrade,
    manifest: good.replace('cluster: prod', 'cluster: staging'),
    says: `cluster is "staging" but the file is for prod`,
  },
  { name: 'manifest that is not YAML', inputs: upgrade, manifest: 'cluster: [prod\n', says: `${PATH}:` },
  {
    name: 'manifest with a release for another Kubernetes version',
    inputs: upgrade,
    manifest: good.replace(newest, '1.31.14-20260714'),
    says: 'release 1.31.14-20260714 is not for Kubernetes 1.33',
  },
  {
    name: 'a downgrade asked for by release-version',
    inputs: { ...upgrade, 'release-version': older },
    says: `release-version ${older}: target ${older} is older than the running`,
  },
  { name: 'a cluster that does not exist', inputs: { ...upgrade, clusters: 'ghost' }, says: 'ResourceNotFoundException: No cluster found for name: ghost.' },
  { name: 'a node group that does not exist', inputs: { ...upgrade, nodegroups: 'ghost' }, says: 'node group ghost does not exist in cluster prod' },
  { name: 'an empty fleet (check)', inputs: { regions: 'eu-west-1' }, says: 'no EKS clusters found in eu-west-1' },
  { name: 'an empty fleet (upgrade)', inputs: { command: 'upgrade', regions: 'eu-west-1' }, says: 'no EKS clusters found in eu-west-1' },
];

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator(
    {
      clusters: [
        {
          name: 'prod',
          region: 'us-east-1',
          version: '1.33',
          nodegroups: [{ name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: middle, desiredSize: 2 }],
        },
      ],
      parameters: amazonLinuxParameters(),
    },
    { clockSpeed: 300, github: { files: { [PATH]: good } } },
  );
});
afterAll(() => sim.close());

describe(`reliability: ${CASES.length} bad inputs and manifests`, () => {
  const runs = new Map<string, Promise<ActionRun>>();
  const limit = pLimit(4);
  /** Each case at its own commit (its own manifest), so they can run side by side. */
  function run(c: Case): Promise<ActionRun> {
    if (!runs.has(c.name)) {
      const sha =
        c.manifest === undefined
          ? sim.github.refs.get('heads/main')!
          : (sim.github.branch(`case/${c.name}`), sim.github.push(`case/${c.name}`, { [PATH]: c.manifest }));
      runs.set(
        c.name,
        limit(() => runAction({ inputs: { regions: 'us-east-1', ...c.inputs }, env: { ...sim.env(), AWS_REGION: 'us-east-1', GITHUB_SHA: sha, ...c.env } })),
      );
    }
    return runs.get(c.name)!;
  }

  it('has at least 30 cases', () => expect(CASES.length).toBeGreaterThanOrEqual(30));

  it.each(CASES.map((c) => [c.name, c] as const))('%s: a clear error, and nothing changed', async (_, c) => {
    const r = await run(c);
    expect(r.code).toBe(1);
    const errors = r.stdout.split('\n').filter((l) => l.startsWith('::error::'));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toEqual(typeof c.says === 'string' ? expect.stringContaining(c.says) : expect.stringMatching(c.says));
    expect(r.stderr).toBe('');
  });

  it('made no mutating call anywhere: no update, no Kubernetes write, no GitHub write', async () => {
    await Promise.all(CASES.map(run));
    expect(sim.log.filter((l) => l.operation === 'UpdateNodegroupVersion')).toEqual([]);
    expect(sim.world.updates).toEqual([]);
    for (const c of sim.world.fleet.clusters) expect(sim.world.kubeOf(c).writes).toEqual([]);
    expect(sim.github.log.filter((l) => l.method !== 'GET')).toEqual([]);
  });
});
