import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * The layout of src/ as docs/development.md describes it: the flow reads from the folder names and
 * nothing climbs back up. Imports are read from the source text: static, type-only and dynamic alike.
 */
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
const modules = files(SRC).map((f) => relative(SRC, f));
const text = new Map(modules.map((m) => [m, readFileSync(join(SRC, m), 'utf8')]));

/** The modules of src/ one module imports. */
function importsOf(module: string): string[] {
  const specs = [...text.get(module)!.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm)].map((m) => m[1]!);
  return specs.map((s) => relative(SRC, join(SRC, dirname(module), s)).replace(/\.js$/, '.ts'));
}
const folder = (module: string) => (module.includes('/') ? module.split('/')[0]! : '.');

describe('the layout of src/', () => {
  it('imports only modules that exist', () => {
    const missing = modules.flatMap((m) =>
      importsOf(m)
        .filter((i) => !text.has(i))
        .map((i) => `${m} → ${i}`),
    );
    expect(missing).toEqual([]);
  });

  it('has no import cycle, type-only and dynamic imports included', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (m: string, path: string[]) => {
      if (state.get(m) === 'done') return;
      if (state.get(m) === 'open') {
        cycles.push([...path.slice(path.indexOf(m)), m].join(' → '));
        return;
      }
      state.set(m, 'open');
      for (const i of importsOf(m)) if (text.has(i)) visit(i, [...path, m]);
      state.set(m, 'done');
    };
    for (const m of modules) visit(m, []);
    expect(cycles).toEqual([]);
  });

  // Each folder may import these folders of src/ (and itself); model/ imports nothing of ours.
  const allowed: Record<string, string[]> = {
    model: [],
    decision: ['model'],
    report: ['model', 'decision'],
    inputs: ['model', 'decision'],
    fleet: ['model', 'decision'],
    repo: ['model', 'decision'],
    effects: ['model', 'decision', 'fleet', 'repo', 'report'],
    kinds: ['model', 'decision', 'effects'],
    commands: ['.', 'model', 'decision', 'fleet', 'kinds', 'effects', 'repo', 'report'],
    action: ['.', 'model', 'inputs', 'fleet', 'commands', 'report'],
    cli: ['.', 'model', 'inputs', 'fleet', 'commands', 'report'],
    '.': ['model', 'fleet', 'repo', 'effects', 'action', 'cli'],
  };
  it('flows one way: each folder imports only the folders before it', () => {
    const climbs = modules.flatMap((m) =>
      importsOf(m)
        .filter((i) => folder(i) !== folder(m) && !(allowed[folder(m)] ?? []).includes(folder(i)))
        .map((i) => `${m} → ${i}`),
    );
    expect(climbs).toEqual([]);
  });

  it('talks to the runner only from action/, and fails the step in one place', () => {
    const runner = modules.filter((m) => /@actions\/(core|github)'/.test(text.get(m)!) && folder(m) !== 'action' && folder(m) !== 'repo');
    expect(runner).toEqual([]);
    const setFailed = modules.flatMap((m) => [...text.get(m)!.matchAll(/\bsetFailed\(/g)].map(() => m));
    expect(setFailed).toEqual(['action/main.ts']);
  });

  it('keeps files under 400 lines, and no file name is shared by more than two modules', () => {
    const long = modules.filter((m) => text.get(m)!.split('\n').length > 400);
    expect(long).toEqual([]);
    const names = new Map<string, string[]>();
    for (const m of modules) names.set(basename(m), [...(names.get(basename(m)) ?? []), m]);
    expect([...names.values()].filter((same) => same.length > 2)).toEqual([]);
  });

  it('has one module per node kind in kinds/, each registered', () => {
    const registry = text.get('kinds/registry.ts')!;
    const kinds = modules.filter((m) => folder(m) === 'kinds' && !['kinds/registry.ts', 'kinds/node-kind.ts'].includes(m));
    expect(kinds.sort()).toEqual(['kinds/auto-mode.ts', 'kinds/karpenter.ts', 'kinds/managed-image.ts', 'kinds/managed-release.ts', 'kinds/self-managed.ts']);
    for (const k of kinds) expect([k, registry.includes(`'./${basename(k).replace('.ts', '.js')}'`)]).toEqual([k, true]);
  });
});
