import pLimit from 'p-limit';
import type { Settings } from './inputs.js';
import { readHistories, readRegion } from './fleet/discover.js';
import { membersOf, stageOf } from './decision/stages.js';
import { proveTrain } from './decision/proof.js';
import { trainOf } from './decision/train.js';
import { imageIdOf, readLatestReleases, type LatestRelease, type ParameterRequest } from './fleet/releases.js';
import { UNHEALTHY_TAG, type ClusterState } from './fleet/types.js';
import { releaseSource } from './decision/ami-types.js';
import { eksImageOf, latestImageRequests } from './decision/image-source.js';
import { requestsFor } from './decision/drift.js';
import { readImageSources } from './fleet/images.js';
import { planNodegroup, type PlanItem } from './decision/plan.js';
import { kubernetesMinor } from './decision/release.js';
import { manifestPath, parseManifest, type Manifest } from './repo/manifest.js';
import type { FileReader } from './repo/github.js';
import { defaultWaitTimeoutMs, upgradeCluster, upgradeEntry, type AutoscalerPause, type NodegroupUpgrade, type UpgradeDeps } from './effects/upgrade.js';
import { handlePauses, type PauseReport } from './effects/pauses.js';
import type { CredentialOutlook } from './fleet/credentials.js';
import { formatDuration } from './decision/duration.js';

export interface UpgradeReport {
  command: 'upgrade';
  dryRun: boolean;
  generatedAt: string;
  /** Whether every planned update succeeded (or, in a dry run, passed pre-flight). */
  ok: boolean;
  plan: PlanItem[];
  nodegroups: NodegroupUpgrade[];
  autoscalers: AutoscalerPause[];
  /** Stale pauses of earlier runs found on the clusters read, and what was done about them. */
  pauses: PauseReport[];
  /** Said before anything changed: what could make this run fail half-way. */
  warnings: string[];
  /** Where the clusters' manifests are (the manifest-dir input), for what the summary tells people to pin. */
  manifestDir: string;
}

export interface RunUpgradeDeps extends UpgradeDeps {
  readFile: FileReader;
  concurrency: number;
  /** What the AWS credentials can be counted on for. */
  credentials: CredentialOutlook;
}

/**
 * How long the plan may keep the job busy: clusters one after another, in each the updates in waves
 * of max-parallel, each wave as long as its longest wait timeout plus the health gate's.
 */
export function planBudgetMs(items: readonly PlanItem[], settings: Settings['upgrade']): number {
  const byCluster = new Map<string, number[]>();
  for (const i of items.filter((p) => p.action === 'update')) {
    const key = `${i.region}/${i.cluster}`;
    byCluster.set(key, [...(byCluster.get(key) ?? []), (settings.waitTimeoutMs ?? defaultWaitTimeoutMs(i.nodes)) + settings.healthTimeoutMs]);
  }
  let total = 0;
  for (const timeouts of byCluster.values()) {
    timeouts.sort((a, b) => b - a);
    for (let w = 0; w < timeouts.length; w += settings.maxParallel) total += timeouts[w] as number;
  }
  return total;
}

/** The warning for a plan that may outlast credentials nobody can renew, or `undefined`. */
export function credentialWarning(budgetMs: number, outlook: CredentialOutlook, now: number): string | undefined {
  if (outlook.renewable || outlook.expiresAt === null || budgetMs === 0 || now + budgetMs <= outlook.expiresAt) return undefined;
  const left = Math.max(0, outlook.expiresAt - now);
  return (
    `The plan may take up to ${formatDuration(budgetMs)} (its wait timeouts), but the AWS credentials are ${outlook.source} and have about ${formatDuration(left)} left, with nobody to renew them: ` +
    'once they expire the action can neither follow the updates nor restore cluster-autoscaler. Set role-to-assume (and permissions: id-token: write) so the action renews its own credentials, ' +
    "or raise role-duration-seconds of aws-actions/configure-aws-credentials above the plan's duration (at most the role's MaxSessionDuration)."
  );
}

/**
 * The upgrade: read the fleet and the manifests (at the triggering commit), plan (only forward), then
 * per cluster pre-flight, pause, update, wait, restore. A manifest that does not validate stops the
 * run before anything changes.
 */
export async function runUpgrade(settings: Settings, deps: RunUpgradeDeps): Promise<UpgradeReport> {
  const limit = pLimit(deps.concurrency);
  const explicit = settings.upgrade.releaseVersion;

  const perRegion = await Promise.all(
    settings.regions.map(async (region) => {
      const { eks, ssm, ec2, autoscaling } = deps.clientsFor(region);
      const clusters = await readRegion(eks, { region, clusters: settings.clusters, nodegroups: settings.nodegroups }, limit);
      // The image a CUSTOM node group's launch template names (self-managed groups are not upgraded).
      await readImageSources({ ec2, autoscaling }, clusters, limit, { selfManaged: false });
      // Manifests are read (and validated) for every cluster before anything is changed anywhere.
      const manifests = new Map<ClusterState, Manifest | null>();
      for (const c of clusters.filter((c) => !c.error)) {
        const path = manifestPath(settings.manifestDir, region, c.name);
        const text = explicit ? null : await deps.readFile(path);
        const amiTypes = Object.fromEntries(c.nodegroups.map((n) => [n.name, n.amiType]));
        manifests.set(c, text === null ? null : parseManifest(path, text, { cluster: c.name, region }, c.nodegroupNames ?? c.nodegroups.map((n) => n.name), amiTypes));
      }
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
            for (const r of requestsFor(ng)) requests.set(r.parameter, r);
            if (settings.upgrade.followControlPlane && c.version) want(ng.amiType, kubernetesMinor(c.version));
          }
        }
      }
      const latest = requests.size > 0 ? await readLatestReleases(ssm, [...requests.values()], limit) : new Map<string, LatestRelease>();
      return { clusters, manifests, latest };
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

  const plan: PlanItem[] = [];
  const errors: NodegroupUpgrade[] = [];
  for (const { clusters, manifests, latest } of perRegion) {
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
            ...(manifest?.nodegroups[ng.name] ? { pin: manifest.nodegroups[ng.name], pinAt: `${manifestPath(settings.manifestDir, cluster.region, cluster.name)}:${manifest.nodegroups[ng.name]!.line ?? 1}` } : {}),
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
  holdUnhealthy(plan, perRegion.flatMap((r) => r.clusters), settings.upgrade.force);
  if (settings.stages && plan.some((p) => p.action === 'update')) {
    // The proof is read again now, from every cluster of the regions: what the proposal showed may
    // have changed since (an earlier stage's update to the train failed after it was opened). The
    // clusters already read are the whole region unless clusters or nodegroups narrowed them.
    const whole = settings.clusters.length === 0 && settings.nodegroups.length === 0;
    const fleet = (
      await Promise.all(
        perRegion.map(async (read, i) => {
          const { eks, ec2, autoscaling } = deps.clientsFor(settings.regions[i]!);
          let clusters = read.clusters;
          if (!whole) {
            clusters = await readRegion(eks, { region: settings.regions[i]!, clusters: [], nodegroups: [] }, limit);
            await readImageSources({ ec2, autoscaling }, clusters, limit, { selfManaged: false });
          }
          await readHistories(eks, clusters, limit);
          return clusters;
        }),
      )
    ).flat();
    holdUnproven(plan, fleet, settings.stages, settings.upgrade.force, deps.now(), deps.log);
  }
  for (const item of plan) deps.log(`plan: ${item.cluster}/${item.nodegroup}: ${item.action}: ${item.reason}`);
  if (perRegion.every((r) => r.clusters.length === 0)) {
    throw new Error(`no EKS clusters found in ${settings.regions.join(', ')}: check the regions input and the account of the AWS credentials`);
  }
  const warnings: string[] = [];
  const credentials = credentialWarning(planBudgetMs(plan, settings.upgrade), deps.credentials, deps.now());
  if (credentials) {
    warnings.push(credentials);
    deps.warn(credentials);
  }

  const nodegroups: NodegroupUpgrade[] = [...errors];
  const autoscalers: AutoscalerPause[] = [];
  const byCluster = new Map<string, { cluster: ClusterState; items: PlanItem[] }>();
  for (const { clusters } of perRegion) for (const c of clusters) byCluster.set(`${c.region}/${c.name}`, { cluster: c, items: [] });
  for (const item of plan) {
    if (item.action === 'update' || item.action === 'block') byCluster.get(`${item.region}/${item.cluster}`)?.items.push(item);
    else nodegroups.push(notUpdated(item));
  }
  // Clusters one after another: a fleet-wide rollout fans out over jobs (the `matrix` output), and
  // one cluster at a time keeps each pause short and each failure contained.
  for (const { cluster, items } of byCluster.values()) {
    if (items.length === 0) continue;
    const result = await upgradeCluster(cluster, items, settings.upgrade, deps);
    nodegroups.push(...result.nodegroups);
    if (result.autoscaler) autoscalers.push(result.autoscaler);
  }
  // In the plan's order (clusters as read, node groups as listed), whatever finished first.
  const position = new Map(plan.map((p, i) => [`${p.region}/${p.cluster}/${p.nodegroup}`, i]));
  nodegroups.sort((a, b) => (position.get(`${a.region}/${a.cluster}/${a.nodegroup}`) ?? -1) - (position.get(`${b.region}/${b.cluster}/${b.nodegroup}`) ?? -1));
  const failed = new Set<NodegroupUpgrade['result']>(['unhealthy', 'failed', 'timed-out', 'blocked', 'not-started']);
  return {
    command: 'upgrade',
    dryRun: settings.upgrade.dryRun,
    generatedAt: new Date(deps.now()).toISOString(),
    ok: !nodegroups.some((n) => failed.has(n.result)) && !autoscalers.some((a) => a.outcome === 'restore-failed') && !pauses.some((p) => p.outcome === 'restore-failed'),
    plan,
    nodegroups,
    autoscalers,
    pauses,
    warnings,
    manifestDir: settings.manifestDir,
  };
}

/**
 * A node group that an earlier run's health gate found unhealthy on the release it still runs (its
 * UNHEALTHY_TAG) holds every update of its cluster: a re-run must not spread the release to the
 * next node group. `force` overrides it.
 */
export function holdUnhealthy(plan: PlanItem[], clusters: readonly ClusterState[], force: boolean): void {
  if (force) return;
  for (const cluster of clusters) {
    const marked = cluster.nodegroups.filter((ng) => ng.unhealthy && (ng.unhealthy.target === ng.releaseVersion || ng.unhealthy.target === ng.image?.imageId));
    if (marked.length === 0) continue;
    const why = marked.map((ng) => `${ng.name} was found unhealthy on ${ng.unhealthy!.target} at ${ng.unhealthy!.at}`).join('; ');
    for (const item of plan.filter((p) => p.region === cluster.region && p.cluster === cluster.name && p.action === 'update')) {
      item.action = 'block';
      item.reason = `held: ${why} (tag ${UNHEALTHY_TAG}). No node group of ${cluster.name} is upgraded until it is healthy again and the tag is removed (aws eks untag-resource --tag-keys ${UNHEALTHY_TAG}), or force: true`;
    }
  }
}

/**
 * Staged rollouts: an update in a later stage goes ahead only while its target's train is proven by
 * the earlier stages (every node group of its AMI type there has run it for stage-soak, and none has
 * failed an update to it). Otherwise every update of the cluster is blocked before anything changes,
 * naming what holds the train back; `force` goes ahead anyway, and says so. A target whose train
 * cannot be read (a CUSTOM image) and an AMI type with no earlier-stage node group are not held.
 */
export function holdUnproven(plan: PlanItem[], fleet: readonly ClusterState[], stages: NonNullable<Settings['stages']>, force: boolean, now: number, log: (line: string) => void): void {
  const members = membersOf(fleet, stages);
  const byCluster = new Map<string, PlanItem[]>();
  for (const p of plan.filter((p) => p.action === 'update')) byCluster.set(`${p.region}/${p.cluster}`, [...(byCluster.get(`${p.region}/${p.cluster}`) ?? []), p]);
  for (const [key, items] of byCluster) {
    const cluster = fleet.find((c) => `${c.region}/${c.name}` === key);
    const stage = stageOf(cluster ?? {}, stages);
    if (stage.index === 0) continue;
    const held: string[] = [];
    for (const item of items) {
      if (!item.amiType || !item.target || item.target.imageId) continue;
      const train = trainOf(item.target.releaseVersion, item.amiType);
      if (!train) continue;
      const proof = proveTrain(members, item.amiType, stage.index, train, stages.soak.ms, now);
      if (!proof.applies) {
        log(`${item.cluster}/${item.nodegroup}: stage ${stage.name}: no ${item.amiType} node group in an earlier stage, the stage gate does not apply`);
        continue;
      }
      if (proof.proven) {
        log(`${item.cluster}/${item.nodegroup}: stage ${stage.name}: ${train.id} is still proven by the earlier stages`);
        continue;
      }
      const why = proof.failures.length > 0 ? proof.failures.map((f) => `${f.cluster}/${f.nodegroup}: ${f.what}`).join('; ') : proof.holders.join('; ');
      held.push(`${item.nodegroup} → ${item.target.releaseVersion}: ${train.id} is not proven for stage ${stage.name}${proof.failures.length > 0 ? ', it failed in an earlier stage' : ''}: ${why}`);
    }
    if (held.length === 0) continue;
    if (force) {
      for (const item of items) item.reason = `${item.reason} (force: true goes ahead although ${held.join('; ')})`;
      log(`${key}: force: true: going ahead although ${held.join('; ')}`);
      continue;
    }
    for (const item of items) {
      item.action = 'block';
      item.reason = `stage gate: ${held.join('; ')}. Nothing of ${item.cluster} is upgraded until the earlier stages prove the train again (or a newer one is proposed), or force: true`;
    }
  }
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
  const item: PlanItem = { cluster: cluster.name, region: cluster.region, nodegroup, amiType: null, nodes: null, current: null, target: null, source: null, action: 'skip', reason: error };
  return upgradeEntry(item, 'failed', error);
}
