import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** What users of an action look for besides the code: dependencies declared, updates proposed, releases made from the changelog. */
const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? sources(join(dir, f)) : f.endsWith('.ts') ? [join(dir, f)] : []));
}

/** The packages src/ imports (`@scope/name`, `name`), not node's own modules. */
function importedPackages(): string[] {
  const names = new Set<string>();
  for (const file of sources(join(root, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of [...text.matchAll(/^(?:import|export)\b[^;]*?from '([^'.][^']*)'/gm), ...text.matchAll(/\bimport\('([^'.][^']*)'\)/g)]) {
      const spec = m[1]!;
      if (spec.startsWith('node:')) continue;
      names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return [...names].sort();
}

describe("the repository's hygiene", () => {
  it('declares every package src/ imports under dependencies, and npm ls --omit=dev shows each', () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const imported = importedPackages();
    expect(imported).toEqual(expect.arrayContaining(['@actions/core', '@aws-sdk/client-auto-scaling', '@aws-sdk/client-eks', '@kubernetes/client-node']));
    expect(imported.filter((name) => !(name in pkg.dependencies))).toEqual([]);
    const ls = spawnSync('npm', ['ls', '--omit=dev', '--depth=0', '--json'], { cwd: root, encoding: 'utf8' });
    const listed = Object.keys((JSON.parse(ls.stdout) as { dependencies?: Record<string, unknown> }).dependencies ?? {});
    expect(imported.filter((name) => !listed.includes(name))).toEqual([]);
  });

  it('has Dependabot for npm and GitHub Actions, in the form GitHub documents (version 2, ecosystems, directory, schedule)', () => {
    const config = parse(read('.github/dependabot.yml')) as {
      version: number;
      updates: { 'package-ecosystem': string; directory: string; schedule: { interval: string } }[];
    };
    expect(config.version).toBe(2);
    expect(config.updates.map((u) => u['package-ecosystem']).sort()).toEqual(['github-actions', 'npm']);
    for (const u of config.updates) {
      expect(u.directory).toBe('/');
      expect(['daily', 'weekly', 'monthly']).toContain(u.schedule.interval);
    }
  });

  it("makes release notes from the version's CHANGELOG.md section, and refuses a version without one", () => {
    const version = (JSON.parse(read('package.json')) as { version: string }).version;
    const notes = spawnSync(process.execPath, [join(root, 'scripts/release-notes.mjs'), version], { encoding: 'utf8' });
    expect(notes.status).toBe(0);
    expect(notes.stdout).toContain('### Added');
    expect(notes.stdout).not.toContain(`## [${version}]`);
    expect(notes.stdout).not.toContain('## [Unreleased]');
    const missing = spawnSync(process.execPath, [join(root, 'scripts/release-notes.mjs'), '9.9.9'], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('CHANGELOG.md has no section "## [9.9.9]"');
  });

  it('releases on a version tag: tests and the dist/ check first, then the release, then the major tag', () => {
    const wf = parse(read('.github/workflows/release.yml')) as {
      on: { push: { tags: string[] } };
      permissions: Record<string, string>;
      jobs: { release: { steps: { run?: string }[] } };
    };
    expect(wf.on.push.tags).toEqual(['v[0-9]+.[0-9]+.[0-9]+']);
    expect(wf.permissions).toEqual({ contents: 'write' });
    const runs = wf.jobs.release.steps.map((s) => s.run ?? '');
    const at = (re: RegExp) => runs.findIndex((r) => re.test(r));
    expect(at(/bash \.ci\/run/)).toBeGreaterThanOrEqual(0);
    expect(at(/bash \.ci\/run/)).toBeLessThan(at(/gh release create/));
    expect(at(/gh release create/)).toBeLessThan(at(/git push --force origin "refs\/tags\/\$major"/));
    // Nothing from the event is interpolated into a shell: the tag comes in through env.
    for (const r of runs) expect(r).not.toContain('${{');
  });

  it('has a security policy that says how to report and what the action can change', () => {
    const policy = read('SECURITY.md');
    expect(policy).toContain('Report a vulnerability');
    for (const action of ['eks:UpdateNodegroupVersion', 'eks:TagResource', 'ec2:CreateLaunchTemplateVersion']) expect(policy).toContain(action);
  });
});
