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
 */

export const RECORD_TAG = 'eks-ami-drift/replacing';
const OLD_TAG = `${RECORD_TAG}-old-`;
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
  /** The group's launch template, the version it used, and the version made for the image (once made). */
  template: { id: string; from: string; version?: string };
  /** The instances to replace: those the group ran before. */
  old: string[];
  /** When the replacement started (ms since the epoch): scaling activities before it are not this run's. */
  startedAt: number;
}

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
  return {
    step: c.s,
    image: c.i,
    desired: c.d,
    min: c.n,
    max: c.x,
    suspended: c.p ?? [],
    template: { id: c.lt, from: c.f, ...(c.v ? { version: c.v } : {}) },
    old,
    startedAt: c.t * 1000,
  };
}

export async function describeGroup(autoscaling: AutoScalingClient, name: string): Promise<AutoScalingGroup | undefined> {
  const { AutoScalingGroups } = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  return AutoScalingGroups?.[0];
}

/** Writes the record (all its tags; PropagateAtLaunch false: the instances need not carry it). */
export async function writeRecord(autoscaling: AutoScalingClient, group: string, record: ReplaceRecord): Promise<void> {
  const tags = Object.entries(encodeRecord(record)).map(([Key, Value]) => ({
    ResourceId: group,
    ResourceType: 'auto-scaling-group',
    Key,
    Value,
    PropagateAtLaunch: false,
  }));
  await autoscaling.send(new CreateOrUpdateTagsCommand({ Tags: tags }));
}

/** Removes the record's tags, the instance-id chunks first, the main tag last (a run killed between finds the main one). */
export async function removeRecord(autoscaling: AutoScalingClient, group: string): Promise<void> {
  const g = await describeGroup(autoscaling, group);
  const keys = (g?.Tags ?? []).map((t) => t.Key ?? '').filter((k) => k.startsWith(OLD_TAG));
  const tag = (Key: string) => ({ ResourceId: group, ResourceType: 'auto-scaling-group', Key });
  if (keys.length > 0) await autoscaling.send(new DeleteTagsCommand({ Tags: keys.map(tag) }));
  await autoscaling.send(new DeleteTagsCommand({ Tags: [tag(RECORD_TAG)] }));
}

/** An instance still in the group (not on its way out). */
export const active = (i: Instance): boolean => !String(i.LifecycleState ?? '').startsWith('Terminat');

/** The instance id in a node's `spec.providerID`, `aws:///<zone>/<instance-id>` (the AWS cloud provider's form). */
export function instanceOf(providerID: string | undefined): string | undefined {
  return /^aws:\/\/\/[^/]*\/(i-[0-9a-f]+)$/.exec(providerID ?? '')?.[1];
}
