import pLimit from 'p-limit';
import { CONCURRENCY, pauseDeps, type Clients } from '../clients.js';
import type { ClusterState, HistoryRecord, LatestRelease, NodegroupState, ParameterRequest } from '../model/fleet.js';
import { renderLogLine } from '../report/check-summary.js';
import { COUNTED_WHEN_SEEN, NEEDS_UPGRADE, STATUSES, type CheckReport, type NodegroupStatus } from '../model/check-report.js';
import type { PauseReport } from '../model/pause.js';
import type { Settings } from '../model/settings.js';
import { unreadableMarks } from '../decision/drift.js';
import { updatesInPlace } from '../decision/in-place.js';
import { stageOf } from '../decision/stages.js';
import { inAccount } from '../decision/account-merge.js';
import { describeError, type AwsClientFactory } from '../fleet/aws-clients.js';
import { readClusterEndpoint, readRegion, readVersionCalendar } from '../fleet/eks.js';
import { loadHistoryRecord, readHistories, saveHistoryRecord } from '../fleet/update-history.js';
import { kindOf, readsImage, runningRelease } from '../kinds/registry.js';
import { describeKubeError, isKubeDeadline } from '../fleet/kube-errors.js';
import type { LookForBlockers } from '../effects/proposal-common.js';
import type { CommandIo } from './io.js';
import { applyStages, classifyAll, confirmInRegion, fleetReaders, supportOf, type RegionRead } from './check-verdicts.js';
import { lookAtNodeClasses, nodeClassLook, readLateTargets, type NodeClassesOfCluster } from './check-node-classes.js';

/**
 * `command: check`: the report, and with `on-drift` the proposals. Returns the report and, when the
 * run should fail, why (the caller fails the step or sets the exit code).
 */
export async function check(settings: Settings, clients: Clients, io: CommandIo): Promise<{ report: CheckReport; failure: string | null }> {
  if (settings.accounts) {
    const { checkAccounts } = await import('./check-accounts.js');
    return checkAccounts(settings, clients, io, { checkAccount, proposeFor, checkFailure });
  }
  // Clusters whose Kubernetes API let a deadline pass when the check looked for pauses: the blocker
  // look does not wait on them again.
  const unreachable = new Map<string, string>();
  const report = await checkAccount(settings, clients, io, unreachable);
  report.proposals = await proposeFor(report, settings, clients, io, unreachable);
  return { report, failure: checkFailure(report, settings) };
}

/**
 * The check of one account (the job's own, or a member of `accounts`): its report, logged as it
 * goes; `unreachable` gets the clusters whose Kubernetes API let a deadline pass.
 */
export async function checkAccount(settings: Settings, clients: Clients, io: CommandIo, unreachable: Map<string, string>): Promise<CheckReport> {
  const of = settings.account ? ` of account ${settings.account}` : '';
  const where = `${settings.clusters.join(', ') || 'every cluster'} in ${settings.regions.join(', ')}${of}`;
  // The update history already read (history-cache): only what is new is described.
  const cache = settings.stages && settings.historyCache ? settings.historyCache : null;
  const loaded = cache ? loadHistoryRecord(cache) : null;
  if (loaded?.warning) io.warn(loaded.warning);
  const report = await io.group(`Checking ${where}`, async () => {
    const r = await runCheck(settings, {
      ...(loaded ? { history: loaded.record } : {}),
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
      // Read-only, best effort, by the same rules: a cluster whose nodes cannot be read is "not looked at".
      lookAtNodes: async (clusters) => {
        const read = new Map<string, NodesOfCluster>();
        const unread = (c: ClusterState, error: unknown) => {
          const reason = describeKubeError(error) || (error instanceof Error ? error.message : String(error));
          read.set(`${c.region}/${c.name}`, { unread: reason });
          if (isKubeDeadline(error) && !unreachable.has(`${c.region}/${c.name}`)) unreachable.set(`${c.region}/${c.name}`, reason);
        };
        try {
          const [kubeFor, { readNodeOs }] = await Promise.all([clients.kube(), import('../fleet/placement.js')]);
          const limit = pLimit(10);
          await Promise.all(
            clusters.map((c) =>
              limit(async () => {
                try {
                  read.set(`${c.region}/${c.name}`, { nodes: await readNodeOs(kubeFor(c)) });
                } catch (error) {
                  unread(c, error);
                }
              }),
            ),
          );
        } catch (error) {
          for (const c of clusters) if (!read.has(`${c.region}/${c.name}`)) unread(c, error);
        }
        return read;
      },
      // Karpenter's node classes and Auto Mode's node pools, read-only; not when node groups are named (the input names managed ones).
      ...(settings.nodegroups.length === 0 ? { lookAtNodeClasses: nodeClassLook(clients, unreachable) } : {}),
    });
    if (settings.account) inAccount(r, settings.account);
    for (const ng of r.nodegroups) io.log(renderLogLine(ng));
    if (cache && loaded) {
      saveHistoryRecord(cache, loaded.record);
      io.log(`history-cache ${cache}: ${Object.keys(loaded.record.nodegroups).length} node group(s) recorded`);
    }
    for (const c of r.clusters) if (c.kubernetesSupport?.notice) io.warn(`${c.region}/${c.cluster}: ${c.kubernetesSupport.notice}`);
    for (const u of r.pausesUnchecked) io.log(`pauses not looked for in ${u}`);
    for (const u of r.nodesUnchecked ?? []) io.log(`nodes not looked at (updates in place not seen) in ${u}`);
    for (const u of r.nodeClassesUnchecked ?? []) io.log(`Karpenter node classes not looked at in ${u}`);
    for (const w of r.warnings ?? []) io.warn(w);
    for (const p of r.pauses) {
      const line = `${p.region}/${p.cluster}: cluster-autoscaler ${p.deployment} ${p.note}`;
      if (p.stale) io.warn(`${line}: stale, its job is gone; the next upgrade run restores it, or run command: restore`);
      else io.log(line);
    }
    return r;
  });
  return report;
}

/** `on-drift`: the pull requests or issues of one account's report (none without a token or with on-drift none). */
export async function proposeFor(
  report: CheckReport,
  settings: Settings,
  clients: Clients,
  io: CommandIo,
  unreachable: ReadonlyMap<string, string>,
): Promise<CheckReport['proposals']> {
  const github = settings.onDrift !== 'none' ? await clients.github() : null;
  if (!github) return [];
  const of = settings.account ? ` in account ${settings.account}` : '';
  return io.group(`Proposing the upgrades${of} (${settings.onDrift})`, async () => {
    const [{ propose }, { currentRepo }] = await Promise.all([import('../effects/propose.js'), import('../repo/github.js')]);
    const proposals = await propose(report, settings, github, currentRepo(), blockerLook(settings, clients, unreachable));
    const at = settings.account ? `${settings.account}/` : '';
    for (const p of proposals) {
      io.log(`${at}${p.region}/${p.cluster}: ${p.kind} ${p.result}${p.number ? ` #${p.number}` : ''}: ${p.reason}`);
      for (const w of p.warnings) io.warn(`${at}${p.region}/${p.cluster}: ${p.kind}${p.number ? ` #${p.number}` : ''}: ${w}`);
    }
    return proposals;
  });
}

/** Why a check fails: no cluster, a node group or proposal that could not be handled, or drift with fail-on-drift. */
export function checkFailure(report: CheckReport, settings: Pick<Settings, 'regions' | 'failOnDrift'>): string | null {
  // With `accounts`: an account that could not be read fails the run, named, after the others were checked.
  const unread = (report.accounts ?? []).filter((a) => a.error).map((a) => `account ${a.account}: ${a.error}`);
  if (report.clusters.length === 0) {
    const where = report.accounts ? `accounts ${report.accounts.map((a) => a.account).join(', ')}` : 'the account of the AWS credentials';
    return [`no EKS clusters found in ${settings.regions.join(', ')}: check the regions input and ${where}`, ...unread].join('\n');
  }
  const errors = report.nodegroups.filter((n) => n.status === 'error');
  const problems = report.proposals.filter((p) => p.result === 'error').map((p) => `${p.region}/${p.cluster}: ${p.reason}`);
  if (errors.length > 0) {
    const names = errors.map((e) => (e.nodegroup ? `${e.cluster}/${e.nodegroup}` : e.cluster)).join(', ');
    problems.unshift(`${errors.length} could not be checked (${names}): see the report; the rest were checked.`);
  }
  if (unread.length > 0) problems.unshift(`${unread.length} account(s) could not be read (the others were checked): ${unread.join('; ')}`);
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
      const [kubeFor, { readBlockers }, { lookAtAutoscaler }] = await Promise.all([
        clients.kube(),
        import('../fleet/placement.js'),
        import('../effects/autoscaler-watch.js'),
      ]);
      const cluster = settings.kubeconfig ? { name, region, nodegroups: [] } : await readClusterEndpoint(clients.clientsFor(region).eks, region, name);
      const kube = kubeFor(cluster);
      const [blockers, scaler] = await Promise.all([readBlockers(kube, nodegroups), lookAtAutoscaler(kube, settings.upgrade)]);
      return { ran: true, blockers, ...(scaler.finding && !scaler.gitops?.leavesItAlone ? { autoscaler: scaler.finding } : {}) };
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
  /** The update history already read (history-cache), brought up to date in place; absent: read afresh. */
  history?: HistoryRecord;
  /** Looks (read-only) for cluster-autoscaler pauses on the clusters read; absent: not looked for. */
  lookForPauses?: (clusters: ClusterState[]) => Promise<{ found: PauseReport[]; unchecked: string[] }>;
  /**
   * Reads (read-only) the nodes of the clusters that have node groups updated in place (Bottlerocket),
   * one list per cluster, keyed `region/name`: each node group's nodes, or why they were not read.
   * Absent: not looked at.
   */
  lookAtNodes?: (clusters: ClusterState[]) => Promise<Map<string, NodesOfCluster>>;
  /** Reads (read-only) each cluster's Karpenter EC2NodeClasses and Auto Mode NodePools, keyed `region/name`. Absent: not looked at. */
  lookAtNodeClasses?: (clusters: ClusterState[]) => Promise<Map<string, NodeClassesOfCluster>>;
}

/** A cluster's managed node groups' nodes and their OS images, or why they were not read. */
export type NodesOfCluster = { nodes: Record<string, { name: string; osImage: string }[]> } | { unread: string };

/** Whether the check looks at a node group's nodes: a managed one whose OS is updated in place (Bottlerocket). */
const looksInPlace = (ng: NodegroupState) => ng.kind !== 'self-managed' && !ng.error && updatesInPlace(runningRelease(ng)?.amiType);

/**
 * Reads the nodes of the clusters with a node group updated in place, side by side with the pause
 * look, and gives each such node group what its nodes run; returns the clusters not looked at.
 */
async function lookAtNodes(clusters: ClusterState[], deps: CheckDeps): Promise<string[]> {
  const wanted = clusters.filter((c) => !c.error && c.nodegroups.some(looksInPlace));
  if (!deps.lookAtNodes || wanted.length === 0) return [];
  const read = await deps.lookAtNodes(wanted);
  const unchecked: string[] = [];
  for (const c of wanted) {
    const got = read.get(`${c.region}/${c.name}`) ?? { unread: 'not read' };
    if ('unread' in got) unchecked.push(`${c.name} (${c.region}): ${got.unread}`);
    for (const ng of c.nodegroups.filter(looksInPlace)) ng.nodeOs = 'unread' in got ? { unread: got.unread } : { nodes: got.nodes[ng.name] ?? [] };
  }
  return unchecked;
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
      // Side by side with the other reads; unreadable (an older policy without eks:DescribeClusterVersions): a warning, not an error.
      const calendar: Promise<RegionRead['calendar']> =
        versions.length > 0 ? limit(() => readVersionCalendar(eks, versions)).catch((error: unknown) => describeError(error)) : Promise.resolve(new Map());
      if (clusters.length === 0 && !stages)
        return {
          region,
          clients,
          clusters,
          fleet: clusters,
          calendar: await calendar,
          latest: new Map<string, LatestRelease>(),
          requests: new Map<string, ParameterRequest>(),
        };
      const { readImageSources, readLatestReleases, readUpdateImages, readUnhealthyParameters, applyUnhealthyParameters } = await fleetReaders();
      const { ssm } = clients;
      // The health gate's durable marks, side by side with the other reads: one paginated call for the region.
      const marks = clusters.some((c) => c.nodegroups.length > 0) || stages ? readUnhealthyParameters(ssm) : undefined;
      // Self-managed groups are read when no node group is named: the nodegroups input names managed ones.
      await readImageSources(clients, clusters, limit, { selfManaged: true, names: settings.nodegroups, readsImage });
      // A staged rollout's proof reads every cluster of the region, whatever the filters: a check of
      // production alone must still see the canaries.
      let fleet = clusters;
      if (stages && (settings.clusters.length > 0 || settings.nodegroups.length > 0)) {
        fleet = await readRegion(eks, { region, clusters: [], nodegroups: [] }, limit);
        await readImageSources(clients, fleet, limit, { selfManaged: false, readsImage });
      }
      if (stages) {
        await readHistories(eks, fleet, limit, deps.history ? { record: deps.history, continues: true } : {});
        await readUpdateImages(clients, fleet, limit, readsImage);
      }
      const read = await marks;
      let warning: string | undefined;
      if (read && 'error' in read) warning = unreadableMarks(region, read.error);
      else if (read) for (const c of [clusters, fleet]) applyUnhealthyParameters(c, read.marks);
      const requests = new Map<string, ParameterRequest>();
      for (const ng of clusters.flatMap((c) => c.nodegroups)) {
        for (const request of kindOf(ng).targetParameters(ng)) requests.set(request.parameter, request);
      }
      const latest = requests.size > 0 ? await readLatestReleases(ssm, [...requests.values()], limit) : new Map<string, LatestRelease>();
      return {
        region,
        clients,
        clusters,
        fleet,
        calendar: await calendar,
        latest,
        requests,
        ...(warning ? { warning } : {}),
        ...(read && 'marks' in read ? { marks: read.marks } : {}),
      };
    }),
  );

  const clustersRead = perRegion.flatMap((r) => r.clusters);
  const [pauses, nodesUnchecked, nodeClassesUnchecked] = await Promise.all([
    deps.lookForPauses ? deps.lookForPauses(clustersRead) : { found: [], unchecked: [] },
    lookAtNodes(clustersRead, deps),
    lookAtNodeClasses(clustersRead, deps.lookAtNodeClasses),
  ]);
  await readLateTargets(perRegion, limit);

  let nodegroups = classifyAll(perRegion, policy);
  const staged = stages ? await applyStages(stages, perRegion, nodegroups, policy.now.getTime()) : undefined;
  if (staged) nodegroups = staged.nodegroups;
  nodegroups = await confirmInRegion(nodegroups, perRegion, limit);
  nodegroups.sort((a, b) => a.region.localeCompare(b.region) || a.cluster.localeCompare(b.cluster) || (a.nodegroup ?? '').localeCompare(b.nodegroup ?? ''));

  // Without stages, `waiting` is counted only when a release waits for its image in a region.
  const waits = nodegroups.some((n) => n.status === 'waiting');
  const counted = (s: NodegroupStatus) => (stages || waits || s !== 'waiting') && (!COUNTED_WHEN_SEEN.has(s) || nodegroups.some((n) => n.status === s));
  const counts = Object.fromEntries(STATUSES.filter(counted).map((s) => [s, 0])) as Record<NodegroupStatus, number>;
  for (const ng of nodegroups) counts[ng.status]++;
  const warnings = perRegion.flatMap((r) => [
    ...(r.warning ? [r.warning] : []),
    ...(typeof r.calendar === 'string'
      ? [
          `${r.region}: the Kubernetes support calendar could not be read (DescribeClusterVersions: ${r.calendar}); ` +
            "add eks:DescribeClusterVersions to the check's policy",
        ]
      : []),
  ]);

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
        nodegroups: c.nodegroups.filter((n) => (n.kind ?? 'managed') === 'managed').length,
        selfManagedGroups: c.nodegroups.filter((n) => n.kind === 'self-managed' && !n.error).length,
        ...(c.nodegroups.some((n) => n.kind === 'karpenter') ? { nodeClasses: c.nodegroups.filter((n) => n.kind === 'karpenter').length } : {}),
        ...(c.autoMode ? { autoMode: true } : {}),
        error: c.error ?? null,
        ...supportOf(c, perRegion, policy.now),
        ...(stages ? { stage: stageOf(c, stages).name, stageNote: stageOf(c, stages).note } : {}),
      }))
      .sort((a, b) => a.region.localeCompare(b.region) || a.cluster.localeCompare(b.cluster)),
    nodegroups,
    pauses: pauses.found,
    pausesUnchecked: pauses.unchecked,
    nodesUnchecked,
    ...(nodeClassesUnchecked.length > 0 ? { nodeClassesUnchecked } : {}),
    proposals: [],
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(stages && staged ? { rollout: { stages: stages.names, stageTag: stages.tag, stageSoak: stages.soak.text, cells: staged.cells } } : {}),
  };
}
