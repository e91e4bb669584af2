import { isMap, isScalar, type Document, type Node } from 'yaml';
import type { NodeClassPin } from '../model/plan.js';

/*
 * The `nodeClasses:` map of a cluster's manifest (docs/karpenter.md, "Pinning node classes"): by
 * EC2NodeClass name, the alias it should name and, optionally, the repository file holding the
 * EC2NodeClass's own manifest, bumped in the same pull request.
 */

export const NODE_CLASS_KEYS = ['alias', 'file'];

/**
 * The versioned aliases that can be pinned, in the version format of Karpenter's own examples
 * ("al2023@v20240625" or "bottlerocket@v1.10.0"; Windows families only `latest`: aws/karpenter-provider-aws
 * pkg/apis/v1/ec2nodeclass.go, AMISelectorTerm.Alias). AL2 is refused here: no longer patched.
 */
const PINNABLE: Record<string, RegExp> = { al2023: /^v\d{8}$/, bottlerocket: /^v\d+\.\d+\.\d+$/ };
const EXAMPLE: Record<string, string> = { al2023: 'al2023@v20250505', bottlerocket: 'bottlerocket@v1.34.0' };
const ACCEPTED = 'family@version, a versioned alias of al2023 (al2023@v20250505) or bottlerocket (bottlerocket@v1.34.0)';

/** Karpenter's own words on `@latest` (karpenter.sh, Tasks, "Managing AMIs"). */
const LATEST =
  'Karpenter heavily recommends against opting-in to use an amiSelectorTerm with @latest unless you are doing this in a pre-production environment ' +
  '(karpenter.sh, "Managing AMIs"): pin a version here, and the action proposes the next one';

/** Why an alias cannot be pinned, or undefined when it can. */
export function aliasProblem(alias: string): string | undefined {
  const [family, version, ...rest] = alias.split('@');
  if (!family || !version || rest.length > 0) return `${JSON.stringify(alias)} is not an alias (expected ${ACCEPTED})`;
  if (version === 'latest') return `${JSON.stringify(alias)} cannot be pinned: ${LATEST}`;
  const form = PINNABLE[family];
  if (!form) {
    const why = family.startsWith('windows')
      ? 'Windows aliases take only @latest'
      : family === 'al2'
        ? 'Amazon Linux 2 is no longer patched'
        : 'unknown family';
    return `${JSON.stringify(alias)} cannot be pinned (${why}): expected ${ACCEPTED}`;
  }
  if (!form.test(version)) return `${JSON.stringify(alias)}: ${version} is not a ${family} version (expected the form ${EXAMPLE[family]})`;
  return undefined;
}

/** A problem in the `nodeClasses:` map: its line and what is wrong. */
export interface PinProblem {
  line: number;
  problem: string;
}

/**
 * Reads the `nodeClasses:` map; a problem names its line and the accepted form. `existing`, when
 * given, is the cluster's EC2NodeClasses: a pin of another name is a problem.
 */
export function parseNodeClassPins(
  node: Node | null,
  lineOf: (node: Node | null | undefined) => number,
  existing?: readonly string[],
): { pins: Record<string, NodeClassPin> } | PinProblem {
  if (!isMap(node)) return { line: lineOf(node), problem: 'nodeClasses: expected a mapping of EC2NodeClass name to alias (and optionally file)' };
  const pins: Record<string, NodeClassPin> = {};
  for (const item of node.items) {
    const name = isScalar(item.key) ? String(item.key.value) : '';
    const at = lineOf(item.key as Node);
    if (existing && !existing.includes(name))
      return { line: at, problem: `node class ${JSON.stringify(name)} is not an EC2NodeClass of the cluster (it has ${existing.join(', ') || 'none'})` };
    if (!isMap(item.value)) return { line: at, problem: `nodeClasses.${name}: expected alias: ${EXAMPLE.al2023} (and optionally file: <path>)` };
    const pin: Partial<NodeClassPin> = {};
    for (const field of item.value.items) {
      const key = isScalar(field.key) ? String(field.key.value) : '';
      const line = lineOf(field.key as Node);
      if (!NODE_CLASS_KEYS.includes(key))
        return { line, problem: `unknown key ${JSON.stringify(key)} in node class ${name} (expected ${NODE_CLASS_KEYS.join(', ')})` };
      const value = isScalar(field.value) ? field.value.value : undefined;
      if (typeof value !== 'string' || !value) return { line, problem: `nodeClasses.${name}.${key}: expected a string` };
      if (key === 'alias') {
        const problem = aliasProblem(value);
        if (problem) return { line, problem: `nodeClasses.${name}.alias: ${problem}` };
        pin.alias = value;
        pin.line = line;
      } else {
        if (value.startsWith('/') || value.split('/').includes('..'))
          return {
            line,
            problem: `nodeClasses.${name}.file: ${JSON.stringify(value)} is not a path inside the repository (expected deploy/karpenter/${name}.yaml)`,
          };
        pin.file = value;
      }
    }
    if (!pin.alias) return { line: at, problem: `nodeClasses.${name}: no alias (expected alias: ${EXAMPLE.al2023})` };
    pins[name] = pin as NodeClassPin;
  }
  return { pins };
}

/** The map's plain value, for a new manifest (names sorted). */
export function nodeClassesValue(pins: Readonly<Record<string, NodeClassPin>>): Record<string, { alias: string; file?: string }> {
  return Object.fromEntries(
    Object.entries(pins)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, pin]) => [name, { alias: pin.alias, ...(pin.file ? { file: pin.file } : {}) }]),
  );
}

/** Moves pins in a parsed manifest, keeping the rest (a pin's file, comments) as it is; a class not pinned yet gets an entry. */
export function setNodeClassAliases(doc: Document, aliases: Readonly<Record<string, string>>): void {
  for (const [name, alias] of Object.entries(aliases)) doc.setIn(['nodeClasses', name, 'alias'], alias);
}
