import { readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const root = new URL('../../', import.meta.url);

/** The documentation the tests read: README.md, then every docs/*.md in name order, as `path → text`. */
export function docFiles(): Map<string, string> {
  const docs = readdirSync(new URL('docs/', root))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return new Map(['README.md', ...docs].map((path) => [path, readFileSync(new URL(path, root), 'utf8')]));
}

/**
 * The code block that follows the marker `<!-- name -->` in `files` (by default README.md and docs/*.md).
 * A marker counts on a line of its own outside code blocks, so prose and examples that mention one do
 * not; a marker found twice, or not followed by a code block, is an error, and so is a missing one.
 */
export function markedBlock(name: string, files: Map<string, string> = docFiles()): string {
  const marker = `<!-- ${name} -->`;
  const found: { where: string; body: string | undefined }[] = [];
  for (const [path, text] of files) {
    const lines = text.split('\n');
    let fenced = false;
    lines.forEach((line, i) => {
      if (/^\s*```/.test(line)) fenced = !fenced;
      if (fenced || line.trim() !== marker) return;
      const rest = lines.slice(i + 1).join('\n');
      found.push({ where: `${path}:${i + 1}`, body: /^\s*```\w+\n([\s\S]*?\n)```/.exec(rest)?.[1] });
    });
  }
  if (found.length === 0) throw new Error(`no ${marker} block in ${[...files.keys()].join(', ')}`);
  if (found.length > 1) throw new Error(`${marker} is found ${found.length} times (${found.map((f) => f.where).join(', ')}): each block has one marker`);
  const [only] = found;
  if (!only?.body) throw new Error(`${marker} at ${only?.where} is not followed by a code block`);
  return only.body;
}

/** The IAM actions a documented policy allows (`<!-- iam-policy:NAME -->`). */
export function readmePolicyActions(name: 'check' | 'upgrade' | 'stages' | 'self-managed'): string[] {
  const policy = JSON.parse(markedBlock(`iam-policy:${name}`)) as { Statement: { Action: string | string[] }[] };
  return policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

/** The documented RBAC (`<!-- rbac -->`, or another marked block such as `rbac:check`) as `verb resource` rules. */
export function readmeRbacRules(name = 'rbac'): string[] {
  const rules: string[] = [];
  for (const doc of parseAllDocuments(markedBlock(name))) {
    const o = doc.toJS() as { kind: string; rules?: { resources: string[]; verbs: string[] }[] };
    for (const r of o.rules ?? []) for (const res of r.resources) for (const verb of r.verbs) rules.push(`${verb} ${res}`);
  }
  return rules;
}

/** Every workflow README.md and docs/*.md give to copy (YAML blocks with `on:` and `jobs:`). */
export function readmeWorkflows(): string[] {
  return [...docFiles().values()]
    .flatMap((text) => [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string))
    .filter((y) => /^on:/m.test(y) && /^jobs:/m.test(y));
}
