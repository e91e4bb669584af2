import pLimit from 'p-limit';
import { CONCURRENCY, sleep, type Clients } from '../clients.js';
import { imageIdOf, type ClusterState, type LatestRelease, type ParameterRequest, type UnhealthyMark } from '../model/fleet.js';
import type { Manifest, PlanItem } from '../model/plan.js';
import type { AutoscalerPause } from '../model/pause.js';
import type { Settings } from '../model/settings.js';
import { upgradeEntry, type NodegroupUpgrade, type UpgradeReport } from '../model/upgrade-report.js';
import { releaseSource } from '../decision/ami-types.js';
import { credentialWarning, planBudgetMs } from '../decision/budget.js';
import { eksImageOf, latestImageRequests } from '../decision/eks-images.js';
import { unreadableMarks } from '../decision/drift.js';
import { holdCapacityBlocks, holdUnhealthy, holdUnproven, holdUnreadMarks } from '../decision/holds.js';
import { rolloutText } from '../decision/rollout.js';
import { kubernetesMinor } from '../decision/release.js';
import { loadAwsClients } from '../fleet/aws-clients.js';
import { credentialOutlook } from '../fleet/credentials.js';
import { readRegion } from '../fleet/eks.js';
import { readImageSources, readUpdateImages } from '../fleet/image-sources.js';
import { loadHistoryRecord, readHistories, saveHistoryRecord } from '../fleet/update-history.js';
import { applyUnhealthyParameters, readLatestReleases, readUnhealthyParameters } from '../fleet/ssm.js';
import { kindById, kindOf, planNodegroup, readsImage, runningRelease, targetImageParameter } from '../kinds/registry.js';
import { holdPlanMissingInRegion, regionalReads } from '../decision/regional.js';
import { upgradeCluster, type ClusterItem } from '../effects/cluster-upgrade.js';
import type { UpgradeDeps } from '../effects/executor.js';
import { commentOnMergedPullRequest } from '../effects/merge-comment.js';
import { handlePauses } from '../effects/pause-sweep.js';
import { addPinnedNodeClasses } from './upgrade-node-classes.js';
import { manifestPath, parseManifest } from '../repo/manifest.js';
import { renderUpgradeSummary } from '../report/upgrade-summary.js';
import type { CommandIo } from './io.js';
import type { PlannedUpgrade, RunUpgradeDeps } from './upgrade-deps.js';

export type { PlannedUpgrade, RunUpgradeDeps } from './upgrade-deps.js';

/** What the upgrade needs of whoever runs it: the triggering commit and event, and where pauses are recorded for a post step. */
export interface UpgradeRunner {
  sha: string;
  /** The event that triggered the run (`push` for a merge), or null from the command line. */
  eventName: string | null;
  workspace: string | undefined;
  recordPause: UpgradeDeps['recordPause'];
  /** The environment the credentials come from, to name their source in a warning. */
  env: NodeJS.ProcessEnv;
}

/**
 * `command: upgrade`: the manifest's pins applied, then the result, its summary (the job summary and
 * the comment on the merged pull request are this same text) and, when it did not succeed, why.
 */
export async function upgrade(
  settings: Settings,
  clients: Clients,
  io: CommandIo,
  runner: UpgradeRunner,
): Promise<{ report: UpgradeReport; summary: string; failure: string | null }> {
  const [github, kubeFor, { currentRepo, repoFileReader }] = await Promise.all([
    clients.github(),
    clients.kube(),
    import('../repo/github.js'),
    loadAwsClients(),
  ]);
  // Manifests come from the repository at the triggering commit (with a token and a commit), else from the workspace.
  const repo = github ? currentRepo() : null;
  const deps: RunUpgradeDeps = {
    clientsFor: clients.clientsFor,
    kubeFor,
    readFile: repoFileReader(github && repo && runner.sha ? { github, repo } : null, runner.sha, runner.workspace),
    sha: runner.sha,
    concurrency: CONCURRENCY,
    // What the credentials the clients use can be counted on for, as their source states it (with
    // `accounts`, the job's own: every member session is chained from them).
    credentials: await credentialOutlook(settings.role, runner.env, () => clients.clientsFor(settings.regions[0]!).eks.config.credentials()),
    now: Date.now,
    sleep,
    log: io.log,
    warn: io.warn,
    recordPause: runner.recordPause,
  };
  const report = settings.accounts
    ? await (await import('./upgrade-accounts.js')).upgradeAccounts(settings, clients, io, deps, { planUpgrade, executeUpgrade })
    : await runUpgrade(settings, deps);
  const summary = renderUpgradeSummary(report);
  if (github && repo && runner.eventName === 'push' && !report.dryRun && report.nodegroups.some(rolled)) {
    const { commented, warning } = await commentOnMergedPullRequest(github, repo, runner.sha, summary);
    if (commented) io.log(`commented on pull request #${commented}`);
    if (warning) io.warn(warning);
  }
  return { report, summary, failure: upgradeFailure(report) };
}

/** Whether a node group was changed by the run (an EKS update started, or a self-managed replacement that has no update id). */
const rolled = (n: NodegroupUpgrade): boolean => n.updateId !== undefined || ['upgraded', 'unhealthy', 'failed', 'timed-out'].includes(n.result);

/** Why an upgrade fails: any node group that was not upgraded (or, in a dry run, did not pass pre-flight). */
export function upgradeFailure(report: UpgradeReport): string | null {
  if (report.ok) return null;
  const bad = report.nodegroups.filter((n) => !['upgraded', 'up-to-date', 'skipped', 'planned'].includes(n.result));
  return report.dryRun
    ? `pre-flight failed: ${bad.map((n) => `${n.cluster}/${n.nodegroup}: ${n.reason}`).join('; ')}`
    : `${bad.length} node group(s) not upgraded: ${bad.map((n) => `${n.cluster}/${n.nodegroup} ${n.result}: ${n.reason}`).join('; ')}`;
}

/**
 * The upgrade: read the fleet and the manifests (at the triggering commit), plan (only forward), then
 * per cluster pre-flight, pause, update, wait, restore. A manifest that does not validate stops the
 * run before anything changes.
 */
export async function runUpgrade(settings: Settings, deps: RunUpgradeDeps): Promise<UpgradeReport> {
  const planned = await planUpgrade(settings, deps);
  if (planned.clusters.length === 0) {
    throw new Error(`no EKS clusters found in ${settings.regions.join(', ')}: check the regions input and the account of the AWS credentials`);
  }
  return executeUpgrade(settings, deps, planned);
}

/**
 * The reads and the plan: the fleet, the manifests (a manifest that does not validate throws here,
 * before any change), the targets, the holds. Only a stale pause of an earlier run is restored.
 */
export async function planUpgrade(settings: Settings, deps: RunUpgradeDeps): Promise<PlannedUpgrade> {
  const limit = pLimit(deps.concurrency);
  const explicit = settings.upgrade.releaseVersion;

  const perRegion = await Promise.all(
    settings.regions.map(async (region) => {
      const { eks, ssm, ec2, autoscaling } = deps.clientsFor(region);
      const clusters = await readRegion(eks, { region, clusters: settings.clusters, nodegroups: settings.nodegroups }, limit);
      // The self-managed groups, and the image a CUSTOM node group's launch template or a self-managed group names.
      await readImageSources({ ec2, autoscaling }, clusters, limit, { selfManaged: true, names: settings.nodegroups, readsImage });
      // The health gate's durable marks (either a node group's parameter or its tag holds its cluster).
      const marks = clusters.some((c) => c.nodegroups.length > 0) ? await readUnhealthyParameters(ssm) : { marks: new Map<string, UnhealthyMark>() };
      if ('marks' in marks) applyUnhealthyParameters(clusters, marks.marks);
      // Manifests are read (and validated) for every cluster before anything is changed anywhere.
      const manifests = new Map<ClusterState, Manifest | null>();
      for (const c of clusters.filter((c) => !c.error)) {
        const path = manifestPath(settings.manifestDir, region, c.name);
        const text = explicit ? null : await deps.readFile(path);
        // A node group whose AMI type could not be read: its kind is not known for sure, its entry says.
        const groups = Object.fromEntries(
          c.nodegroups.map((n) => [n.name, n.amiType || n.kind === 'self-managed' ? { amiType: n.amiType, pinKey: kindOf(n).pinKey } : {}]),
        );
        manifests.set(
          c,
          text === null
            ? null
            : parseManifest(
                path,
                text,
                { cluster: c.name, region },
                [...(c.nodegroupNames ?? c.nodegroups.map((n) => n.name)), ...(c.selfManagedNames ?? [])],
                groups,
              ),
        );
      }
      // Karpenter node classes pinned in the manifests (nodeClasses): read from each cluster's Kubernetes API.
      const classErrors = await addPinnedNodeClasses(clusters, manifests, deps.kubeFor);
      const requests = new Map<string, ParameterRequest>();
      const want = (amiType: string | undefined, minor: string | undefined) => {
        const source = minor ? releaseSource(amiType ?? '', minor) : undefined;
        if (source?.kind === 'ssm') requests.set(source.parameter, { parameter: source.parameter, format: source.format });
      };
      if (!explicit) {
        for (const c of clusters) {
          if (manifests.get(c)) continue;
          for (const ng of c.nodegroups) {
            // The latest for its own minor (a release, or a CUSTOM node group's image), and for the
            // control plane's when follow-control-plane may move it there.
            for (const r of kindOf(ng).targetParameters(ng)) requests.set(r.parameter, r);
            if (settings.upgrade.followControlPlane && c.version) want(ng.amiType, kubernetesMinor(c.version));
          }
        }
      }
      const latest = requests.size > 0 ? await readLatestReleases(ssm, [...requests.values()], limit) : new Map<string, LatestRelease>();
      return { clusters, manifests, latest, marks, classErrors, ...('error' in marks ? { warning: unreadableMarks(region, marks.error) } : {}) };
    }),
  );

  // Pauses whose job is gone (a lost runner, a job killed without its post step) are restored
  // before anything else; a dry run only reports them.
  const pauses = await handlePauses(
    perRegion.flatMap((r) => r.clusters),
    settings.upgrade.clusterAutoscaler,
    settings.upgrade.dryRun ? 'report' : 'restore-stale',
    false,
    { eks: (region) => deps.clientsFor(region).eks, kubeFor: deps.kubeFor, now: deps.now, sleep: deps.sleep },
    (c, reason) => deps.log(`${c.name}: could not look for a cluster-autoscaler pause left by an earlier run: ${reason}`),
  );
  for (const p of pauses) {
    const line = `${p.cluster}: cluster-autoscaler ${p.deployment} ${p.note}`;
    if (p.outcome === 'restored' || p.outcome === 'left-alone') deps.warn(`${line} (an earlier run's job was lost before it could restore it)`);
    else if (p.outcome === 'restore-failed') deps.warn(line);
    else deps.log(line);
  }

  let plan: PlanItem[] = [];
  const errors: NodegroupUpgrade[] = [];
  for (const { clusters, manifests, latest, classErrors } of perRegion) {
    for (const { cluster, error } of classErrors) errors.push(readFailure(cluster, error, '(node classes)'));
    for (const cluster of clusters) {
      if (cluster.error) {
        errors.push(readFailure(cluster, cluster.error));
        continue;
      }
      const manifest = manifests.get(cluster) ?? null;
      // Without a manifest, only a cluster named in `clusters` is upgraded to the latest release:
      // discovering clusters never upgrades one that nobody pinned.
      if (!manifest && !explicit && !settings.clusters.includes(cluster.name)) continue;
      for (const ng of cluster.nodegroups) {
        if (ng.error) {
          errors.push(readFailure(cluster, ng.error, ng.name));
          continue;
        }
        plan.push(
          planNodegroup({
            cluster,
            ng,
            ...(manifest?.nodegroups[ng.name]
              ? {
                  pin: manifest.nodegroups[ng.name],
                  pinAt: `${manifestPath(settings.manifestDir, cluster.region, cluster.name)}:${manifest.nodegroups[ng.name]!.line ?? 1}`,
                }
              : {}),
            ...(manifest?.nodeClasses?.[ng.name] ? { nodeClassPin: manifest.nodeClasses[ng.name] } : {}),
            manifestPresent: manifest !== null,
            explicit,
            followControlPlane: settings.upgrade.followControlPlane,
            latest: (minor) => {
              const source = releaseSource(ng.amiType ?? '', minor);
              const found = source.kind === 'ssm' ? latest.get(source.parameter) : undefined;
              return found?.kind === 'found' ? found.releaseVersion : undefined;
            },
            latestImage: () => {
              const eks = ng.image?.info ? eksImageOf(ng.image.info) : undefined;
              const request = eks ? latestImageRequests(eks).imageId : undefined;
              return request ? imageIdOf(latest.get(request.parameter)) : undefined;
            },
          }),
        );
      }
    }
  }
  plan = holdUnhealthy(
    holdCapacityBlocks(plan),
    perRegion.flatMap((r) => r.clusters),
    settings.upgrade.force,
  );
  const unread = new Map(perRegion.flatMap((r, i) => ('error' in r.marks ? [[settings.regions[i]!, r.marks.error] as const] : [])));
  plan = holdUnreadMarks(plan, unread, settings.upgrade.force);
  if (settings.stages && plan.some((p) => p.action === 'update')) {
    // The proof is read again now, from every cluster of the regions: what the proposal showed may
    // have changed since (an earlier stage's update to the train failed after it was opened). The
    // clusters already read are the whole region unless clusters or nodegroups narrowed them.
    const whole = settings.clusters.length === 0 && settings.nodegroups.length === 0;
    // The check's record of the update history, when kept (history-cache): only what is new is described.
    const loaded = settings.historyCache ? loadHistoryRecord(settings.historyCache) : null;
    if (loaded?.warning) deps.warn(loaded.warning);
    const fleet = (
      await Promise.all(
        perRegion.map(async (read, i) => {
          const { eks, ec2, autoscaling } = deps.clientsFor(settings.regions[i]!);
          let clusters = read.clusters;
          if (!whole) {
            clusters = await readRegion(eks, { region: settings.regions[i]!, clusters: [], nodegroups: [] }, limit);
            await readImageSources({ ec2, autoscaling }, clusters, limit, { selfManaged: false, readsImage });
            // An earlier stage's failure is counted from its parameter too: the tag alone may be gone.
            if ('marks' in read.marks) applyUnhealthyParameters(clusters, read.marks.marks);
          }
          await readHistories(eks, clusters, limit, loaded ? { record: loaded.record, continues: true } : {});
          await readUpdateImages({ ec2 }, clusters, limit, readsImage);
          return clusters;
        }),
      )
    ).flat();
    if (settings.historyCache && loaded) saveHistoryRecord(settings.historyCache, loaded.record);
    const held = holdUnproven(plan, fleet, settings.stages, { force: settings.upgrade.force, now: deps.now(), runs: runningRelease });
    for (const note of held.notes) deps.log(note);
    plan = held.plan;
  }
  // Each target release read where it is used: its own image parameter in the node group's region.
  const reads = regionalReads(plan, targetImageParameter);
  if (reads.size > 0) {
    const answers = new Map<string, Map<string, LatestRelease>>();
    await Promise.all(
      [...reads].map(async ([region, names]) => {
        const requests = names.map((parameter) => ({ parameter, format: 'image-id' as const }));
        answers.set(region, await readLatestReleases(deps.clientsFor(region).ssm, requests, limit));
      }),
    );
    plan = holdPlanMissingInRegion(plan, (region, parameter) => answers.get(region)?.get(parameter), targetImageParameter);
  }
  for (const item of plan) {
    const rolls = item.action === 'update' && item.updateSettings ? ` (rolls: ${rolloutText(item.updateSettings, item.nodes)})` : '';
    deps.log(`plan: ${item.cluster}/${item.nodegroup}: ${item.action}: ${item.reason}${rolls}`);
  }
  const warnings: string[] = perRegion.flatMap((r) => (r.warning ? [r.warning] : []));
  for (const w of warnings) deps.warn(w);
  const credentials = credentialWarning(planBudgetMs(plan, settings.upgrade), deps.credentials, deps.now());
  if (credentials) {
    warnings.push(credentials);
    deps.warn(credentials);
  }
  return { plan, errors, pauses, warnings, clusters: perRegion.flatMap((r) => r.clusters) };
}

/** The plan carried out: per cluster, one after another, pre-flight, pause, update, wait, restore. */
export async function executeUpgrade(settings: Settings, deps: RunUpgradeDeps, planned: PlannedUpgrade): Promise<UpgradeReport> {
  const { plan, errors, pauses, warnings } = planned;
  const nodegroups: NodegroupUpgrade[] = [...errors];
  const autoscalers: AutoscalerPause[] = [];
  const byCluster = new Map<string, { cluster: ClusterState; items: ClusterItem[] }>();
  for (const c of planned.clusters) byCluster.set(`${c.region}/${c.name}`, { cluster: c, items: [] });
  for (const item of plan) {
    const kind = kindById(item.nodeKind);
    if ((item.action === 'update' || item.action === 'block') && kind.executor) {
      byCluster.get(`${item.region}/${item.cluster}`)?.items.push({ item, executor: await kind.executor(), healthTarget: kind.healthTarget(item) });
    } else nodegroups.push(notUpdated(item));
  }
  // Clusters one after another: a fleet-wide rollout fans out over jobs (the `matrix` output), and
  // one cluster at a time keeps each pause short and each failure contained.
  for (const { cluster, items } of byCluster.values()) {
    if (items.length === 0) continue;
    const result = await upgradeCluster(cluster, items, settings.upgrade, deps);
    nodegroups.push(...result.nodegroups);
    warnings.push(...result.warnings);
    if (result.autoscaler) autoscalers.push(result.autoscaler);
  }
  await recheckLeftPauses(settings, deps, planned);
  // In the plan's order (clusters as read, node groups as listed), whatever finished first.
  const position = new Map(plan.map((p, i) => [`${p.region}/${p.cluster}/${p.nodegroup}`, i]));
  nodegroups.sort((a, b) => (position.get(`${a.region}/${a.cluster}/${a.nodegroup}`) ?? -1) - (position.get(`${b.region}/${b.cluster}/${b.nodegroup}`) ?? -1));
  const failed = new Set<NodegroupUpgrade['result']>(['unhealthy', 'failed', 'timed-out', 'blocked', 'not-started']);
  return {
    command: 'upgrade',
    dryRun: settings.upgrade.dryRun,
    generatedAt: new Date(deps.now()).toISOString(),
    ok:
      !nodegroups.some((n) => failed.has(n.result)) &&
      !autoscalers.some((a) => a.outcome === 'restore-failed') &&
      !pauses.some((p) => p.outcome === 'restore-failed'),
    plan,
    nodegroups,
    autoscalers,
    pauses,
    warnings,
    manifestDir: settings.manifestDir,
  };
}

/** A node group the plan does not update. An explicit release-version that cannot apply is a failure. */
function notUpdated(item: PlanItem): NodegroupUpgrade {
  if (item.action === 'skip' && item.source === 'release-version') {
    return upgradeEntry(item, 'failed', `release-version ${item.target?.releaseVersion}: ${item.reason}`);
  }
  return upgradeEntry(item, item.action === 'up-to-date' ? 'up-to-date' : 'skipped', item.reason);
}

/** A cluster, or a node group asked for by name, that could not be read. */
function readFailure(cluster: ClusterState, error: string, nodegroup = '(cluster)'): NodegroupUpgrade {
  return upgradeEntry({ cluster: cluster.name, region: cluster.region, nodegroup, amiType: null, current: null, target: null }, 'failed', error);
}

/**
 * A pause an earlier run's job left while EKS still updated was left at the start (restoring it then
 * lets cluster-autoscaler upset the update's scale down). Once this run's work is done it is looked at
 * again, asking EKS afresh: the update may have ended meanwhile (this run's pre-flight may even have
 * found its node group already at the target, and changed nothing), and nothing else of this run would
 * lift it. Still updating, it stays, as before; its entry in `planned.pauses` is replaced in place.
 */
async function recheckLeftPauses(settings: Settings, deps: RunUpgradeDeps, planned: PlannedUpgrade): Promise<void> {
  const waited = planned.pauses.filter((p) => p.outcome === 'left' && p.updateInProgress);
  if (waited.length === 0 || settings.upgrade.dryRun) return;
  const again = planned.clusters
    .filter((c) => waited.some((p) => p.cluster === c.name && p.region === c.region))
    // No node group state of the start: every node group's status asked of EKS now.
    .map((c) => ({ ...c, nodegroups: [], nodegroupNames: c.nodegroupNames ?? c.nodegroups.map((n) => n.name) }));
  const pauseDeps = { eks: (region: string) => deps.clientsFor(region).eks, kubeFor: deps.kubeFor, now: deps.now, sleep: deps.sleep };
  const later = await handlePauses(again, settings.upgrade.clusterAutoscaler, 'restore-stale', false, pauseDeps, (c, reason) =>
    deps.log(`${c.name}: could not look again at the cluster-autoscaler pause an earlier run left: ${reason}`),
  );
  for (const p of later) {
    const at = planned.pauses.findIndex((x) => x.cluster === p.cluster && x.region === p.region);
    if (at >= 0) planned.pauses[at] = p;
    if (p.outcome === 'restored')
      deps.warn(`${p.cluster}: cluster-autoscaler ${p.deployment} ${p.note} (EKS finished the update an earlier run's lost job started)`);
  }
}
