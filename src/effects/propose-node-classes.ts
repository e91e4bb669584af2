import { proposedRelease, type NodegroupReport } from '../model/check-report.js';
import type { Manifest, NodeClassPin } from '../model/plan.js';
import { readRepoFile } from '../repo/github.js';
import { aliasProblem } from '../repo/node-class-pins.js';
import { bumpNodeClassFile } from '../repo/node-class-file.js';
import type { Context } from './proposal-common.js';

/*
 * A cluster's Karpenter EC2NodeClasses in its pull request (issue 25): the manifest's `nodeClasses`
 * pins moved to the alias the check found (status drift: a version published for the cluster's minor
 * and every flavour the NodePools allow, past min-release-age and, with stages, proven), and each pin's
 * `file` (the EC2NodeClass's own manifest) bumped the same way, unless a person moved it.
 */

/** A node class: what its kind pins by alias (../kinds/karpenter.ts pinKey). */
export const isNodeClass = (e: Pick<NodegroupReport, 'pinKey'>) => e.pinKey === 'alias';

/** The alias a node class runs now (`al2023@v20260505`), when it is one that can be pinned. */
export function currentAlias(e: NodegroupReport): string | undefined {
  const alias = e.amiType && e.releaseVersion ? `${e.amiType}@${e.releaseVersion}` : undefined;
  return alias && !aliasProblem(alias) ? alias : undefined;
}

/** The alias a drifted node class moves to. */
export const targetAlias = (e: NodegroupReport): string | undefined => e.nodeClass?.targetAlias ?? undefined;

/** What a drifted entry is moved to, as people read it: a node class's alias, a node group's release. */
export const targetText = (e: NodegroupReport): string | null => (isNodeClass(e) ? (targetAlias(e) ?? null) : proposedRelease(e));

/** A file the pull request changes beside the manifest. */
export interface FileChange {
  path: string;
  current: string | null;
  next: string;
}

/**
 * The EC2NodeClass files of the drifted node classes whose pin names one: bumped from the manifest's
 * pin to the target. What could not be bumped is said (for the body) and left as it is.
 */
export async function nodeClassFiles(
  ctx: Context,
  pins: Readonly<Record<string, NodeClassPin>>,
  drift: readonly NodegroupReport[],
): Promise<{ files: FileChange[]; notes: string[] }> {
  const files: FileChange[] = [];
  const notes: string[] = [];
  for (const e of drift) {
    const name = e.nodegroup as string;
    const pin = pins[name];
    const to = targetAlias(e);
    if (!pin?.file || !to) continue;
    const pending = files.find((f) => f.path === pin.file);
    const text = pending ? pending.next : await readRepoFile(ctx.github, ctx.repo, pin.file, ctx.defaultBranch);
    if (text === null) {
      notes.push(`\`${pin.file}\` (named for ${name}) does not exist on ${ctx.defaultBranch}: bump the alias where the EC2NodeClass is kept`);
      continue;
    }
    const bump = bumpNodeClassFile(pin.file, text, name, pin.alias, to);
    if ('problem' in bump) {
      notes.push(bump.problem);
      continue;
    }
    if (pending) pending.next = bump.next;
    else files.push({ path: pin.file, current: text, next: bump.next });
  }
  return { files: files.filter((f) => f.current !== f.next), notes };
}

/** A first manifest's node classes: each pinned at the alias it runs, or its target when it drifted. */
export function firstNodeClassPins(entries: readonly NodegroupReport[]): Manifest['nodeClasses'] {
  const pins: Record<string, NodeClassPin> = {};
  for (const e of entries.filter(isNodeClass)) {
    if (['unsupported', 'unknown', 'error', 'custom', 'tracks-latest'].includes(e.status)) continue;
    const alias = (e.status === 'drift' ? targetAlias(e) : undefined) ?? currentAlias(e);
    if (alias) pins[e.nodegroup as string] = { alias };
  }
  return Object.keys(pins).length > 0 ? pins : undefined;
}
