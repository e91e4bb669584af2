import pLimit, { type LimitFunction } from 'p-limit';
import { CONCURRENCY, pauseDeps, type Clients } from '../clients.js';
import type { ClusterState, LatestRelease, ParameterRequest, VersionSupport } from '../model/fleet.js';
import { renderLogLine } from '../report/check-summary.js';
import { NEEDS_UPGRADE, STATUSES, type CheckReport, type NodegroupReport, type NodegroupStatus } from '../model/check-report.js';
import type { PauseReport } from '../model/pause.js';
import type { Settings, StageSettings } from '../model/settings.js';
import { clusterError, type DriftPolicy } from '../decision/drift.js';
import { kubernetesMinor } from '../decision/release.js';
import { decideStage, membersOf, rolloutTable, stageOf, type StageContext } from '../decision/stages.js';
import { loadAwsClients, type AwsClientFactory, type AwsClients } from '../fleet/aws-clients.js';
import { readHistories, readRegion, readVersionCalendar } from '../fleet/eks.js';
import { describeError } from '../fleet/aws-clients.js';
import { clusterSupportNotice } from '../decision/calendar.js';
import { classify, kindOf, readsImage, runningRelease, targetImageParameter } from '../kinds/registry.js';
import { holdMissingInRegion, regionalReads } from '../decision/regional.js';
import { describeKubeError, isKubeDeadline } from '../fleet/kube-errors.js';
import { readClusterEndpoint } from '../fleet/eks.js';
import type { LookForBlockers } from '../effects/proposal-common.js';
import type { CommandIo } from './io.js';

/**
 * `command: check`: the report, and with `on-drift` the proposals. Returns the report and, when the
 * run should fail, why (the caller fails the step or sets the exit code).
 */
export async function check(settings: Settings, clients: Clients, io: CommandIo): Promise<{ report: CheckReport; failure: string | null }> {
  const where = `${settings.clusters.join(', ') || 'every cluster'} in ${settings.regions.join(', ')}`;
  // Clusters whose Kubernetes API let a deadline pass when the check looked for pauses: the blocker
  // look does not wait on them again.
  const unreachable = new Map<string, string>();
  const report = await io.group(`Checking ${where}`, async () => {
    const r = await runCheck(settings, {
      clientsFor: clients.clientsFor,
      now: () => new Date(),
      concurrency: CONCURRENCY,
      prefetch: () => {
        Promise.all([import('../effects/pause-sweep.js'), import('../fleet/kube-client.js')]).catch(() => undefined);
      },
      // Read-only: pauses are reported, never restored, by the check.
      lookForPauses: async (clusters) => {
        const unchecked: string[] = [];
        if (clusters.length === 0) return { found: [], unchecked };
        const { handlePauses } = await import('../effects/pause-sweep.js');
        const onError = (c: ClusterState, reason: string, error: unknown) => {
          unchecked.push(`${c.name} (${c.region}): ${reason}`);
          if (isKubeDeadline(error)) unreachable.set(`${c.region}/${c.name}`, reason);
        };
        const found = await handlePauses(clusters, settings.upgrade.clusterAutoscaler, 'report', false, await pauseDeps(clients), onError);
        return { found, unchecked };
      },
    });
    for (const ng of r.nodegroups) io.log(renderLogLine(ng));
    for (const c of r.clusters) if (c.kubernetesSupport?.notice) io.warn(`${c.region}/${c.cluster}: ${c.kubernetesSupport.notice}`);
    for (const u of r.pausesUnchecked) io.log(`pauses not looked for in ${u}`);
    for (const p of r.pauses) {
      const line = `${p.region}/${p.cluster}: cluster-autoscaler ${p.deployment} ${p.note}`;
      if (p.stale) io.warn(`${line}: stale, its job is gone; the next upgrade run restores it, or run command: restore`);
      else io.log(line);
    }
    return r;
  });

  const github = settings.onDrift !== 'none' ? await clients.github() : null;
  if (github) {
    report.proposals = await io.group(`Proposing the upgrades (${settings.onDrift})`, async () => {
      const [{ propose }, { currentRepo }] = await Promise.all([import('../effects/propose.js'), import('../repo/github.js')]);
      const proposals = await propose(report, settings, github, currentRepo(), blockerLook(settings, clients, unreachable));
      for (const p of proposals) {
        io.log(`${p.region}/${p.cluster}: ${p.kind} ${p.result}${p.number ? ` #${p.number}` : ''}: ${p.reason}`);
        for (const w of p.warnings) io.warn(`${p.region}/${p.cluster}: ${p.kind}${p.number ? ` #${p.number}` : ''}: ${w}`);
      }
      return proposals;
    });
  }
  return { report, failure: checkFailure(report, settings) };
}

/** Why a check fails: no cluster, a node group or proposal that could not be handled, or drift with fail-on-drift. */
export function checkFailure(report: CheckReport, settings: Pick<Settings, 'regions' | 'failOnDrift'>): string | null {
  if (report.clusters.length === 0)
    return `no EKS clusters found in ${settings.regions.join(', ')}: check the regions input and the account of the AWS credentials`;
  const errors = report.nodegroups.filter((n) => n.status === 'error');
  const problems = report.proposals.filter((p) => p.result === 'error').map((p) => `${p.region}/${p.cluster}: ${p.reason}`);
  if (errors.length > 0) {
    const names = errors.map((e) => (e.nodegroup ? `${e.cluster}/${e.nodegroup}` : e.cluster)).join(', ');
    problems.unshift(`${errors.length} could not be checked (${names}): see the report; the rest were checked.`);
  }
  if (problems.length > 0) return problems.join('\n');
  if (settings.failOnDrift && report.drift) {
    const drifted = report.nodegroups.filter((n) => NEEDS_UPGRADE.has(n.status)).length;
    return `${drifted} node group(s) should be upgraded, and fail-on-drift is true.`;
  }
  return null;
}

/**
 * The upgrade's PodDisruptionBudget pre-flight, run from the check for the pull request's description.
 * Best effort: a check role without Kubernetes access gets the reason in the description instead, and
 * so does a cluster whose API did not answer in time when the check looked for pauses.
 */
function blockerLook(settings: Settings, clients: Clients, unreachable: ReadonlyMap<string, string>): LookForBlockers {
  return async (region, name, nodegroups) => {
    const late = unreachable.get(`${region}/${name}`);
    if (late) return { ran: false, reason: `its Kubernetes API did not answer in time when the check looked for pauses: ${late}` };
    try {
      const [kubeFor, { readBlockers }] = await Promise.all([clients.kube(), import('../fleet/placement.js')]);
      const cluster = settings.kubeconfig ? { name, region, nodegroups: [] } : await readClusterEndpoint(clients.clientsFor(region).eks, region, name);
      const blockers = await readBlockers(kubeFor(cluster), nodegroups);
      return { ran: true, blockers };
    } catch (error) {
      return { ran: false, reason: describeKubeError(error) };
    }
  };
}

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
      // The Kubernetes support calendar of the versions the region's clusters run: one read a region.
      const versions = [...new Set(clusters.flatMap((c) => (c.version ? [c.version] : [])))].sort();
      const calendar: RegionRead['calendar'] =
        versions.length > 0 ? await limit(() => readVersionCalendar(eks, versions)).catch((error: unknown) => describeError(error)) : new Map();
      if (clusters.length === 0 && !stages)
        return {
          region,
          clients,
          clusters,
          fleet: clusters,
          calendar,
          latest: new Map<string, LatestRelease>(),
          requests: new Map<string, ParameterRequest>(),
        };
      const { readImageSources, readLatestReleases } = await fleetReaders();
      const { ssm } = clients;
      // Self-managed groups are read when no node group is named: the nodegroups input names managed ones.
      await readImageSources(clients, clusters, limit, { selfManaged: settings.nodegroups.length === 0, readsImage });
      // A staged rollout's proof reads every cluster of the region, whatever the filters: a check of
      // production alone must still see the canaries.
      let fleet = clusters;
      if (stages && (settings.clusters.length > 0 || settings.nodegroups.length > 0)) {
        fleet = await readRegion(eks, { region, clusters: [], nodegroups: [] }, limit);
        await readImageSources(clients, fleet, limit, { selfManaged: false, readsImage });
      }
      if (stages) await readHistories(eks, fleet, limit);
      const requests = new Map<string, ParameterRequest>();
      for (const ng of clusters.flatMap((c) => c.nodegroups)) {
        for (const request of kindOf(ng).targetParameters(ng)) requests.set(request.parameter, request);
      }
      const latest = requests.size > 0 ? await readLatestReleases(ssm, [...requests.values()], limit) : new Map<string, LatestRelease>();
      return { region, clients, clusters, fleet, calendar, latest, requests };
    }),
  );

  let nodegroups = classifyAll(perRegion, policy);
  const staged = stages ? await applyStages(stages, perRegion, nodegroups, policy.now.getTime()) : undefined;
  if (staged) nodegroups = staged.nodegroups;
  nodegroups = await confirmInRegion(nodegroups, perRegion, limit);
  nodegroups.sort((a, b) => a.region.localeCompare(b.region) || a.cluster.localeCompare(b.cluster) || (a.nodegroup ?? '').localeCompare(b.nodegroup ?? ''));

  const pauses = deps.lookForPauses ? await deps.lookForPauses(perRegion.flatMap((r) => r.clusters)) : { found: [], unchecked: [] };

  // Without stages, `waiting` is counted only when a release waits for its image in a region.
  const waits = nodegroups.some((n) => n.status === 'waiting');
  const counts = Object.fromEntries(STATUSES.filter((s) => stages || waits || s !== 'waiting').map((s) => [s, 0])) as Record<NodegroupStatus, number>;
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
        ...supportOf(c, perRegion, policy.now),
        ...(stages ? { stage: stageOf(c, stages).name, stageNote: stageOf(c, stages).note } : {}),
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
function classifyAll(perRegion: readonly RegionRead[], policy: DriftPolicy): NodegroupReport[] {
  const nodegroups: NodegroupReport[] = [];
  for (const { region, clusters, latest, calendar } of perRegion) {
    if (typeof calendar === 'string') {
      nodegroups.push(
        clusterError(
          { name: '(every cluster)', region, nodegroups: [] },
          `DescribeClusterVersions: ${calendar}: the Kubernetes support calendar could not be read`,
        ),
      );
    }
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
async function confirmInRegion(entries: NodegroupReport[], perRegion: readonly RegionRead[], limit: LimitFunction): Promise<NodegroupReport[]> {
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

/**
 * The fleet's readers beyond EKS, with their SDK clients (SSM, Auto Scaling; EC2 when an image is
 * named by id): chunks of dist/, loaded once a region has clusters. A check that finds none loads none
 * of them.
 */
async function fleetReaders() {
  const [images, releases] = await Promise.all([import('../fleet/image-sources.js'), import('../fleet/ssm.js'), loadAwsClients('ssm', 'autoscaling')]);
  return { ...images, ...releases };
}

/** A cluster's Kubernetes support dates and, when an end is near or past, what to say. */
function supportOf(c: ClusterState, perRegion: readonly RegionRead[], now: Date) {
  const calendar = perRegion.find((r) => r.region === c.region)?.calendar;
  const dates = c.version && typeof calendar === 'object' ? calendar.get(c.version) : undefined;
  return dates && c.version ? { kubernetesSupport: { ...dates, notice: clusterSupportNotice(c.version, dates, now) } } : {};
}

interface RegionRead {
  region: string;
  /** The support calendar of the region's Kubernetes versions, or why it could not be read. */
  calendar: Map<string, VersionSupport> | string;
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
async function applyStages(stages: StageSettings, perRegion: readonly RegionRead[], entries: NodegroupReport[], now: number) {
  const fleet = perRegion.flatMap((r) => r.fleet);
  const members = membersOf(fleet, stages, runningRelease);
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
  return { nodegroups: decided, cells: rolloutTable(stages, members, decided) };
}
