import type { ClusterState, NodegroupState } from '../model/fleet.js';
import type { NodegroupReport, StageProof } from '../model/check-report.js';
import { kubernetesMinor } from './release.js';
import { compareTrains, releaseOnTrain, trainOf, type Train } from './train.js';
import { proveTrain, type Proof, type StageMember } from './proof.js';
import type { RolloutCell } from '../model/check-report.js';
import type { StageSettings } from '../model/settings.js';

export interface ClusterStage {
  index: number;
  name: string;
  /** Why the cluster is in that stage when its tag did not say so plainly. */
  note: string | null;
}

/**
 * A cluster's stage: its `stage-tag` tag's value among `stages` (case-insensitive). A cluster without
 * the tag, or with a value that names no stage, belongs to the last stage: the cautious default, a
 * cluster nobody placed is treated as production.
 */
export function stageOf(cluster: Pick<ClusterState, 'tags'>, stages: StageSettings): ClusterStage {
  const last = stages.names.length - 1;
  const value = cluster.tags?.[stages.tag]?.trim();
  if (value === undefined) return { index: last, name: stages.names[last]!, note: `no ${stages.tag} tag: in the last stage` };
  const index = stages.names.findIndex((n) => n.toLowerCase() === value.toLowerCase());
  if (index < 0)
    return { index: last, name: stages.names[last]!, note: `its tag ${stages.tag}=${value} names no stage of ${stages.names.join(', ')}: in the last stage` };
  return { index, name: stages.names[index]!, note: null };
}

/** The release and AMI type a node group runs, as its kind tells it (../kinds/registry.ts runningRelease); undefined: not a member. */
export type RunningRelease = (ng: NodegroupState) => { release: string; amiType: string } | undefined;

/**
 * A managed node group as the proof sees it, from AWS's state alone (so a node group upgraded by hand
 * counts as one the action upgraded):
 * - its train: from its release version (or its EKS-optimized image's name);
 * - since when: the latest successful version update in EKS's history, else the node group's
 *   creation. An update's only time is its `createdAt` (EKS API reference, Update: createdAt, errors,
 *   id, params, status, type; no completion time), so the soak counts from when it was asked for;
 * - its failures: each failed version update, by the train of its ReleaseVersion parameter, and the
 *   health gate's unhealthy mark.
 * Self-managed groups are not members: their image changes leave no history in EKS.
 */
export function memberOf(cluster: ClusterState, ng: NodegroupState, stage: number, runs: RunningRelease): StageMember | undefined {
  if (ng.error) return undefined;
  const of = runs(ng);
  if (!of) return undefined;
  const updates = ng.updates ?? [];
  const lastSuccess = [...updates].reverse().find((u) => u.status === 'Successful');
  const since = ng.historyError ? null : (lastSuccess?.createdAt ?? ng.createdAt ?? null);
  const failures: StageMember['failures'] = [];
  let untold: string | undefined;
  for (const u of updates.filter((u) => u.status === 'Failed')) {
    // A CUSTOM node group's update names a launch template version, not a release (EKS API reference,
    // UpdateNodegroupVersion, example 2): its train is that of the image the version names, as its kind reads it.
    const release = u.releaseVersion ?? (u.image ? runs({ ...ng, image: u.image })?.release : undefined);
    const train = release ? trainOf(release, of.amiType) : undefined;
    const to = u.releaseVersion ?? `launch template version ${u.launchTemplateVersion} (${release ?? 'image unknown'})`;
    const errors = u.errors.length ? `: ${u.errors.join('; ')}` : '';
    if (train) failures.push({ train: train.id, updateId: u.id, at: u.createdAt, what: `update ${u.id} to ${to} failed${errors}` });
    // A failure whose train cannot be told, since the node group got onto what it runs: it may be the
    // train being proven, so the node group proves nothing until a later update succeeds.
    else if (!u.releaseVersion && u.launchTemplateVersion && u.createdAt >= (lastSuccess?.createdAt ?? ng.createdAt ?? 0)) {
      const why = u.image?.error ?? (u.image?.info === null ? `image ${u.image.imageId} not found` : 'not an EKS-optimized AMI of AWS');
      untold = `update ${u.id} to launch template version ${u.launchTemplateVersion} failed${errors}; the train of its image cannot be told (${why})`;
    }
  }
  // A CUSTOM node group's mark names its image id (the health gate's target): the train is that of the
  // release its image is, while it still runs that image; a mark on an image it no longer runs cannot be told.
  const markRelease = ng.unhealthy && ng.unhealthy.target === ng.image?.imageId ? of.release : ng.unhealthy?.target;
  const mark = markRelease ? trainOf(markRelease, of.amiType) : undefined;
  if (mark)
    failures.push({
      train: mark.id,
      updateId: null,
      at: Date.parse(ng.unhealthy!.at) || 0,
      what: `its workloads did not come back healthy on ${ng.unhealthy!.target} (health gate)`,
    });
  return {
    cluster: cluster.name,
    nodegroup: ng.name,
    stage,
    amiType: of.amiType,
    train: trainOf(of.release, of.amiType),
    since,
    failures,
    release: of.release,
    sinceUpdateId: lastSuccess?.id ?? null,
    ...(ng.historyError || untold ? { unreadable: ng.historyError ?? untold } : {}),
  };
}

/** Every managed node group of the clusters read, as the staged rollout's proof sees it. */
export function membersOf(clusters: readonly ClusterState[], stages: StageSettings, runs: RunningRelease): StageMember[] {
  return clusters
    .filter((c) => !c.error)
    .flatMap((c) => c.nodegroups.map((ng) => memberOf(c, ng, stageOf(c, stages).index, runs)).filter((m): m is StageMember => m !== undefined));
}

export interface StageContext {
  stages: StageSettings;
  members: readonly StageMember[];
  now: number;
  /** Releases known for one SSM parameter (an AMI type and minor): run by node groups, published, or in its history. */
  knownReleases: (parameter: string, amiType: string, minor: string) => readonly string[];
  /** Called when a proven train's release at a minor is not among the known ones: the caller may read more and decide again. */
  missing?: (parameter: string) => void;
  /** Why a parameter's history could not be read, when it could not. */
  historyError?: (parameter: string) => string | undefined;
}

const WAITS = new Set<NodegroupReport['status']>(['drift', 'soaking']);

/**
 * The staged rollout's word on one node group's check entry. The first stage is decided as without
 * stages. In a later stage, a newer release is only `drift` once its train is proven by every earlier
 * stage (proveTrain); otherwise the node group drifts toward the newest proven train newer than what
 * it runs, at its own minor, or it is `waiting`, with what holds the train back.
 */
export function decideStage(entry: NodegroupReport, stage: ClusterStage, ctx: StageContext): NodegroupReport {
  const staged: NodegroupReport = { ...entry, stage: stage.name };
  if (stage.index === 0 || !WAITS.has(entry.status) || !entry.amiType || !entry.latestReleaseVersion) return staged;
  const amiType = entry.amiType;
  const latest = trainOf(entry.latestReleaseVersion, amiType);
  const current = entry.releaseVersion ? trainOf(entry.releaseVersion, amiType) : undefined;
  if (!latest || !current) return staged;
  const earlierNames = ctx.stages.names.slice(0, stage.index).join(', ');
  const soak = ctx.stages.soak;
  const proof = proveTrain(ctx.members, amiType, stage.index, latest, soak.ms, ctx.now);
  if (!proof.applies) {
    return {
      ...staged,
      proof: proofReport(proof, latest, stage, ctx, amiType),
      reason:
        `${entry.reason} · stage ${stage.name}: no ${amiType} node group runs in an earlier stage (${earlierNames}), ` +
        'so the stage gate could not apply: min-release-age alone decides',
    };
  }
  if (proof.proven) {
    const report = proofReport(proof, latest, stage, ctx, amiType);
    return { ...staged, proof: report, reason: `${entry.reason} · ${provenBy(report, stage, ctx)}` };
  }

  // The newest train between what it runs and the latest that the earlier stages have proven.
  const candidates = uniqueTrains(
    ctx.members
      .filter((m) => m.amiType === amiType && m.stage < stage.index && m.train)
      .map((m) => m.train!)
      .filter((t) => (compareTrains(t, current) ?? 0) > 0 && (compareTrains(t, latest) ?? 0) < 0),
  ).sort((a, b) => compareTrains(b, a) ?? 0);
  const held = holdText(proof, latest, stage, soak.text);
  for (const train of candidates) {
    const older = proveTrain(ctx.members, amiType, stage.index, train, soak.ms, ctx.now);
    if (!older.proven) continue;
    const minor = entry.kubernetesVersion ? kubernetesMinor(entry.kubernetesVersion) : undefined;
    const parameter = entry.latestReleaseParameter;
    const target =
      minor && parameter && entry.pinKey === 'releaseVersion' ? releaseOnTrain(train, amiType, ctx.knownReleases(parameter, amiType, minor)) : undefined;
    if (!target) {
      if (parameter && entry.imageId === null) ctx.missing?.(parameter);
      return {
        ...staged,
        status: 'waiting',
        proof: proofReport(older, train, stage, ctx, amiType),
        reason:
          entry.imageId !== null
            ? `${train.id} is proven for stage ${stage.name}, but a node group named by image follows only the latest image; ${held}`
            : `${train.id} is proven for stage ${stage.name}, but its release for Kubernetes ${minor ?? '?'} is not known: ` +
              `no node group runs it, and the history of ${parameter ?? 'its SSM parameter'} ` +
              `${parameter && ctx.historyError?.(parameter) ? `could not be read (${ctx.historyError(parameter)})` : 'does not name it'}. ` +
              `Pin it by hand (release-version, or the manifest) once you know it; ${held}`,
      };
    }
    const report = proofReport(older, train, stage, ctx, amiType);
    return {
      ...staged,
      status: 'drift',
      targetReleaseVersion: target,
      proof: report,
      reason: `${entry.releaseVersion} → ${target}: ${provenBy(report, stage, ctx)}; the newest, ${entry.latestReleaseVersion}, is not: ${held}`,
    };
  }
  return {
    ...staged,
    status: 'waiting',
    proof: proofReport(proof, latest, stage, ctx, amiType),
    reason: `${entry.latestReleaseVersion} is published but not proven for stage ${stage.name}: ${held}`,
  };
}

function uniqueTrains(trains: Train[]): Train[] {
  return [...new Map(trains.map((t) => [t.id, t])).values()];
}

/** What holds a train back, most decisive first: a failure, then the node groups and the time left. */
function holdText(proof: Proof, train: Train, stage: ClusterStage, soak: string): string {
  if (proof.failures.length > 0) {
    const f = proof.failures[0]!;
    const more = proof.failures.length > 1 ? ` (and ${proof.failures.length - 1} more failure(s))` : '';
    return (
      `${train.id} failed in an earlier stage: ${f.cluster}/${f.nodegroup}: ${f.what}${more}. ` +
      `It is not proposed to ${stage.name}; a newer train that proves itself will be`
    );
  }
  const shown = proof.holders.slice(0, 3).join('; ');
  const more = proof.holders.length > 3 ? `; and ${proof.holders.length - 3} more` : '';
  const when = proof.provenAt !== null ? ` (proven at ${new Date(proof.provenAt).toISOString()} at the earliest)` : '';
  return `${train.id} waits for the earlier stages (each node group ${soak} on it): ${shown}${more}${when}`;
}

function provenBy(proof: StageProof, stage: ClusterStage, ctx: StageContext): string {
  return (
    `${proof.train} proven for stage ${stage.name} by ${proof.evidence.length} node group(s) of the earlier stages, ` +
    `each ${ctx.stages.soak.text} or more on it without a failed update`
  );
}

function evidenceOf(train: Train, stage: ClusterStage, ctx: StageContext, amiType: string): StageProof['evidence'] {
  return ctx.members
    .filter((m) => m.amiType === amiType && m.stage < stage.index && m.train && (compareTrains(m.train, train) ?? -1) >= 0)
    .map((m) => ({
      cluster: m.cluster,
      nodegroup: m.nodegroup,
      stage: ctx.stages.names[m.stage]!,
      release: m.release ?? null,
      since: m.since === null ? null : new Date(m.since).toISOString(),
      updateId: m.sinceUpdateId ?? null,
    }));
}

function proofReport(proof: Proof, train: Train, stage: ClusterStage, ctx: StageContext, amiType: string): StageProof {
  return {
    train: train.id,
    applies: proof.applies,
    proven: proof.proven,
    provenAt: proof.provenAt === null ? null : new Date(proof.provenAt).toISOString(),
    holders: proof.holders,
    failures: proof.failures.map((f) => ({ cluster: f.cluster, nodegroup: f.nodegroup, updateId: f.updateId, at: new Date(f.at).toISOString(), what: f.what })),
    evidence: proof.applies ? evidenceOf(train, stage, ctx, amiType) : [],
  };
}

/** The stages × AMI types table of the check's summary and report. */
export function rolloutTable(stages: StageSettings, members: readonly StageMember[], entries: readonly NodegroupReport[]): RolloutCell[] {
  const cells = new Map<string, RolloutCell>();
  const cellOf = (stage: string, amiType: string) => {
    const key = `${stage}\u0000${amiType}`;
    if (!cells.has(key)) cells.set(key, { stage, amiType, trains: [], drift: 0, waiting: 0, waitingFor: [] });
    return cells.get(key)!;
  };
  for (const m of members) {
    const cell = cellOf(stages.names[m.stage]!, m.amiType);
    const id = m.train?.id ?? 'unknown';
    const row = cell.trains.find((t) => t.train === id);
    const since = m.since === null ? null : new Date(m.since).toISOString();
    if (row) {
      row.nodegroups++;
      if (since && (!row.since || since < row.since)) row.since = since;
    } else cell.trains.push({ train: id, nodegroups: 1, since });
  }
  for (const e of entries) {
    if (!e.stage || !e.amiType || e.nodegroup === null) continue;
    const cell = cellOf(e.stage, e.amiType);
    if (e.status === 'drift') cell.drift++;
    if (e.status === 'waiting') {
      cell.waiting++;
      if (e.proof && !cell.waitingFor.some((w) => w.train === e.proof!.train))
        cell.waitingFor.push({ train: e.proof.train, provenAt: e.proof.provenAt, failed: e.proof.failures.length > 0 });
    }
  }
  const order = (c: RolloutCell) => stages.names.indexOf(c.stage);
  for (const c of cells.values()) c.trains.sort((a, b) => b.train.localeCompare(a.train, undefined, { numeric: true }));
  return [...cells.values()].sort((a, b) => order(a) - order(b) || a.amiType.localeCompare(b.amiType));
}
