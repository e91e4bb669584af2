import { nodeClassMarkName, UNHEALTHY_PARAMETER_PATH, type ClusterState, type UnhealthyMark } from '../model/fleet.js';
import type { NodegroupReport, StageProof } from '../model/check-report.js';
import type { StageSettings } from '../model/settings.js';
import { aliasText, compareAliasVersions, parseAlias } from './karpenter-alias.js';
import { formatDuration } from './duration.js';
import { stageOf, type ClusterStage } from './stages.js';

/*
 * The staged rollout for Karpenter node classes (issue 25 item 4), pure. A later stage's node class
 * gets a version only once every node class of the same family in the earlier stages has run it (or a
 * newer one) for stage-soak with healthy nodes. The evidence is the cluster's own state, as Karpenter
 * records it, so a canary bumped by hand counts as much as one the action bumped:
 * - the version: the class's pinned alias (`al2023@v20260625`); an `@latest` class proves nothing (what
 *   it ran, and since when, is not recorded);
 * - its nodes on it: the NodeClaims whose `status.imageID` is one of the images the class resolves now
 *   (`status.amis`), none left on an older image (Karpenter's drift finished), at least one;
 * - since when: the oldest of those NodeClaims' creation (the first node Karpenter made on the version);
 * - healthy: each of them `Ready` (Launched, Registered, Initialized: kubernetes-sigs/karpenter
 *   pkg/apis/v1/nodeclaim_status.go).
 */

export interface NodeClassMember {
  cluster: string;
  nodeClass: string;
  stage: number;
  family: string;
  version: string;
  /** NodeClaims on the images it resolves now, those on older ones, and those of the first not Ready. */
  onIt: number;
  onOlder: number;
  notReady: number;
  /** The oldest NodeClaim on it (ms); null: none. */
  since: number | null;
  /** The health gate's mark on it: its workloads did not come back on `target` (the alias), at `at`. */
  unhealthy?: UnhealthyMark;
}

/** Every pinned EC2NodeClass of the clusters read, as the staged rollout's proof sees it. */
export function nodeClassMembers(
  clusters: readonly ClusterState[],
  stages: StageSettings,
  markOf: (cluster: ClusterState, nodeClass: string) => UnhealthyMark | undefined = () => undefined,
): NodeClassMember[] {
  const members: NodeClassMember[] = [];
  for (const c of clusters.filter((c) => !c.error)) {
    for (const ng of c.nodegroups) {
      const nc = ng.nodeClass;
      const term = nc && nc.terms.length === 1 ? nc.terms[0]?.alias : undefined;
      const alias = term ? parseAlias(term) : undefined;
      if (!nc || ng.error || !alias || alias.version === 'latest') continue;
      const resolved = new Set(nc.amis.map((a) => a.id));
      const on = nc.nodeClaims.filter((x) => x.imageId && resolved.has(x.imageId));
      const times = on.map((x) => Date.parse(x.createdAt ?? '')).filter((t) => !Number.isNaN(t));
      members.push({
        cluster: c.name,
        nodeClass: nc.name,
        stage: stageOf(c, stages).index,
        family: alias.family,
        version: alias.version,
        onIt: on.length,
        onOlder: nc.nodeClaims.filter((x) => x.imageId && !resolved.has(x.imageId)).length,
        notReady: on.filter((x) => x.ready === false).length,
        since: times.length > 0 ? Math.min(...times) : null,
        ...(markOf(c, nc.name) ? { unhealthy: markOf(c, nc.name)! } : {}),
      });
    }
  }
  return members;
}

/**
 * A node class's check entry in its stage. The first stage is decided as without stages; in a later
 * one, a drift to an alias is kept only once the earlier stages prove it, else the class is `waiting`,
 * naming what holds it back.
 */
export function decideNodeClassStage(
  entry: NodegroupReport,
  stage: ClusterStage,
  members: readonly NodeClassMember[],
  stages: StageSettings,
  now: number,
): NodegroupReport {
  const staged: NodegroupReport = { ...entry, stage: stage.name };
  const target = entry.nodeClass?.targetAlias ? parseAlias(entry.nodeClass.targetAlias) : undefined;
  if (stage.index === 0 || entry.status !== 'drift' || !target) return staged;
  const targetText = aliasText(target);
  const earlierNames = stages.names.slice(0, stage.index).join(', ');
  const earlier = members.filter((m) => m.family === target.family && m.stage < stage.index);
  const proof = (proven: boolean, holders: string[], provenAt: number | null): StageProof => ({
    train: targetText,
    applies: earlier.length > 0,
    proven,
    provenAt: provenAt === null ? null : new Date(provenAt).toISOString(),
    holders,
    failures: [],
    evidence: earlier
      .filter((m) => (compareAliasVersions(target.family, m.version, target.version) ?? -1) >= 0)
      .map((m) => ({
        cluster: m.cluster,
        nodegroup: m.nodeClass,
        stage: stages.names[m.stage]!,
        release: `${m.family}@${m.version}`,
        since: m.since === null ? null : new Date(m.since).toISOString(),
        updateId: null,
      })),
  });
  if (earlier.length === 0)
    return {
      ...staged,
      proof: proof(true, [], null),
      reason:
        `${entry.reason} · stage ${stage.name}: no ${target.family} node class is pinned in an earlier stage (${earlierNames}), ` +
        'so the stage gate could not apply: min-release-age alone decides',
    };
  // A node class whose workloads did not come back on this version (the upgrade's health gate) stops the train.
  const failed = earlier.filter((m) => m.unhealthy && m.unhealthy.target === targetText);
  if (failed.length > 0) {
    const why = failed.map((m) => `${m.cluster}/${m.nodeClass}: its workloads did not come back on ${targetText} (health gate, ${m.unhealthy!.at})`);
    return {
      ...staged,
      status: 'waiting',
      proof: {
        ...proof(false, why, null),
        failures: failed.map((m, i) => ({ cluster: m.cluster, nodegroup: m.nodeClass, updateId: null, at: m.unhealthy!.at, what: why[i]! })),
      },
      reason:
        `${targetText} failed in an earlier stage: ${why.join('; ')}. It waits until a newer version is proven, ` +
        `or the mark is deleted (aws ssm delete-parameter --name ${UNHEALTHY_PARAMETER_PATH}/<cluster>/${nodeClassMarkName('<node class>')})`,
    };
  }
  const holders: string[] = [];
  let provenAt = 0;
  let timeOnly = true;
  for (const m of earlier) {
    const label = `${m.cluster}/${m.nodeClass}`;
    const order = compareAliasVersions(target.family, m.version, target.version);
    const why =
      order === undefined || order < 0
        ? `pins ${m.family}@${m.version}, not ${targetText} yet`
        : m.onIt === 0
          ? 'no node runs it yet'
          : m.onOlder > 0
            ? `${m.onOlder} of ${m.onIt + m.onOlder} node(s) still on an older image (Karpenter's drift not finished)`
            : m.notReady > 0
              ? `${m.notReady} of ${m.onIt} node(s) on it not Ready`
              : undefined;
    if (why) {
      holders.push(`${label}: ${why}`);
      timeOnly = false;
      continue;
    }
    const since = m.since ?? now;
    if (now - since < stages.soak.ms)
      holders.push(`${label}: its nodes run it since ${new Date(since).toISOString()}, proves it in ${formatDuration(since + stages.soak.ms - now)}`);
    provenAt = Math.max(provenAt, since + stages.soak.ms);
  }
  if (holders.length === 0)
    return {
      ...staged,
      proof: proof(true, [], provenAt),
      reason:
        `${entry.reason} · ${targetText} proven for stage ${stage.name} by ${earlier.length} node class(es) of the earlier stages, ` +
        `each with all its nodes on it and Ready for ${stages.soak.text} or more`,
    };
  const shown = holders.slice(0, 3).join('; ') + (holders.length > 3 ? `; and ${holders.length - 3} more` : '');
  return {
    ...staged,
    status: 'waiting',
    proof: proof(false, holders, timeOnly ? provenAt : null),
    reason:
      `${targetText} is published but not proven for stage ${stage.name}: it waits for the earlier stages ` +
      `(each ${target.family} node class's nodes on it and Ready for ${stages.soak.text}): ${shown}`,
  };
}
