import pLimit from 'p-limit';
import { CONCURRENCY, pauseDeps, sleep, type Clients } from '../clients.js';
import type { PauseRecord } from '../model/pause.js';
import type { Settings } from '../model/settings.js';
import { describeError, loadAwsClients } from '../fleet/aws-clients.js';
import { clusterNodegroupsUpdating, readClusterEndpoint, readRegion } from '../fleet/eks.js';
import { describeKubeError } from '../fleet/kube-errors.js';
import { dropLease, LEASE_STALE_MS, PAUSED_ANNOTATION, restoreAutoscaler } from '../effects/autoscaler.js';
import { handlePause, handlePauses } from '../effects/pause-sweep.js';
import { retryTransient, withDeadline } from '../effects/retry.js';
import type { CommandIo } from './io.js';
import { ACCOUNTS_AT_ONCE, eachAccount } from './accounts.js';
import type { RestoreResult } from '../model/pause.js';
import type { ClusterState } from '../model/fleet.js';
import type { SelfManagedRestore } from '../effects/self-managed-restore.js';
import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import type { KubeApi } from '../model/kube-api.js';

/** The clock the undo of a self-managed group waits on (its drain polls): the real one but in tests. */
export interface Timing {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

/**
 * `command: restore`: restores the cluster-autoscaler pauses of the clusters named (every cluster of
 * the regions when none is), stale or not, but not while a node group update of that cluster is in
 * progress unless `force`; before that, undoes every self-managed group a killed run left
 * mid-replacement (not under a job that may still run). For a workflow_dispatch button when a job was lost.
 */
export async function restore(
  settings: Settings,
  clients: Clients,
  io: CommandIo,
  timing: Timing = { now: Date.now, sleep },
): Promise<{ result: RestoreResult; failure: string | null }> {
  if (!settings.accounts) return restoreAccount(settings, clients, io, timing);
  // With `accounts`: each account through its role, side by side; one whose role cannot be assumed is named, the others restored.
  const passes = await eachAccount(settings, clients, io, ACCOUNTS_AT_ONCE, (own, member, account) =>
    restoreAccount(own, member, { ...io, log: (l) => io.log(`${account}: ${l}`), warn: (l) => io.warn(`${account}: ${l}`) }, timing),
  );
  const result: RestoreResult = { pauses: [], problems: [], read: 0 };
  const failures: string[] = [];
  for (const pass of passes) {
    if (pass.error !== null) {
      result.problems.push(`account ${pass.account}: ${pass.error}`);
      failures.push(`account ${pass.account}: ${pass.error}`);
      continue;
    }
    result.pauses.push(...pass.result.result.pauses.map((p) => ({ ...p, account: pass.account })));
    result.problems.push(...pass.result.result.problems.map((p) => `account ${pass.account}: ${p}`));
    result.read += pass.result.result.read;
    if (pass.result.failure) failures.push(...pass.result.failure.split('\n').map((f) => `account ${pass.account}: ${f}`));
  }
  return { result, failure: failures.length > 0 ? failures.join('\n') : null };
}

/** The restore in one account (the job's own, or a member of `accounts`). */
async function restoreAccount(settings: Settings, clients: Clients, io: CommandIo, timing: Timing): Promise<{ result: RestoreResult; failure: string | null }> {
  const limit = pLimit(CONCURRENCY);
  const query = (region: string) => ({ region, clusters: settings.clusters, nodegroups: [] });
  const clusters = (await Promise.all(settings.regions.map((region) => readRegion(clients.clientsFor(region).eks, query(region), limit)))).flat();
  const problems: string[] = clusters.filter((c) => c.error).map((c) => `${c.name} (${c.region}): ${c.error}`);
  const deps = await pauseDeps(clients);
  // First, with cluster-autoscaler still paused, each self-managed group a killed run left
  // mid-replacement is undone; not while the job that paused the cluster's cluster-autoscaler may still
  // run (a fresh lease, an update in progress: what the restore below leaves too), unless `force`.
  const held = async (c: ClusterState) => {
    const pause = await handlePause(c, settings.upgrade.clusterAutoscaler, 'report', false, deps);
    return pause !== undefined && (!pause.stale || pause.updateInProgress);
  };
  const selfManaged = await restoreSelfManaged(
    settings,
    clients,
    clusters.filter((c) => !c.error),
    held,
    io,
    timing,
    (c, reason) => problems.push(`${c.name} (${c.region}): ${reason}`),
  );
  const pauses = await handlePauses(clusters, settings.upgrade.clusterAutoscaler, 'restore', settings.upgrade.force, deps, (c, reason) =>
    problems.push(`${c.name} (${c.region}): cannot read its Kubernetes API: ${reason}`),
  );
  for (const p of pauses) {
    const line = `${p.region}/${p.cluster}: cluster-autoscaler ${p.deployment} ${p.note}`;
    if (p.outcome === 'restored') io.log(line);
    else io.warn(line);
  }
  const read = clusters.filter((c) => !c.error).length;
  if (pauses.length === 0 && selfManaged.length === 0 && problems.length === 0)
    io.log(`no cluster-autoscaler is paused and no self-managed group is mid-replacement in the ${read} cluster(s) read: nothing to restore`);
  const result = { pauses, problems: [...problems], read };
  // A pause left on purpose (an update in progress, a job that still holds it) is a warning, not a
  // failure: a scheduled restore meets those during every upgrade.
  const failures = [
    ...problems,
    ...pauses.filter((p) => p.outcome === 'restore-failed').map((p) => `${p.cluster} (${p.region}): ${p.note}`),
    ...selfManaged.filter((g) => g.outcome === 'undo-failed').map((g) => `${g.cluster} (${g.region}): self-managed group ${g.group}: ${g.note}`),
  ];
  if (clusters.length === 0) failures.push(`no EKS clusters found in ${settings.regions.join(', ')}`);
  return { result, failure: failures.length > 0 ? failures.join('\n') : null };
}

/**
 * The self-managed groups of the clusters that carry a killed run's record (`eks-ami-drift/replacing`),
 * each undone (../effects/self-managed-restore.ts); a cluster `held` by a job that may still run (its
 * cluster-autoscaler pause has a fresh lease, or an update runs) is left unless `force`.
 */
async function restoreSelfManaged(
  settings: Settings,
  clients: Clients,
  clusters: readonly ClusterState[],
  held: (c: ClusterState) => Promise<boolean>,
  io: Pick<CommandIo, 'log' | 'warn'>,
  timing: Timing,
  problem: (c: ClusterState, reason: string) => void,
): Promise<SelfManagedRestore[]> {
  const [{ recordedGroups }] = await Promise.all([import('../effects/self-managed-restore.js'), loadAwsClients('autoscaling')]);
  const kubeFor = await clients.kube();
  const limit = pLimit(CONCURRENCY);
  const perCluster = clusters.map(async (cluster): Promise<SelfManagedRestore[]> => {
    try {
      const recorded = await limit(() => recordedGroups({ cluster, clients: clients.clientsFor(cluster.region) }));
      if (recorded.length === 0) return [];
      const names = recorded.map((g) => g.AutoScalingGroupName).join(', ');
      if (!settings.upgrade.force && (await held(cluster))) {
        io.warn(
          `${cluster.region}/${cluster.name}: self-managed group(s) ${names} mid-replacement, left: ` +
            'the job that paused cluster-autoscaler may still run (force: true undoes them now)',
        );
        return [];
      }
      return await undoCluster(settings, clients, cluster, kubeFor(cluster), io, timing, recorded);
    } catch (error) {
      problem(cluster, `cannot read or undo its self-managed groups: ${describeError(error)}`);
      return [];
    }
  });
  return (await Promise.all(perCluster)).flat();
}

/** Undoes the recorded self-managed groups of one cluster (all it finds, when `recorded` is not given), each logged. */
async function undoCluster(
  settings: Settings,
  clients: Clients,
  cluster: ClusterState,
  kube: KubeApi,
  io: Pick<CommandIo, 'log' | 'warn'>,
  timing: Timing,
  recorded?: readonly AutoScalingGroup[],
): Promise<SelfManagedRestore[]> {
  // The undo moves the group back and deletes what it made: templates' versions (EC2), launch configurations (Auto Scaling).
  const [{ undoRecorded }] = await Promise.all([import('../effects/self-managed-restore.js'), loadAwsClients('autoscaling', 'ec2')]);
  const kubeFor = await clients.kube();
  const deps = {
    clientsFor: clients.clientsFor,
    kubeFor: (c: ClusterState) => kubeFor(c),
    sha: '',
    now: timing.now,
    sleep: timing.sleep,
    log: io.log,
    warn: io.warn,
    recordPause: () => undefined,
  };
  const done = await undoRecorded({ cluster, clients: clients.clientsFor(cluster.region), kube, settings: settings.upgrade, deps }, recorded);
  for (const g of done) (g.outcome === 'undone' ? io.log : io.warn)(`${g.region}/${g.cluster}: self-managed group ${g.group} ${g.note}`);
  return done;
}

/**
 * How long the post step gives each recorded pause, all of them side by side: the step ends within
 * about this (and its start) whatever one cluster does. After a cancel, or `timeout-minutes`, the
 * runner kills the job's worker at the job's cancel timeout minus 15 s (actions/runner
 * src/Runner.Listener/JobDispatcher.cs, WorkerDispatcher.Cancel: `CancelAfter(timeout - 15 s)`, at
 * least 60 s), 5 minutes unless the workflow sets one (src/Sdk/DTPipelines/Pipelines/PipelineConstants.cs,
 * `DefaultJobCancelTimeoutInMinutes = 5`): 4 min 45 s for the main step to stop and every post step of
 * the job to run. With the default kube-timeout, five tries at a cluster that never answers end in
 * about 80 s, inside this.
 */
export const POST_RESTORE_DEADLINE_MS = 90_000;

/**
 * The post step's restore of the pauses the main step recorded and did not restore (the main step
 * failed, timed out or was cancelled): all at once, each with its own deadline, each cluster's
 * self-managed groups left mid-replacement undone first. A pause that could not
 * be restored keeps its record on the Deployment for the next run, and a warning names it with the way
 * to restore it by hand. Problems are warnings, never a failure: the post step must not fail a second time.
 */
export async function restoreRecorded(
  settings: Settings,
  clients: Clients,
  pauses: readonly PauseRecord[],
  io: Pick<CommandIo, 'log' | 'warn'>,
  deadlineMs = POST_RESTORE_DEADLINE_MS,
  timing: Timing = { now: Date.now, sleep },
): Promise<void> {
  await Promise.all(
    pauses.map(async (p) => {
      const label = `${p.account ? `${p.account}/` : ''}${p.cluster}: cluster-autoscaler ${p.namespace}/${p.name}`;
      let last: unknown;
      const late = () => new Error(`not done within the post step's ${deadlineMs / 1000} s${last ? ` (last: ${reason(last)})` : ''}`);
      try {
        const outcome = await withDeadline(deadlineMs, late, async (signal) => {
          // A pause in a member account of `accounts` is restored through that account's role.
          const own = p.account ? await clients.member(p.account) : clients;
          const kubeFor = await own.kube();
          const cluster = settings.kubeconfig
            ? { name: p.cluster, region: p.region, nodegroups: [] }
            : await readClusterEndpoint(own.clientsFor(p.region).eks, p.region, p.cluster, signal);
          // A Kubernetes client (and token) made now, from credentials renewed if near expiry, retried on
          // transient errors: the post step may run hours after the main step began.
          // Never lifted while EKS still updates a node group of the cluster (a job cancelled mid-wait):
          // held, its lease dropped, for a restore to lift once EKS is done (../fleet/eks.ts).
          // A self-managed group this job left mid-replacement is undone first, with cluster-autoscaler
          // still paused (docs/self-managed.md, "The resumable record"); one that fails keeps its record.
          const undone = await undoCluster(settings, own, cluster, kubeFor(cluster, signal), io, timing).catch((error: unknown) => {
            io.warn(`${p.cluster}: could not look for self-managed groups left mid-replacement (${reason(error)}): command: restore undoes them`);
            return [];
          });
          // One left mid-replacement keeps cluster-autoscaler paused with it, for restore to undo both.
          if (undone.some((g) => g.outcome === 'undo-failed')) throw new Error('a self-managed group could not be undone (its record is kept)');
          const busy = await clusterNodegroupsUpdating(own.clientsFor(p.region).eks, p.cluster);
          if (busy.length > 0) {
            if (p.replicas !== null) await dropLease(kubeFor(cluster, signal), p, p.replicas).catch(() => undefined);
            return { kind: 'held' as const, nodegroups: busy };
          }
          const attempt = () =>
            restoreAutoscaler(kubeFor(cluster, signal), p, p.replicas ?? undefined).catch((error: unknown) => {
              last = error;
              throw error;
            });
          return retryTransient(attempt, sleep, 5, signal);
        });
        if (outcome.kind === 'held') {
          io.warn(
            `${label}: stays paused: EKS is still updating ${outcome.nodegroups.join(', ')}; ` +
              'command: restore (the docs run it on a schedule) or the next upgrade lifts it once EKS is done',
          );
        } else if (outcome.kind === 'restored') io.log(`${label}: restored to ${outcome.replicas} replicas`);
        else if (outcome.kind === 'already-restored') io.log(`${label}: already restored`);
        else io.warn(`${label}: scaled to ${outcome.replicas} by someone during the upgrade: left alone (recorded ${outcome.recorded})`);
      } catch (error) {
        const count = p.replicas ?? `<the count in its ${PAUSED_ANNOTATION} annotation>`;
        io.warn(
          `${label} (${p.region}): could not be restored: ${reason(error)}. It stays paused, its record kept on the Deployment: ` +
            'command: restore restores it (not while a node group update runs), ' +
            `the next upgrade run once its lease is ${LEASE_STALE_MS / 60_000} minutes old; ` +
            `by hand: kubectl -n ${p.namespace} scale deployment ${p.name} --replicas=${count}`,
        );
      }
    }),
  );
}

function reason(error: unknown): string {
  return describeKubeError(error) || describeError(error);
}
