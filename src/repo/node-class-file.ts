import { isMap, isScalar, isSeq, parseAllDocuments, visit, type Scalar } from 'yaml';

/*
 * The bump of an EC2NodeClass's own manifest, kept in the repository beside the cluster's manifest
 * (the pin's `file`): plain YAML, one or more documents. The document `kind: EC2NodeClass` whose
 * `metadata.name` is the class gets the alias of its `spec.amiSelectorTerms[].alias` replaced in place
 * (the text of that one scalar), so every other byte of the file (comments, order, quoting, the other
 * documents) stays as it is. A file with no EC2NodeClass document (Helm values, a Kustomize patch) is bumped
 * where the pin is plainly visible: the one scalar anywhere in it whose value is exactly the pinned
 * alias; none, or more than one, is not changed (docs/karpenter.md).
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
  // Another class's manifest is not this one's: only a file with no EC2NodeClass at all is searched for the pin.
  if (!doc && docs.some((d) => d.get('kind') === 'EC2NodeClass')) return { problem: `${path} has no document kind: EC2NodeClass named ${name}: not changed` };
  if (!doc) return plainlyVisible(path, text, docs, name, from, to);
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
  return replaceScalar(path, text, node, name, from, to);
}

/** The one scalar's text with `from` replaced, every other byte kept. */
function replaceScalar(path: string, text: string, node: Scalar, name: string, from: string, to: string): NodeClassFileBump {
  const [start, end] = node.range!;
  const source = text.slice(start, end);
  if (!source.includes(from)) return { problem: `${path}: the alias of EC2NodeClass ${name} is written in a form this action does not rewrite: not changed` };
  return { next: text.slice(0, start) + source.replace(from, to) + text.slice(end) };
}

/** A file without the EC2NodeClass document (Helm values, a Kustomize patch): the pin where it is the one scalar equal to it. */
function plainlyVisible(path: string, text: string, docs: ReturnType<typeof parseAllDocuments>, name: string, from: string, to: string): NodeClassFileBump {
  const found: Scalar[] = [];
  for (const d of Array.isArray(docs) ? docs : [])
    visit(d, {
      Scalar: (_, node) => {
        if (node.value === from || node.value === to) found.push(node);
      },
    });
  const none = `${path} has no document kind: EC2NodeClass named ${name}`;
  if (found.length === 0) return { problem: `${none}, and ${from} appears nowhere in it: not changed` };
  if (found.length > 1) return { problem: `${none}, and ${from} appears ${found.length} times in it (which is ${name}'s is not plain): not changed` };
  if (found[0]!.value === to) return { next: text };
  return replaceScalar(path, text, found[0]!, name, from, to);
}
