import {
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  type AutoScalingClient,
  type AutoScalingGroup,
  type Instance,
  type TagDescription,
} from '@aws-sdk/client-auto-scaling';

/*
 * The resumable record of a self-managed group's replacement (docs/self-managed.md, "The resumable
 * record"): tags on the Auto Scaling group, written before each step changes anything, so that the next
 * run, `restore` or the post step finds where a killed run was without the action's state.
 *
 * A tag value holds at most 256 characters (Auto Scaling API reference, Tag and TagDescription: "Value
 * ... Maximum length of 256"), so the record is split: `eks-ami-drift/replacing` holds the step, the
 * original capacity, the processes this run suspended and the template versions (short keys), and
 * `eks-ami-drift/replacing-old-<n>` the ids of the instances to replace, space-separated, as many tags
 * as they need. CreateOrUpdateTags overwrites a key that exists (API reference, CreateOrUpdateTags).
 * Where the group's instances come from (./self-managed-source.ts) needs more, each in a tag of its
 * own so none nears the limit: `eks-ami-drift/replacing-src` the group's own template's alias, the
 * default version it had, its image when not the target's and whether it is a mixed instances policy;
 * `eks-ami-drift/replacing-spec-<n>` each other template of a mixed instances policy;
 * `eks-ami-drift/replacing-lc-from` and `-lc-to` a launch configuration and its copy (names of up to
 * 255 characters: Auto Scaling API reference, LaunchConfiguration).
 */

export const RECORD_TAG = 'eks-ami-drift/replacing';
const OLD_TAG = `${RECORD_TAG}-old-`;
const SRC_TAG = `${RECORD_TAG}-src`;
const SPEC_TAG = `${RECORD_TAG}-spec-`;
const LC_FROM_TAG = `${RECORD_TAG}-lc-from`;
const LC_TO_TAG = `${RECORD_TAG}-lc-to`;
const TAG_VALUE_MAX = 256;

/** The steps, in order: each is written before it changes anything. */
export const STEPS = ['template', 'suspend', 'surge', 'drain', 'resume'] as const;
export type Step = (typeof STEPS)[number];

export interface ReplaceRecord {
  step: Step;
  /** The target image. */
  image: string;
  /** The group's capacity before the first change. */
  desired: number;
  min: number;
  max: number;
  /** The processes this run suspended (not those someone else had suspended before). */
  suspended: string[];
  /** The group's launch template (for a launch configuration group: id ''), the version it used, and the version made for the image (once made). */
  template: TemplateSpec;
  /** Its launch templates are in a mixed instances policy; `specs`: the policy's override templates (not the group's own). */
  mixed?: boolean;
  specs?: TemplateSpec[];
  /** A launch configuration group: its configuration and the copy made with the image (named before it is made). */
  lc?: { from: string; to: string };
  /** The instances to replace: those the group ran before. */
  old: string[];
  /** When the replacement started (ms since the epoch): scaling activities before it are not this run's. */
  startedAt: number;
}

/** A launch template the group launches from, as the group named it, and what was made of it. */
export interface TemplateSpec {
  id: string;
  /** The version number the group's version resolved to when the replacement started. */
  from: string;
  /** The version made for the image (once made). */
  version?: string;
  /** `$Latest` or `$Default` when the group named that instead of a number. */
  alias?: string;
  /** The template's default version before it was set to the one made (a `$Default` group). */
  defaultFrom?: string;
  /** Its image when not the record's (another architecture's, in a mixed instances policy). */
  image?: string;
}

interface CompactSpec {
  lt: string;
  f: string;
  v?: string;
  a?: string;
  dv?: string;
  i?: string;
}

const compactSpec = (t: TemplateSpec): CompactSpec => ({
  lt: t.id,
  f: t.from,
  ...(t.version ? { v: t.version } : {}),
  ...(t.alias ? { a: t.alias } : {}),
  ...(t.defaultFrom ? { dv: t.defaultFrom } : {}),
  ...(t.image ? { i: t.image } : {}),
});
const specOf = (c: CompactSpec): TemplateSpec => ({
  id: c.lt,
  from: c.f,
  ...(c.v ? { version: c.v } : {}),
  ...(c.a ? { alias: c.a } : {}),
  ...(c.dv ? { defaultFrom: c.dv } : {}),
  ...(c.i ? { image: c.i } : {}),
});

interface Compact {
  s: Step;
  i: string;
  d: number;
  n: number;
  x: number;
  p: string[];
  lt: string;
  f: string;
  v?: string;
  t: number;
}

/** The record's tags: the main one and the instance-id chunks. */
export function encodeRecord(r: ReplaceRecord): Record<string, string> {
  const compact: Compact = {
    s: r.step,
    i: r.image,
    d: r.desired,
    n: r.min,
    x: r.max,
    p: r.suspended,
    lt: r.template.id,
    f: r.template.from,
    ...(r.template.version ? { v: r.template.version } : {}),
    t: Math.floor(r.startedAt / 1000),
  };
  const main = JSON.stringify(compact);
  if (main.length > TAG_VALUE_MAX) throw new Error(`the resumable record is ${main.length} characters, more than a tag's ${TAG_VALUE_MAX}: ${main}`);
  const tags: Record<string, string> = { [RECORD_TAG]: main };
  const t = r.template;
  if (t.alias || t.defaultFrom || t.image || r.mixed)
    tags[SRC_TAG] = JSON.stringify({
      ...(t.alias ? { a: t.alias } : {}),
      ...(t.defaultFrom ? { dv: t.defaultFrom } : {}),
      ...(t.image ? { i: t.image } : {}),
      ...(r.mixed ? { m: 1 } : {}),
    });
  (r.specs ?? []).forEach((spec, n) => (tags[`${SPEC_TAG}${n + 1}`] = JSON.stringify(compactSpec(spec))));
  if (r.lc) Object.assign(tags, { [LC_FROM_TAG]: r.lc.from, [LC_TO_TAG]: r.lc.to });
  for (const [key, value] of Object.entries(tags))
    if (value.length > TAG_VALUE_MAX)
      throw new Error(`the resumable record's tag ${key} is ${value.length} characters, more than a tag's ${TAG_VALUE_MAX}: ${value}`);
  let chunk: string[] = [];
  let n = 0;
  const flush = () => {
    if (chunk.length > 0) tags[`${OLD_TAG}${++n}`] = chunk.join(' ');
    chunk = [];
  };
  for (const id of r.old) {
    if ([...chunk, id].join(' ').length > TAG_VALUE_MAX) flush();
    chunk.push(id);
  }
  flush();
  return tags;
}

/** The record on the group's tags, undefined when there is none; throws when it cannot be read. */
export function decodeRecord(tags: readonly TagDescription[] | undefined): ReplaceRecord | undefined {
  const value = (key: string) => tags?.find((t) => t.Key === key)?.Value;
  const main = value(RECORD_TAG);
  if (main === undefined) return undefined;
  let c: Compact;
  try {
    c = JSON.parse(main) as Compact;
  } catch {
    throw new Error(`the tag ${RECORD_TAG} is not a record this action wrote (${main}): remove it once the group is as it should be`);
  }
  if (!STEPS.includes(c.s) || typeof c.d !== 'number' || typeof c.x !== 'number' || typeof c.lt !== 'string')
    throw new Error(`the tag ${RECORD_TAG} is not a record this action wrote (${main}): remove it once the group is as it should be`);
  const old: string[] = [];
  for (let n = 1; value(`${OLD_TAG}${n}`) !== undefined; n++) old.push(...(value(`${OLD_TAG}${n}`) ?? '').split(' ').filter(Boolean));
  let src: { a?: string; dv?: string; i?: string; m?: number } = {};
  const specs: TemplateSpec[] = [];
  try {
    src = JSON.parse(value(SRC_TAG) ?? '{}') as typeof src;
    for (let n = 1; value(`${SPEC_TAG}${n}`) !== undefined; n++) specs.push(specOf(JSON.parse(value(`${SPEC_TAG}${n}`)!) as CompactSpec));
  } catch {
    throw new Error(`the tags ${RECORD_TAG}-src and -spec-<n> are not a record this action wrote: remove them once the group is as it should be`);
  }
  const [lcFrom, lcTo] = [value(LC_FROM_TAG), value(LC_TO_TAG)];
  return {
    step: c.s,
    image: c.i,
    desired: c.d,
    min: c.n,
    max: c.x,
    suspended: c.p ?? [],
    template: specOf({ lt: c.lt, f: c.f, ...(c.v ? { v: c.v } : {}), ...src }),
    ...(src.m ? { mixed: true } : {}),
    ...(specs.length > 0 ? { specs } : {}),
    ...(lcFrom !== undefined && lcTo !== undefined ? { lc: { from: lcFrom, to: lcTo } } : {}),
    old,
    startedAt: c.t * 1000,
  };
}

export async function describeGroup(autoscaling: AutoScalingClient, name: string): Promise<AutoScalingGroup | undefined> {
  const { AutoScalingGroups } = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  return AutoScalingGroups?.[0];
}

/**
 * Auto Scaling's tag limits (user guide, "Tag Auto Scaling groups and instances", Tag restrictions): at most
 * 50 tags per group, and 25 added or removed in one call.
 */
const TAGS_PER_GROUP = 50;
const TAGS_PER_CALL = 25;

/** Why the record cannot be written to a group with these tags (it would pass Auto Scaling's 50), or null. */
export function recordRoom(tags: readonly TagDescription[] | undefined, record: ReplaceRecord): string | null {
  const others = (tags ?? []).filter((t) => !(t.Key ?? '').startsWith(RECORD_TAG)).length;
  const needed = Object.keys(encodeRecord(record)).length;
  if (others + needed <= TAGS_PER_GROUP) return null;
  return (
    `its resumable record needs ${needed} tags (${record.old.length} instances to replace) and the group has ${others} ` +
    `of the ${TAGS_PER_GROUP} Auto Scaling allows: nothing was changed; remove tags it does not need, or replace it in smaller groups`
  );
}

/** Writes the record (all its tags, 25 a call, the main tag last; PropagateAtLaunch false: the instances need not carry it). */
export async function writeRecord(autoscaling: AutoScalingClient, group: string, record: ReplaceRecord): Promise<void> {
  const entries = Object.entries(encodeRecord(record));
  const tags = [...entries.filter(([k]) => k !== RECORD_TAG), ...entries.filter(([k]) => k === RECORD_TAG)].map(([Key, Value]) => ({
    ResourceId: group,
    ResourceType: 'auto-scaling-group',
    Key,
    Value,
    PropagateAtLaunch: false,
  }));
  for (let i = 0; i < tags.length; i += TAGS_PER_CALL) await autoscaling.send(new CreateOrUpdateTagsCommand({ Tags: tags.slice(i, i + TAGS_PER_CALL) }));
}

/** Removes the record's tags, the others first, the main tag last (a run killed between finds the main one). */
export async function removeRecord(autoscaling: AutoScalingClient, group: string): Promise<void> {
  const g = await describeGroup(autoscaling, group);
  const keys = (g?.Tags ?? []).map((t) => t.Key ?? '').filter((k) => k.startsWith(`${RECORD_TAG}-`));
  const tag = (Key: string) => ({ ResourceId: group, ResourceType: 'auto-scaling-group', Key });
  for (let i = 0; i < keys.length; i += TAGS_PER_CALL) await autoscaling.send(new DeleteTagsCommand({ Tags: keys.slice(i, i + TAGS_PER_CALL).map(tag) }));
  await autoscaling.send(new DeleteTagsCommand({ Tags: [tag(RECORD_TAG)] }));
}

/** An instance still in the group (not on its way out). */
export const active = (i: Instance): boolean => !String(i.LifecycleState ?? '').startsWith('Terminat');

/** The instance id in a node's `spec.providerID`, `aws:///<zone>/<instance-id>` (the AWS cloud provider's form). */
export function instanceOf(providerID: string | undefined): string | undefined {
  return /^aws:\/\/\/[^/]*\/(i-[0-9a-f]+)$/.exec(providerID ?? '')?.[1];
}
