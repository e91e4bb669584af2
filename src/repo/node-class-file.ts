import { isMap, isScalar, isSeq, parseAllDocuments, type Scalar } from 'yaml';

/*
 * The bump of an EC2NodeClass's own manifest, kept in the repository beside the cluster's manifest
 * (the pin's `file`): plain YAML, one or more documents. The document `kind: EC2NodeClass` whose
 * `metadata.name` is the class gets the alias of its `spec.amiSelectorTerms[].alias` replaced in place
 * (the text of that one scalar), so every other byte of the file (comments, order, quoting, the other
 * documents) stays as it is. Kustomize overlays and Helm values are not read (docs/karpenter.md).
 */

export type NodeClassFileBump = { next: string } | { problem: string };

/**
 * The file's text with `name`'s alias moved from `from` (the manifest's pin) to `to`. A file without
 * that document or an alias term, or whose alias is neither (a person moved it), is not changed: the
 * problem says why, for the pull request's body.
 */
export function bumpNodeClassFile(path: string, text: string, name: string, from: string, to: string): NodeClassFileBump {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return { problem: `${path} is not YAML documents` };
  const broken = docs.find((d) => d.errors.length > 0);
  if (broken) return { problem: `${path} is not valid YAML (${broken.errors[0]!.message.split('\n')[0]}): not changed` };
  const doc = docs.find((d) => d.get('kind') === 'EC2NodeClass' && d.getIn(['metadata', 'name']) === name);
  if (!doc) return { problem: `${path} has no document kind: EC2NodeClass named ${name}: not changed` };
  const terms = doc.getIn(['spec', 'amiSelectorTerms'], true);
  const aliases: Scalar[] = [];
  if (isSeq(terms))
    for (const term of terms.items) {
      const alias = isMap(term) ? term.get('alias', true) : undefined;
      if (isScalar(alias)) aliases.push(alias);
    }
  if (aliases.length !== 1)
    return { problem: `${path}: EC2NodeClass ${name} has ${aliases.length === 0 ? 'no' : 'more than one'} alias in spec.amiSelectorTerms: not changed` };
  const node = aliases[0]!;
  if (node.value === to) return { next: text };
  if (node.value !== from)
    return {
      problem:
        `${path}: EC2NodeClass ${name} names ${String(node.value)}, not ${from} as the cluster's manifest pins: ` + 'a person moved it, so it is left as it is',
    };
  const [start, end] = node.range!;
  const source = text.slice(start, end);
  if (!source.includes(from)) return { problem: `${path}: the alias of EC2NodeClass ${name} is written in a form this action does not rewrite: not changed` };
  return { next: text.slice(0, start) + source.replace(from, to) + text.slice(end) };
}
