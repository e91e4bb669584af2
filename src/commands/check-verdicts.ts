import type { LimitFunction } from 'p-limit';
import { nodeClassMarkName, type ClusterState, type LatestRelease, type ParameterRequest, type UnhealthyMark, type VersionSupport } from '../model/fleet.js';
import type { NodegroupReport } from '../model/check-report.js';
import type { StageSettings } from '../model/settings.js';
import { clusterError, type DriftPolicy } from '../decision/drift.js';
import { kubernetesMinor } from '../decision/release.js';
import { decideStage, membersOf, rolloutTable, stageOf, type StageContext } from '../decision/stages.js';
import { clusterSupportNotice } from '../decision/calendar.js';
import { holdMissingInRegion, regionalReads } from '../decision/regional.js';
import { loadAwsClients, type AwsClients } from '../fleet/aws-clients.js';
import { classify, runningRelease, targetImageParameter } from '../kinds/registry.js';
import { decideNodeClassStage, nodeClassMembers } from '../decision/node-class-stages.js';

/*
 * The check's verdicts over what the regions read: each node group's status, the release confirmed in
 * its own region, the staged rollout, the clusters' Kubernetes support.
 */
/** Each node group's status, and an entry for each cluster that could not be read. */
export function classifyAll(perRegion: readonly RegionRead[], policy: DriftPolicy): NodegroupReport[] {
  const nodegroups: NodegroupReport[] = [];
  for (const { clusters, latest } of perRegion) {
    for (const cluster of clusters) {
      if (cluster.error) nodegroups.push(clusterError(cluster, cluster.error));
      for (const ng of cluster.nodegroups) nodegroups.push(classify(cluster, ng, (p) => latest.get(p), policy));
    }
  }
  return nodegroups;
}

/**
 * Each drifted release read where it would be used: its own image parameter in the node group's
 * region, one GetParameters of up to 10 names per batch (../decision/regional.ts).
 */
export async function confirmInRegion(entries: NodegroupReport[], perRegion: readonly RegionRead[], limit: LimitFunction): Promise<NodegroupReport[]> {
  const reads = regionalReads(entries, targetImageParameter);
  if (reads.size === 0) return entries;
  const { readLatestReleases } = await fleetReaders();
  const answers = new Map<string, Map<string, LatestRelease>>();
  await Promise.all(
    [...reads].map(async ([region, names]) => {
      const ssm = perRegion.find((r) => r.region === region)?.clients.ssm;
      if (ssm)
        answers.set(
          region,
          await readLatestReleases(
            ssm,
            names.map((parameter) => ({ parameter, format: 'image-id' as const })),
            limit,
          ),
        );
    }),
  );
  return holdMissingInRegion(entries, (region, parameter) => answers.get(region)?.get(parameter), targetImageParameter);
}

/** A cluster's Kubernetes support dates and, when an end is near or past, what to say. */
export function supportOf(c: ClusterState, perRegion: readonly RegionRead[], now: Date) {
  const calendar = perRegion.find((r) => r.region === c.region)?.calendar;
  const dates = c.version && typeof calendar === 'object' ? calendar.get(c.version) : undefined;
  return dates && c.version ? { kubernetesSupport: { ...dates, notice: clusterSupportNotice(c.version, dates, now, c.supportType) } } : {};
}

export interface RegionRead {
  region: string;
  /** The support calendar of the region's Kubernetes versions, or why it could not be read. */
  calendar: Map<string, VersionSupport> | string;
  clients: AwsClients;
  clusters: ClusterState[];
  fleet: ClusterState[];
  latest: Map<string, LatestRelease>;
  requests: Map<string, ParameterRequest>;
  /** The health gate's parameters could not be read: the marks are the tags' alone. */
  warning?: string;
  /** The health gate's marks read from its parameters, by `<cluster>/<name>` (a node class's: ../model/fleet.ts nodeClassMarkName). */
  marks?: ReadonlyMap<string, UnhealthyMark>;
}

/**
 * The staged rollout over the check's entries: each entry in a later stage is measured against the
 * proof of the earlier stages. A proven train whose release at a node group's minor no node group
 * runs is looked up in the history of that minor's SSM parameter, then the entries are decided again.
 */
export async function applyStages(stages: StageSettings, perRegion: readonly RegionRead[], entries: NodegroupReport[], now: number) {
  const fleet = perRegion.flatMap((r) => r.fleet);
  const members = membersOf(fleet, stages, runningRelease);
  // Karpenter node classes are proven by the earlier stages' node classes, from their NodeClaims (../decision/node-class-stages.ts).
  const marks = new Map(perRegion.flatMap((r) => [...(r.marks ?? new Map<string, UnhealthyMark>())].map(([k, v]) => [`${r.region}/${k}`, v] as const)));
  const classMembers = nodeClassMembers(fleet, stages, (c, name) => marks.get(`${c.region}/${c.name}/${nodeClassMarkName(name)}`));
  const run = new Map<string, Set<string>>();
  for (const c of fleet) {
    for (const ng of c.nodegroups) {
      const minor = ng.version ? kubernetesMinor(ng.version) : undefined;
      if (!ng.amiType || !minor || !ng.releaseVersion) continue;
      const key = `${ng.amiType}/${minor}`;
      run.set(key, (run.get(key) ?? new Set()).add(ng.releaseVersion));
    }
  }
  const history = new Map<string, string[]>();
  const historyErrors = new Map<string, string>();
  const clusterOf = new Map(perRegion.flatMap((r) => r.clusters).map((c) => [`${c.region}/${c.name}`, c]));
  const decideAll = (missing: Set<string>) => {
    const ctx: StageContext = {
      stages,
      members,
      now,
      knownReleases: (parameter, amiType, minor) => {
        const latest = perRegion.map((r) => r.latest.get(parameter)).find((x) => x?.kind === 'found');
        return [...(run.get(`${amiType}/${minor}`) ?? []), ...(latest?.kind === 'found' ? [latest.releaseVersion] : []), ...(history.get(parameter) ?? [])];
      },
      missing: (parameter) => missing.add(parameter),
      historyError: (parameter) => historyErrors.get(parameter),
    };
    return entries.map((e) => {
      const cluster = clusterOf.get(`${e.region}/${e.cluster}`);
      if (!cluster) return e;
      if (e.pinKey === 'alias') return decideNodeClassStage(e, stageOf(cluster, stages), classMembers, stages, now);
      return decideStage(e, stageOf(cluster, stages), ctx);
    });
  };
  const missing = new Set<string>();
  let decided = decideAll(missing);
  if (missing.size > 0) {
    // Each parameter's history once, from a region that asked for it (releases are the same in every region).
    await Promise.all(
      [...missing].map(async (parameter) => {
        const from = perRegion.find((r) => r.requests.has(parameter));
        if (!from) return;
        const { readReleaseHistory } = await fleetReaders();
        const read = await readReleaseHistory(from.clients.ssm, from.requests.get(parameter)!);
        if ('error' in read) historyErrors.set(parameter, read.error);
        else history.set(parameter, read.releases);
      }),
    );
    decided = decideAll(new Set());
  }
  return { nodegroups: decided, cells: rolloutTable(stages, members, decided) };
}

/**
 * The fleet's readers beyond EKS, with their SDK clients (SSM, Auto Scaling; EC2 when an image is
 * named by id): chunks of dist/, loaded once a region has clusters. A check that finds none loads none
 * of them.
 */
export async function fleetReaders() {
  const [images, releases] = await Promise.all([import('../fleet/image-sources.js'), import('../fleet/ssm.js'), loadAwsClients('ssm', 'autoscaling')]);
  return { ...images, ...releases };
}
