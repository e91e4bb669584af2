import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const readme = () => readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The code block that follows `<!-- name -->` in the README. */
function block(name: string): string {
  const found = new RegExp(`<!-- ${name} -->\\s*\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(readme())?.[1];
  if (!found) throw new Error(`README has no ${name} block`);
  return found;
}

/** The IAM actions a README policy allows. */
export function readmePolicyActions(name: 'check' | 'upgrade' | 'stages'): string[] {
  const policy = JSON.parse(block(`iam-policy:${name}`)) as { Statement: { Action: string | string[] }[] };
  return policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

/** The README's RBAC as `verb resource` rules. */
export function readmeRbacRules(): string[] {
  const rules: string[] = [];
  for (const doc of parseAllDocuments(block('rbac'))) {
    const o = doc.toJS() as { kind: string; rules?: { resources: string[]; verbs: string[] }[] };
    for (const r of o.rules ?? []) for (const res of r.resources) for (const verb of r.verbs) rules.push(`${verb} ${res}`);
  }
  return rules;
}

/** Every workflow the README gives to copy (YAML blocks with `on:` and `jobs:`). */
export function readmeWorkflows(): string[] {
  return [...readme().matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string).filter((y) => /^on:/m.test(y) && /^jobs:/m.test(y));
}
