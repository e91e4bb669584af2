import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { docFiles, markedBlock, readmePolicyActions, readmeRbacRules, readmeWorkflows } from '../e2e/readme.js';

/** The README and docs/ as a reader meets them: a short README that starts with the workflow, links that work. */
const root = fileURLToPath(new URL('../../', import.meta.url));
const docs = docFiles();
const readme = docs.get('README.md')!;
const lines = (text: string) => text.replace(/\n$/, '').split('\n');

/** The text outside fenced code blocks, line by line (code lines blanked, so line numbers stay). */
function prose(text: string): string[] {
  let fenced = false;
  return lines(text).map((line) => {
    const fence = /^\s*(?:>\s*)*```/.test(line);
    if (fence) fenced = !fenced;
    return fence || fenced ? '' : line;
  });
}

/** GitHub's anchor for a heading (github-slugger): lowercase, punctuation dropped, each space a hyphen. */
function slug(heading: string): string {
  const text = heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // a link reads as its text
    .replace(/<[^>]+>/g, '')
    .replace(/[`*]/g, '');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a Markdown file's headings, with GitHub's -1, -2 for repeats. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(text)) {
    const m = /^(?:>\s*)*#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every link target of a Markdown file outside code (`[text](target)`, `![alt](target)`, `[ref]: target`), with its line. */
function links(text: string): { line: number; target: string }[] {
  const found: { line: number; target: string }[] = [];
  prose(text).forEach((raw, i) => {
    const line = raw.replace(/`[^`]*`/g, '');
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) found.push({ line: i + 1, target: m[1]! });
    const ref = /^\s*\[[^\]]+\]:\s+<?([^\s>]+)/.exec(line);
    if (ref) found.push({ line: i + 1, target: ref[1]! });
  });
  return found;
}

/** What is wrong with a relative link from `from` (a path from the root), or null when it resolves. */
function broken(from: string, target: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return null; // https:, mailto:: not ours to check
  const [pathPart = '', anchor] = target.split('#', 2);
  const path = pathPart === '' ? from : normalize(join(dirname(from), decodeURIComponent(pathPart)));
  if (path.startsWith('..')) return `${target} leaves the repository`;
  const file = join(root, path);
  if (!existsSync(file)) return `${target}: no such file ${path}`;
  if (anchor === undefined) return null;
  if (statSync(file).isDirectory() || !path.endsWith('.md')) return `${target}: an anchor into something that is not Markdown`;
  const text = docs.get(path) ?? readFileSync(file, 'utf8');
  return anchors(text).has(anchor) ? null : `${target}: ${path} has no heading #${anchor}`;
}

describe('the README and docs/', () => {
  it('has a docs/ page for each subject the README leaves out', () => {
    for (const page of [
      'check',
      'proposals',
      'upgrade',
      'staged-rollouts',
      'iam-and-rbac',
      'manifest',
      'command-line',
      'reliability',
      'development',
      'inputs-and-outputs',
    ])
      expect([page, docs.has(`docs/${page}.md`)]).toEqual([page, true]);
  });

  it('has no relative link that goes nowhere (a file, and for file.md#anchor a heading of it)', () => {
    const problems: string[] = [];
    for (const [path, text] of docs)
      for (const { line, target } of links(text)) {
        const why = broken(path, target);
        if (why) problems.push(`${path}:${line}: ${why}`);
      }
    expect(problems).toEqual([]);
    expect([...docs.values()].flatMap((t) => links(t)).length).toBeGreaterThan(30);
  });

  it('would catch a broken link: a missing file, a missing heading, a link out of the repository', () => {
    expect(broken('README.md', 'docs/nothing.md')).toContain('no such file docs/nothing.md');
    expect(broken('README.md', 'docs/upgrade.md#no-such-heading')).toContain('has no heading #no-such-heading');
    expect(broken('docs/upgrade.md', '#a-manual-run')).toBeNull();
    expect(broken('docs/upgrade.md', '../../etc/passwd')).toContain('leaves the repository');
    expect(broken('README.md', 'https://example.com/x.md#y')).toBeNull();
  });

  it('makes anchors as GitHub does: lowercase, spaces to hyphens, punctuation dropped, repeats numbered', () => {
    expect(slug('Staged rollouts: production gets what the canaries proved')).toBe('staged-rollouts-production-gets-what-the-canaries-proved');
    expect(slug('Node groups whose AMI is named by id, and self-managed groups')).toBe('node-groups-whose-ami-is-named-by-id-and-self-managed-groups');
    expect(slug("Idempotent, and a person's edits win")).toBe('idempotent-and-a-persons-edits-win');
    expect(slug('`command` and [links](x.md) · ok')).toBe('command-and-links--ok');
    expect([...anchors('# A\n\n```\n# not a heading\n```\n## A\n> ### Quoted\n')]).toEqual(['a', 'a-1', 'quoted']);
  });

  it('keeps the README short: at most 350 lines', () => {
    expect(lines(readme).length).toBeLessThanOrEqual(350);
  });

  it('gives a copy-paste workflow first: its first `uses:` is within the first 80 lines', () => {
    const first = lines(readme).findIndex((l) => /^\s*(?:-\s+)?uses:\s/.test(l)) + 1;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(80);
    // and that line is in a whole workflow (one with `on:` and `jobs:`), not a fragment
    const [workflow] = readmeWorkflows();
    expect(readme).toContain(workflow);
    expect(workflow).toContain(lines(readme)[first - 1]);
  });

  it('has a quick start of exactly two commands: npm run demo, npm test', () => {
    const section = /^## Quick start\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';
    const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks).toHaveLength(1);
    const commands = lines(blocks[0]!)
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter(Boolean);
    expect(commands).toEqual(['npm run demo', 'npm test']);
  });

  it('lists every input and output of action.yml on the reference page, and none it does not have', () => {
    const action = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown>; outputs: Record<string, unknown> };
    const page = docs.get('docs/inputs-and-outputs.md')!;
    /** The names in backticks in the first column of the tables of a `## heading` section. */
    const listed = (heading: string) => {
      const section = new RegExp(`^## ${heading}\\n([\\s\\S]*?)(?=^## |(?![\\s\\S]))`, 'm').exec(page)?.[1] ?? '';
      return new Set(section.split('\n').flatMap((l) => (/^\| `/.test(l) ? [...l.split('|')[1]!.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]!) : [])));
    };
    expect(new Set(Object.keys(action.inputs))).toEqual(listed('Inputs'));
    expect(new Set(Object.keys(action.outputs))).toEqual(listed('Outputs'));
  });

  it('finds each policy and the RBAC by its marker, wherever it lives', () => {
    for (const name of ['check', 'stages', 'upgrade'] as const) expect(readmePolicyActions(name).length).toBeGreaterThan(1);
    expect(readmeRbacRules()).toContain('patch deployments');
  });

  it('refuses a marker found twice, a missing one (naming it), and one with no code block under it', () => {
    const block = '<!-- rbac -->\n```yaml\nkind: Role\n```\n';
    expect(markedBlock('rbac', new Map([['a.md', `text\n\n${block}`]]))).toBe('kind: Role\n');
    expect(() =>
      markedBlock(
        'rbac',
        new Map([
          ['a.md', block],
          ['b.md', block],
        ]),
      ),
    ).toThrow('<!-- rbac --> is found 2 times (a.md:1, b.md:1)');
    expect(() => markedBlock('iam-policy:check', new Map([['a.md', block]]))).toThrow('no <!-- iam-policy:check --> block');
    expect(() => markedBlock('rbac', new Map([['a.md', '<!-- rbac -->\n\nsome prose\n\n```yaml\nkind: Role\n```\n']]))).toThrow('not followed by a code block');
    // a marker mentioned in prose or shown in an example is not a marker
    expect(markedBlock('rbac', new Map([['a.md', `Name it \`<!-- rbac -->\`.\n\n\`\`\`md\n<!-- rbac -->\n\`\`\`\n\n${block}`]]))).toBe('kind: Role\n');
  });
});
