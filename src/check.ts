import pLimit from 'p-limit';
import type { Settings } from './inputs.js';
import { loadAwsClients, type AwsClientFactory, type AwsClients } from './fleet/aws.js';
import { readHistories, readRegion } from './fleet/discover.js';
import type { LatestRelease, ParameterRequest } from './fleet/types.js';
import type { StageContext } from './decision/stages.js';
import { NEEDS_UPGRADE, STATUSES, type CheckReport, type NodegroupReport, type NodegroupStatus } from './report/types.js';
import type { ClusterState } from './fleet/types.js';
import type { PauseReport } from './effects/pauses.js';

export interface CheckDeps {
  clientsFor: AwsClientFactory;
  now: () => Date;
  /** AWS calls in flight at once, across regions. */
  concurrency: number;
  /** Called once a region has a cluster: to load, while the calls wait on AWS, what the clusters will need. */
  prefetch?: () => void;
  /** Looks (read-only) for cluster-autoscaler pauses on the clusters read; absent: not looked for. */
  lookForPauses?: (clusters: ClusterState[]) => Promise<{ found: PauseReport[]; unchecked: string[] }>;
}

/**
 * The check: read the fleet, read each distinct latest-release parameter once, decide each node
 * group's status. Read-only: it makes no call that changes anything.
 */
export async function runCheck(settings: Settings, deps: CheckDeps): Promise<CheckReport> {
  const limit = pLimit(deps.concurrency);
  const policy = { minReleaseAgeMs: settings.minReleaseAge.ms, now: deps.now() };

  const stages = settings.stages;
  const perRegion = await Promise.all(
    settings.regions.map(async (region) => {
      const clients = deps.clientsFor(region);
      const { eks } = clients;
      const query = { region, clusters: settings.clusters, nodegroups: settings.nodegroups };
      const clusters = await readRegion(eks, query, limit, () => {
        // The chunks compile while the clusters' calls wait on AWS, instead of after the last.
        fleetReaders().catch(() => undefined);
        deps.prefetch?.();
      });
      if (clusters.length === 0 && !stages) return { region, clients, clusters, fleet: clusters, latest: new Map<string, LatestRelease>(), requests: new Map<string, ParameterRequest>() };
      const { readImageSources, readLatestReleases } = await fleetReaders();
      const { ssm } = clients;
      // Self-managed groups are read when no node group is named: the nodegroups input names managed ones.
      await readImageSources(clients, clusters, limit, { selfManaged: settings.nodegroups.length === 0 });
      // A staged rollout's proof reads every cluster of the region, whatever the filters: a check of
      // production alone must still see the canaries.
      let fleet = clusters;
      if (stages && (settings.clusters.length > 0 || settings.nodegroups.length > 0)) {
        fleet = await readRegion(eks, { region, clusters: [], nodegroups: [] }, limit);
        await readImageSources(clients, fleet, limit, { selfManaged: false });
      }
      if (stages) await readHistories(eks, fleet, limit);
      const requests = new Map<string, ParameterRequest>();
      const { requestsFor } = await decisions();
      for (const request of clusters.flatMap((c) => c.nodegroups).flatMap(requestsFor)) requests.set(request.parameter, request);
      const latest = requests.size > 0 ? await readLatestReleases(ssm, [...requests.values()], limit) : new Map<string, LatestRelease>();
      return { region, clients, clusters, fleet, latest, requests };
    }),
  );

  // A check that found no cluster has nothing to decide, and does not load the decisions.
  let nodegroups = perRegion.some((r) => r.clusters.length > 0) ? await classifyAll(perRegion, policy) : [];
  const staged = stages ? await applyStages(stages, perRegion, nodegroups, policy.now.getTime()) : undefined;
  if (staged) nodegroups = staged.nodegroups;
  nodegroups.sort(
    (a, b) => a.region.localeCompare(b.region) || a.cluster.localeCompare(b.cluster) || (a.nodegroup ?? '').localeCompare(b.nodegroup ?? ''),
  );

  const pauses = deps.lookForPauses ? await deps.lookForPauses(perRegion.flatMap((r) => r.clusters)) : { found: [], unchecked: [] };

  // Without stages nothing is `waiting`, and the report is what it was before stages existed.
  const counts = Object.fromEntries(STATUSES.filter((s) => stages || s !== 'waiting').map((s) => [s, 0])) as Record<NodegroupStatus, number>;
  for (const ng of nodegroups) counts[ng.status]++;

  return {
    command: 'check',
    generatedAt: policy.now.toISOString(),
    regions: settings.regions,
    minReleaseAge: settings.minReleaseAge.text,
    drift: nodegroups.some((ng) => NEEDS_UPGRADE.has(ng.status)),
    counts,
    clusters: perRegion
      .flatMap((r) => r.clusters)
      .map((c) => ({
        cluster: c.name,
        region: c.region,
        controlPlaneVersion: c.version ?? null,
        nodegroups: c.nodegroups.filter((n) => n.kind !== 'self-managed').length,
        selfManagedGroups: c.nodegroups.filter((n) => n.kind === 'self-managed' && !n.error).length,
        error: c.error ?? null,
        ...(stages && staged ? { stage: staged.stageOf(c, stages).name, stageNote: staged.stageOf(c, stages).note } : {}),
      }))
      .sort((a, b) => a.region.localeCompare(b.region) || a.cluster.localeCompare(b.cluster)),
    nodegroups,
    pauses: pauses.found,
    pausesUnchecked: pauses.unchecked,
    proposals: [],
    ...(stages && staged ? { rollout: { stages: stages.names, stageTag: stages.tag, stageSoak: stages.soak.text, cells: staged.cells } } : {}),
  };
}

/** Each node group's status, and an entry for each cluster that could not be read. */
async function classifyAll(perRegion: readonly RegionRead[], policy: Parameters<Decisions['classify']>[3]): Promise<NodegroupReport[]> {
  const { classify, clusterError } = await decisions();
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
 * The decisions (pure, with semver): a chunk of dist/, loaded once there is something to decide.
 */
async function decisions() {
  const [drift, stages, release] = await Promise.all([import('./decision/drift.js'), import('./decision/stages.js'), import('./decision/release.js')]);
  return { ...drift, ...stages, ...release };
}
type Decisions = Awaited<ReturnType<typeof decisions>>;

/**
 * The fleet's readers beyond EKS, with their SDK clients (SSM, Auto Scaling; EC2 when an image is
 * named by id): chunks of dist/, loaded once a region has clusters. A check that finds none loads none
 * of them.
 */
async function fleetReaders() {
  const [images, releases] = await Promise.all([import('./fleet/images.js'), import('./fleet/releases.js'), loadAwsClients('ssm', 'autoscaling')]);
  return { ...images, ...releases };
}

interface RegionRead {
  region: string;
  clients: AwsClients;
  clusters: ClusterState[];
  fleet: ClusterState[];
  latest: Map<string, LatestRelease>;
  requests: Map<string, ParameterRequest>;
}

/**
 * The staged rollout over the check's entries: each entry in a later stage is measured against the
 * proof of the earlier stages. A proven train whose release at a node group's minor no node group
 * runs is looked up in the history of that minor's SSM parameter, then the entries are decided again.
 */
async function applyStages(stages: NonNullable<Settings['stages']>, perRegion: readonly RegionRead[], entries: NodegroupReport[], now: number) {
  const { decideStage, kubernetesMinor, membersOf, rolloutTable, stageOf } = await decisions();
  const fleet = perRegion.flatMap((r) => r.fleet);
  const members = membersOf(fleet, stages);
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
      return cluster ? decideStage(e, stageOf(cluster, stages), ctx) : e;
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
  return { nodegroups: decided, cells: rolloutTable(stages, members, decided), stageOf };
}
