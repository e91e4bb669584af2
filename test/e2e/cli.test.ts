import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { renderManifest } from '../../src/repo/manifest.js';
import type { CheckReport } from '../../src/model/check-report.js';
import type { UpgradeReport } from '../../src/model/upgrade-report.js';
import type { FleetSpec } from '../sim/fleet.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { runAction } from '../sim/run-action.js';
import { startSimulator, type Simulator } from '../sim/server.js';

/**
 * The command line (`dist/cli.js`, the package's `bin`) run as a process against the simulator, with
 * no runner around it: no GITHUB_* variables, credentials from the environment as the AWS CLI reads them.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/cli.js');
const [old, , latest] = releasesOf('AL2023_x86_64_STANDARD', '1.33')
  .slice(-3)
  .map((r) => r.releaseVersion) as [string, string, string];

function fleet(release = old): FleetSpec {
  return {
    clusters: [
      {
        name: 'prod',
        region: 'us-east-1',
        version: '1.33',
        nodegroups: [{ name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: release, desiredSize: 2 }],
        autoscaler: { namespace: 'kube-system', name: 'cluster-autoscaler', labels: { app: 'cluster-autoscaler' }, replicas: 2 },
      },
    ],
    parameters: amazonLinuxParameters(),
  };
}

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node dist/cli.js ...args` with only what a terminal has: PATH, HOME and the AWS variables. */
function cli(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
const awsEnv = (s: Simulator) => s.env();
const actionInputs = () => Object.keys((parseYaml(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown> }).inputs);

describe('the command line', () => {
  it('prints a table per cluster, and --json is the report the action outputs for the same fleet', async () => {
    const s = (sim = await startSimulator(fleet()));
    const table = await cli(['check', '--regions', 'us-east-1'], awsEnv(s));
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('prod (us-east-1) · Kubernetes 1.33');
    expect(table.stdout).toMatch(
      new RegExp(`^  general +AL2023_x86_64_STANDARD +1\\.33 +${old.replace(/\./g, '\\.')} +${latest.replace(/\./g, '\\.')} +drift +${old} → ${latest}`, 'm'),
    );
    expect(table.stdout).toContain('1 node group(s) in 1 cluster(s): 1 drift');
    // The action's log is there, as a terminal shows it: no runner commands.
    expect(table.stdout).toMatch(/^▸ Checking every cluster in us-east-1$/m);
    expect(table.stdout).not.toMatch(/^::/m);

    const json = await cli(['check', '--regions', 'us-east-1', '--json'], awsEnv(s));
    expect(json.code).toBe(0);
    expect(json.stderr).toContain('Checking every cluster in us-east-1');
    const action = await runAction({ inputs: { regions: 'us-east-1' }, env: { ...awsEnv(s) } });
    const strip = (r: CheckReport) => ({ ...r, generatedAt: undefined });
    expect(strip(JSON.parse(json.stdout) as CheckReport)).toEqual(strip(JSON.parse(action.outputs.report!) as CheckReport));

    const out = join(mkdtempSync(join(tmpdir(), 'cli-')), 'report.json');
    expect((await cli(['--regions', 'us-east-1', '--output-file', out], awsEnv(s))).code).toBe(0);
    expect((JSON.parse(readFileSync(out, 'utf8')) as CheckReport).nodegroups[0]).toMatchObject({ nodegroup: 'general', status: 'drift' });
  });

  it('exits 0 with nothing to do, 2 for drift with --fail-on-drift, 1 for errors and bad inputs, 64 for an unknown flag', async () => {
    const s = (sim = await startSimulator(fleet()));
    expect((await cli(['check', '--regions', 'us-east-1'], awsEnv(s))).code).toBe(0);
    const drift = await cli(['check', '--regions', 'us-east-1', '--fail-on-drift'], awsEnv(s));
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain('error: 1 node group(s) should be upgraded, and fail-on-drift is true.');
    expect((await cli(['check', '--regions', 'us-east-1', '--fail-on-drift', '--no-fail-on-drift'], awsEnv(s))).code).toBe(0);
    // As a workflow writes it: `--fail-on-drift true`, or `=true`.
    expect((await cli(['check', '--regions', 'us-east-1', '--fail-on-drift', 'true'], awsEnv(s))).code).toBe(2);
    expect((await cli(['check', '--regions', 'us-east-1', '--fail-on-drift=true'], awsEnv(s))).code).toBe(2);
    expect((await cli(['check', '--regions', 'us-east-1', '--fail-on-drift', 'false'], awsEnv(s))).code).toBe(0);

    const missing = await cli(['check', '--regions', 'us-east-1', '--clusters', 'nope', '--fail-on-drift'], awsEnv(s));
    expect(missing.code).toBe(1);
    const bad = await cli(['check', '--regions', 'us-east-1', '--min-release-age', 'a week'], awsEnv(s));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`error: Input 'min-release-age': "a week" is not a duration`);
    const unknown = await cli(['check', '--region', 'us-east-1'], awsEnv(s));
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain("Unknown option '--region'");
    expect((await cli(['deploy'], awsEnv(s))).code).toBe(64);
    await s.close();

    sim = await startSimulator(fleet(latest));
    expect((await cli(['check', '--regions', 'us-east-1', '--fail-on-drift'], awsEnv(sim))).code).toBe(0);
  });

  it('never prints a token it was given, and reads AWS credentials from a profile as the AWS CLI does', async () => {
    const s = (sim = await startSimulator(fleet(latest)));
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ...endpoint } = awsEnv(s);
    const home = mkdtempSync(join(tmpdir(), 'cli-home-'));
    writeFileSync(join(home, 'credentials'), `[platform]\naws_access_key_id = ${AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}\n`);
    const run = await cli(['check', '--regions', 'us-east-1', '--profile', 'platform', '--github-token', 'ghs_notprintedanywhere'], {
      ...endpoint,
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
      AWS_CONFIG_FILE: join(home, 'config'),
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('general');
    expect(run.stdout + run.stderr).not.toContain('ghs_notprintedanywhere');
    // Without the profile there are no credentials at all.
    const none = await cli(['check', '--regions', 'us-east-1'], {
      ...endpoint,
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
      AWS_CONFIG_FILE: join(home, 'config'),
    });
    expect(none.code).toBe(1);
  });

  it('upgrades from the manifest in the current directory, with the result as a table', async () => {
    const s = (sim = await startSimulator(fleet(), { clockSpeed: 300 }));
    const dir = mkdtempSync(join(tmpdir(), 'cli-repo-'));
    const path = join(dir, '.github/eks-ami-drift/us-east-1');
    spawnSync('mkdir', ['-p', path]);
    writeFileSync(
      join(path, 'prod.yaml'),
      renderManifest({ cluster: 'prod', region: 'us-east-1', nodegroups: { general: { kubernetesVersion: '1.33', releaseVersion: latest } } }),
    );
    const run = await cli(['upgrade', '--regions', 'us-east-1', '--poll-interval', '100ms', '--health-timeout', '0', '--json'], awsEnv(s), dir);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as UpgradeReport;
    expect(report.nodegroups.map((n) => [n.nodegroup, n.result, n.to?.releaseVersion])).toEqual([['general', 'upgraded', latest]]);
    expect(run.stderr).toContain('prod/general');
  }, 120_000);

  it('--help lists every input of action.yml with its description and default, and nothing else', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    const action = parseYaml(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { description: string; default?: string }> };
    for (const [name, input] of Object.entries(action.inputs)) {
      if (name === 'command') continue;
      expect(help.stdout).toContain(`--${name}`);
      expect(help.stdout).toContain(input.description.replace(/\s+/g, ' ').trim());
      if (input.default && !input.default.includes('${{'))
        expect(help.stdout).toMatch(new RegExp(`--${name}[^\\n]*\\(default: ${input.default.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
    }
    const flags = new Set([...help.stdout.matchAll(/^ {2}(?:-h, )?--([a-z-]+)/gm)].map((m) => m[1]));
    expect(flags).toEqual(new Set([...actionInputs().filter((n) => n !== 'command'), 'json', 'output-file', 'profile', 'help']));
    expect(help.stdout).toContain('Exit codes:');
  });

  it('runs with npx from the checkout, through the package bin', () => {
    const run = spawnSync('npx', ['--no-install', 'eks-ami-drift', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir() },
    });
    expect(run.stderr).not.toMatch(/not found|could not determine/i);
    expect(run.stdout).toContain('Usage: eks-ami-drift [check|upgrade|restore]');
    expect(run.status).toBe(0);
  });
});
