import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderManifest } from '../../src/repo/manifest.js';
import type { SimCluster, SimOptions } from '../sim/fleet.js';
import type { GitHubSpec } from '../sim/github.js';
import { amazonLinuxParameters, bottlerocketParameter } from '../sim/releases.js';
import { awsImageName } from '../sim/images.js';
import { runAction } from '../sim/run-action.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import type { UpgradeReport } from '../../src/model/upgrade-report.js';
import { readmePolicyActions, readmeRbacRules } from './readme.js';
import {
  batchNew,
  batchOld,
  genMid,
  genNew,
  genOld,
  mergeManifestChange,
  PROD_MANIFEST as PATH,
  prodCluster as cluster,
  prodManifest as manifest,
  startProd,
} from './prod-fixture.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(c: SimCluster = cluster(), options: SimOptions & { github?: GitHubSpec } = {}) {
  sim = await startProd(c, options);
  return sim;
}

const inputs = (extra: Record<string, string> = {}) => ({ command: 'upgrade', regions: 'us-east-1', 'poll-interval': '100ms', ...extra });
const env = (s: Simulator, sha: string) => ({ ...s.env(), AWS_REGION: 'us-east-1', GITHUB_SHA: sha });
const report = (outputs: Record<string, string>) => JSON.parse(outputs.upgrades ?? '{}') as UpgradeReport;
const autoscaler = (s: Simulator) => [...s.world.kubeOf(s.world.fleet.clusters[0]!).deployments.values()][0]!;

describe('upgrade on merge', () => {
  it('upgrades the two node groups the merged manifest pins, with cluster-autoscaler paused throughout, and reports on the pull request', async () => {
    const s = await start();
    const sha = mergeManifestChange(s);
    const run = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    const r = report(run.outputs);
    expect(r.nodegroups.map((n) => [n.nodegroup, n.result, n.to?.releaseVersion])).toEqual([
      ['general', 'upgraded', genNew],
      ['batch', 'upgraded', batchNew],
    ]);
    for (const ng of s.world.fleet.clusters[0]!.nodegroups) expect(ng.status).toBe('ACTIVE');
    expect(s.world.fleet.clusters[0]!.nodegroups.map((n) => n.releaseVersion)).toEqual([genNew, batchNew]);
    // cluster-autoscaler: zero at every phase of both updates, back at 2 after, no record left behind
    expect(s.world.updates).toHaveLength(2);
    for (const u of s.world.updates) {
      expect(u.autoscalerReplicas.every((n) => n === 0)).toBe(true);
      expect(u.autoscalerInterfered).toBe(false);
      expect(u.phases.map((p) => p.phase)).toEqual(['setup', 'scale-up', 'upgrade', 'scale-down']);
    }
    expect(autoscaler(s).spec?.replicas).toBe(2);
    expect(autoscaler(s).metadata.annotations?.['eks-ami-drift/paused-replicas']).toBeUndefined();
    expect(r.autoscalers).toEqual([expect.objectContaining({ deployment: 'kube-system/cluster-autoscaler', replicas: 2, outcome: 'restored' })]);

    // the progress, the summary and the comment on the merged pull request
    expect(run.stdout).toMatch(/prod\/general: upgrade · old nodes \d+ \(\d+ cordoned\) · new nodes \d+ · Auto Scaling group desired \d+ \/ max \d+/);
    expect(run.stdout).toContain('prod/general: Successful');
    expect(run.summary).toContain('✅ Every planned node group update succeeded.');
    expect(run.summary).toContain('```mermaid');
    const pr = s.github.pulls()[0]!;
    expect(pr.comments).toHaveLength(1);
    expect(pr.comments[0]!.body).toContain(run.summary.trim());
    // the Kubernetes token is masked the moment it exists, and appears nowhere else. Exactly one: one
    // cluster, one Kubernetes client for the run (the pause look-up, the upgrade and the restore share
    // it), and a run of seconds, far from the token's 10-minute renewal, with no 401 to rebuild it on.
    const lines = run.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('::add-mask::k8s-aws-v1.'))).toHaveLength(1);
    expect(lines.filter((l) => !l.startsWith('::add-mask::')).join('\n')).not.toContain('k8s-aws-v1.');
  });

  it('changes nothing in a dry run, and only prints the plan', async () => {
    const s = await start();
    const sha = mergeManifestChange(s);
    const run = await runAction({ inputs: inputs({ 'dry-run': 'true' }), env: env(s, sha), eventName: 'push' });
    expect(run.code).toBe(0);
    expect(report(run.outputs).nodegroups.map((n) => n.result)).toEqual(['planned', 'planned']);
    expect(run.stdout).toContain(`plan: prod/general: update: ${genOld} → ${genNew}`);
    expect(s.world.updates).toHaveLength(0);
    expect(s.log.filter((l) => l.operation === 'UpdateNodegroupVersion')).toEqual([]);
    expect(s.world.kubeOf(s.world.fleet.clusters[0]!).writes).toEqual([]);
  });

  it('skips a target older than what runs, and does nothing when already at target', async () => {
    const s = await start();
    s.world.fleet.clusters[0]!.nodegroups[0]!.releaseVersion = genMid;
    const sha = mergeManifestChange(s, genOld, batchOld);
    const run = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push' });
    expect(run.code).toBe(0);
    const r = report(run.outputs);
    expect(r.nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([
      ['general', 'skipped'],
      ['batch', 'up-to-date'],
    ]);
    expect(r.nodegroups[0]!.reason).toContain('a rollback is not possible');
    expect(s.world.updates).toHaveLength(0);
    expect(s.world.kubeOf(s.world.fleet.clusters[0]!).writes).toEqual([]);
  });

  it('fails on PodEvictionFailure: lists the error, names the blocking budget, restores cluster-autoscaler', async () => {
    const s = await start(
      cluster({
        workloads: [{ name: 'api', namespace: 'shop', labels: { app: 'api' }, nodegroup: 'general', replicas: 3, unhealthyOnNewImage: true }],
        pdbs: [{ name: 'api', namespace: 'shop', matchLabels: { app: 'api' }, minAvailable: 2 }],
      }),
    );
    const sha = mergeManifestChange(s);
    const run = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push' });
    expect(run.code).toBe(1);
    const r = report(run.outputs);
    expect(r.nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([
      ['general', 'failed'],
      ['batch', 'not-started'],
    ]);
    expect(r.nodegroups[0]!.errors).toEqual([expect.objectContaining({ errorCode: 'PodEvictionFailure', resourceIds: [expect.stringMatching(/^ip-/)] })]);
    expect(r.nodegroups[0]!.blockers).toEqual([expect.stringContaining('PodDisruptionBudget shop/api allows no disruption now (minAvailable 2)')]);
    expect(run.stdout).toContain('::error::');
    expect(run.summary).toContain('`PodEvictionFailure`');
    expect(run.summary).toContain('PodDisruptionBudget shop/api');
    expect(autoscaler(s).spec?.replicas).toBe(2);
    expect(s.world.updates).toHaveLength(1);
  });

  it('blocks before any change when a budget allows no disruption now, unless forced', async () => {
    const blocked = cluster({ pdbs: [{ name: 'api', namespace: 'shop', matchLabels: { app: 'api' }, minAvailable: 3 }] });
    const s = await start(blocked);
    const sha = mergeManifestChange(s);
    const run = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push' });
    expect(run.code).toBe(1);
    expect(report(run.outputs).nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([
      ['general', 'blocked'],
      ['batch', 'not-started'],
    ]);
    expect(run.stdout).toContain('PodDisruptionBudget shop/api allows no disruption now (minAvailable 3)');
    expect(s.world.updates).toHaveLength(0);
    expect(s.world.kubeOf(s.world.fleet.clusters[0]!).writes).toEqual([]);

    const forced = await runAction({ inputs: inputs({ force: 'true', nodegroups: 'batch' }), env: env(s, sha), eventName: 'push' });
    expect(forced.code).toBe(0);
    expect(s.log.find((l) => l.operation === 'UpdateNodegroupVersion')?.params.force).toBe(true);
  });

  it('keeps cluster-autoscaler paused in the post step while the killed job’s update still runs, and a re-run resumes it and restores', async () => {
    const s = await start(cluster(), { clockSpeed: 30 });
    const sha = mergeManifestChange(s);
    const killed = await runAction({
      inputs: inputs({ nodegroups: 'general' }),
      env: env(s, sha),
      eventName: 'push',
      killWhen: /prod\/general: (scale up|upgrade) ·/,
    });
    expect(killed.signal).toBe('SIGTERM');
    expect(autoscaler(s).spec?.replicas).toBe(0);
    expect(killed.state.pauses).toContain('cluster-autoscaler');

    // EKS goes on updating after the job is gone: the post step must not let cluster-autoscaler meet its
    // scale-down phase (EKS user guide, managed node update behavior). It holds the pause, drops the lease.
    const post = await runAction({ inputs: inputs({ nodegroups: 'general' }), env: env(s, sha), eventName: 'push', postOf: killed });
    expect(post.code).toBe(0);
    expect(post.stdout).toContain(
      '::warning::prod: cluster-autoscaler kube-system/cluster-autoscaler: stays paused: EKS is still updating general; ' +
        'command: restore (the docs run it on a schedule) or the next upgrade lifts it once EKS is done',
    );
    expect(autoscaler(s).spec?.replicas).toBe(0);
    expect(autoscaler(s).metadata.annotations?.['eks-ami-drift/paused-replicas']).toBe('2');
    expect(autoscaler(s).metadata.annotations?.['eks-ami-drift/lease-renewed-at']).toBeUndefined();
    // running it twice is harmless
    const again = await runAction({ inputs: inputs({ nodegroups: 'general' }), env: env(s, sha), eventName: 'push', postOf: killed });
    expect(again.stdout).toContain('stays paused: EKS is still updating general');
    expect(autoscaler(s).spec?.replicas).toBe(0);

    const rerun = await runAction({ inputs: inputs({ nodegroups: 'general' }), env: env(s, sha), eventName: 'push' });
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('resuming the wait on update');
    expect(s.log.filter((l) => l.operation === 'UpdateNodegroupVersion')).toHaveLength(1);
    expect(s.world.updates).toHaveLength(1);
    expect(report(rerun.outputs).nodegroups[0]).toMatchObject({ result: 'upgraded', resumed: true });
    expect(s.world.fleet.clusters[0]!.nodegroups[0]!.releaseVersion).toBe(genNew);
    expect(autoscaler(s).spec?.replicas).toBe(2);
  });

  it('keeps cluster-autoscaler at 0 when the wait times out while EKS still updates, and restore lifts it once EKS is done', async () => {
    const s = await start();
    const sha = mergeManifestChange(s);
    // On the simulator's virtual clock: a one-minute wait-timeout ends long before EKS's rolling update.
    const clock = s.world.clock;
    const run = await runAction({
      inputs: inputs({ nodegroups: 'general', 'wait-timeout': '1m', 'poll-interval': '10s' }),
      env: env(s, sha),
      eventName: 'push',
      clock,
    });
    expect(run.code).toBe(1);
    const r = report(run.outputs);
    expect(r.nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([['general', 'timed-out']]);
    expect(r.autoscalers).toEqual([
      expect.objectContaining({
        deployment: 'kube-system/cluster-autoscaler',
        replicas: 2,
        restoredAt: null,
        outcome: 'held',
        note:
          'EKS is still updating general: held at 0 until that update ends, then restored by `command: restore` (or the next upgrade) once EKS is done; ' +
          "the docs' restore workflow runs it on a schedule",
      }),
    ]);
    expect(run.stdout).toContain('::warning::prod: cluster-autoscaler kube-system/cluster-autoscaler stays paused: EKS is still updating general');
    expect(run.summary).toContain('> [!IMPORTANT]');
    // Nothing left for a post step: the Deployment's annotations are the record.
    expect(run.state.pauses).toBe('[]');
    expect(autoscaler(s).spec?.replicas).toBe(0);
    expect(autoscaler(s).metadata.annotations?.['eks-ami-drift/paused-replicas']).toBe('2');
    // No job holds it any more: its lease is dropped, so a restore lifts it as soon as EKS is done.
    expect(autoscaler(s).metadata.annotations?.['eks-ami-drift/lease-renewed-at']).toBeUndefined();
    const u = s.world.updates[0]!;
    expect(u.status).toBe('InProgress');

    // A (scheduled) restore while EKS still updates leaves it paused, and says why in a warning.
    const early = await runAction({ inputs: { command: 'restore', regions: 'us-east-1' }, env: env(s, sha), clock });
    expect(early.code).toBe(0);
    expect(early.stdout).toContain('a node group update is in progress');
    expect(autoscaler(s).spec?.replicas).toBe(0);

    // EKS finishes without cluster-autoscaler upsetting its scale down; then the restore lifts the pause.
    clock.advance(3 * 3600_000);
    const restore = await runAction({ inputs: { command: 'restore', regions: 'us-east-1' }, env: env(s, sha), clock });
    expect(restore.code).toBe(0);
    expect(u.status).toBe('Successful');
    expect(u.autoscalerInterfered).toBe(false);
    expect(u.autoscalerReplicas.every((n) => n === 0)).toBe(true);
    expect(s.world.asgOf(s.world.fleet.clusters[0]!.nodegroups[0]!).desired).toBe(3);
    expect(autoscaler(s).spec?.replicas).toBe(2);
    expect(autoscaler(s).metadata.annotations?.['eks-ami-drift/paused-replicas']).toBeUndefined();
  });

  it('warns before anything changes when credential_process credentials expire before the plan may end, and not when they outlast it', async () => {
    const s = await start();
    const sha = mergeManifestChange(s);
    const { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret, ...rest } = s.env();
    const dir = mkdtempSync(join(tmpdir(), 'process-credentials-'));
    // A credential_process that states its Expiration (AWS CLI/SDK "Sourcing credentials with an external process": Version 1).
    const profile = (minutes: number) => {
      const json = `JSON.stringify({Version:1,AccessKeyId:'${id}',SecretAccessKey:'${secret}',Expiration:new Date(Date.now()+${minutes}*60000).toISOString()})`;
      writeFileSync(join(dir, 'config'), `[profile proc]\ncredential_process = ${process.execPath} -e "console.log(${json})"\n`);
      return {
        ...rest,
        AWS_REGION: 'us-east-1',
        GITHUB_SHA: sha,
        AWS_PROFILE: 'proc',
        AWS_CONFIG_FILE: join(dir, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
      };
    };
    // general: 3 nodes, a 40-minute wait timeout plus the 10-minute health gate; the credentials last 10 minutes.
    const short = await runAction({ inputs: inputs({ nodegroups: 'general', 'dry-run': 'true' }), env: profile(10), eventName: 'push' });
    expect(short.code).toBe(0);
    const warning = short.stdout.split('\n').find((l) => l.startsWith('::warning::The plan may take up to 50m'));
    expect(warning).toContain('but the AWS credentials are the credentials of profile proc, expiring ');
    expect(report(short.outputs).warnings).toEqual([warning!.slice('::warning::'.length)]);
    // The same plan with credentials for three hours: nothing to warn of.
    const long = await runAction({ inputs: inputs({ nodegroups: 'general', 'dry-run': 'true' }), env: profile(180), eventName: 'push' });
    expect(long.code).toBe(0);
    expect(long.stdout).not.toContain('The plan may take up to');
    expect(report(long.outputs).warnings).toEqual([]);
  });

  it('shows the scale-down interference that pausing prevents when cluster-autoscaler is left running', async () => {
    const s = await start();
    const sha = mergeManifestChange(s);
    const run = await runAction({ inputs: inputs({ 'pause-cluster-autoscaler': 'false', nodegroups: 'general' }), env: env(s, sha), eventName: 'push' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('cluster-autoscaler is not paused');
    const u = s.world.updates[0]!;
    expect(u.autoscalerInterfered).toBe(true);
    expect(s.world.asgOf(s.world.fleet.clusters[0]!.nodegroups[0]!).desired).toBeGreaterThan(3);
  });

  it('pauses and restores a cluster-autoscaler the Helm chart installed in default, and names Karpenter without pausing it', async () => {
    // `helm install my-release autoscaler/cluster-autoscaler` (no -n): the chart's name and labels, in default
    const chartLabels = { 'app.kubernetes.io/instance': 'my-release', 'app.kubernetes.io/name': 'aws-cluster-autoscaler' };
    const karpenter = { 'app.kubernetes.io/instance': 'karpenter', 'app.kubernetes.io/name': 'karpenter' };
    const s = await start(
      cluster({
        autoscaler: { namespace: 'default', name: 'my-release-aws-cluster-autoscaler', labels: chartLabels, replicas: 2 },
        controllers: [
          { namespace: 'karpenter', name: 'karpenter', labels: karpenter, replicas: 2, image: 'public.ecr.aws/karpenter/controller:1.6.0', command: [] },
        ],
      }),
    );
    const sha = mergeManifestChange(s);
    const run = await runAction({ inputs: inputs({ nodegroups: 'general' }), env: env(s, sha), eventName: 'push' });
    expect(run.code).toBe(0);
    const [u] = s.world.updates;
    expect(u!.autoscalerReplicas.every((n) => n === 0)).toBe(true);
    expect(u!.autoscalerInterfered).toBe(false);
    const kube = s.world.kubeOf(s.world.fleet.clusters[0]!);
    expect(kube.deployments.get('default/my-release-aws-cluster-autoscaler')?.spec?.replicas).toBe(2);
    expect(kube.deployments.get('karpenter/karpenter')?.spec?.replicas).toBe(2);
    // the only writes: the chart's deployment (pause, lease, restore); Karpenter untouched
    expect([...new Set(kube.writes.map((w) => w.what.split(' ').pop()))]).toEqual(['default/my-release-aws-cluster-autoscaler']);
    expect(report(run.outputs).autoscalers).toEqual([
      expect.objectContaining({ deployment: 'default/my-release-aws-cluster-autoscaler', replicas: 2, outcome: 'restored' }),
    ]);
    expect(run.stdout).toContain('prod: Karpenter runs here (karpenter/karpenter): not paused');
    expect(run.stdout).toContain(
      'prod: found cluster-autoscaler default/my-release-aws-cluster-autoscaler (by label app.kubernetes.io/name=aws-cluster-autoscaler)',
    );
    expect(run.stdout).not.toContain('::warning::');
  });

  it('names Argo CD and the fix before anything changes, notices its self-heal within one poll, pauses again once per node group, and reports it', async () => {
    const ca = { namespace: 'kube-system', name: 'cluster-autoscaler', labels: { app: 'cluster-autoscaler' }, replicas: 2 };
    // Argo CD's self-heal: it sets spec.replicas back 5 s after a change (argo-cd docs/user-guide/auto_sync.md)
    const s = await start(cluster({ autoscaler: { ...ca, gitops: { tool: 'argocd', app: 'platform-ca', revertAfterSeconds: 5 } } }));
    const kube = s.world.kubeOf(s.world.fleet.clusters[0]!);
    const sha = mergeManifestChange(s);
    const finding =
      'prod: cluster-autoscaler kube-system/cluster-autoscaler is kept by Argo CD (Application platform-ca, by annotation argocd.argoproj.io/tracking-id): ' +
      'with automated sync and `selfHeal` it scales it back within seconds, undoing the pause; to prevent it, set `ignoreDifferences` on `/spec/replicas` ' +
      'for this Deployment and the sync option `RespectIgnoreDifferences=true` in the Application';

    // the plan (a dry run) says it, and changes nothing
    const dry = await runAction({ inputs: inputs({ 'dry-run': 'true' }), env: env(s, sha), eventName: 'push' });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`::warning::${finding}`);
    expect(dry.summary).toContain(`> [!WARNING]\n> ${finding}`);
    expect(kube.writes).toEqual([]);

    const run = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push' });
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    // said before anything changed: before the pause
    const said = lines.indexOf(`::warning::${finding}`);
    expect(said).toBeGreaterThanOrEqual(0);
    expect(said).toBeLessThan(lines.findIndex((l) => l.includes('paused cluster-autoscaler kube-system/cluster-autoscaler')));

    const a = report(run.outputs).autoscalers[0]!;
    expect(a.gitops).toBe(finding.slice('prod: '.length));
    // once per node group: paused again, then not fought when Argo CD undid it again
    expect(a.reverts!.map((r) => [r.nodegroup, r.by, r.replicas, r.action])).toEqual([
      ['general', 'argocd-controller (Argo CD)', 2, 're-paused'],
      ['general', 'argocd-controller (Argo CD)', 2, 'left-running'],
      ['batch', 'argocd-controller (Argo CD)', 2, 're-paused'],
      ['batch', 'argocd-controller (Argo CD)', 2, 'left-running'],
    ]);
    const pauses = kube.writes.filter((w) => JSON.stringify(w.body).includes('{"op":"replace","path":"/spec/replicas","value":0}'));
    expect(pauses).toHaveLength(3); // the pause, and one again for each node group
    // noticed within one poll: at most one poll of the update between Argo CD's first revert and the pause again
    const actor = kube.gitops.get('kube-system/cluster-autoscaler')!;
    const revertedAt = actor.reverts[0]!.at;
    const polls = s.log.filter((l) => l.operation === 'DescribeUpdate' && s.world.clock.at(l.at) > revertedAt && s.world.clock.at(l.at) < pauses[1]!.at);
    expect(polls.length).toBeLessThanOrEqual(1);
    expect(run.stdout).toContain(
      '::warning::prod: cluster-autoscaler kube-system/cluster-autoscaler was scaled back to 2 by argocd-controller (Argo CD) during general: ' +
        'pausing it again (once for general)',
    );
    expect(run.stdout).toContain('was scaled back to 2 again by argocd-controller (Argo CD) during general: not fighting a controller');

    // restore leaves it as Argo CD keeps it, and drops the record
    expect(autoscaler(s).spec?.replicas).toBe(2);
    expect(autoscaler(s).metadata.annotations?.['eks-ami-drift/paused-replicas']).toBeUndefined();
    expect(a.outcome).toBe('left-alone');
    expect(a.note).toBe('argocd-controller (Argo CD) keeps it at 2: left as it keeps it (recorded 2)');
    expect(a.runningMs).toBeGreaterThan(0);
    // the summary: one line for the finding, the reverts and how long cluster-autoscaler ran, and who ran it
    expect(run.summary).toContain(`> [!WARNING]\n> ${finding}`);
    const row = run.summary.split('\n').find((l) => l.startsWith('| prod | kube-system/cluster-autoscaler |'))!;
    expect(row).toContain(
      'left-alone: argocd-controller (Argo CD) keeps it at 2: left as it keeps it (recorded 2). ' +
        'undone 4 time(s) by argocd-controller (Argo CD); paused again during general, batch; then left running during general, batch; ' +
        'cluster-autoscaler ran ',
    );
    expect(row).toContain(' in all during the update |');
  });

  it('only logs a Flux-kept cluster-autoscaler whose Deployment says `ssa: IfNotPresent`, and its pause holds', async () => {
    const ca = { namespace: 'kube-system', name: 'cluster-autoscaler', labels: { app: 'cluster-autoscaler' }, replicas: 2 };
    // kustomize-controller does not apply an object annotated IfNotPresent once it exists (fluxcd/kustomize-controller docs/spec/v1/kustomizations.md)
    const gitops = { tool: 'flux-kustomize' as const, app: 'infra', revertAfterSeconds: null, ssa: 'IfNotPresent' };
    const s = await start(cluster({ autoscaler: { ...ca, gitops } }));
    const sha = mergeManifestChange(s);
    const run = await runAction({ inputs: inputs({ nodegroups: 'general' }), env: env(s, sha), eventName: 'push' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'prod: cluster-autoscaler kube-system/cluster-autoscaler is kept by Flux (Kustomization flux-system/infra, by label kustomize.toolkit.fluxcd.io/name); ' +
        'it says `kustomize.toolkit.fluxcd.io/ssa: IfNotPresent`, so Flux should leave the pause alone',
    );
    expect(run.stdout).not.toContain('::warning::');
    const a = report(run.outputs).autoscalers[0]!;
    expect(a).toEqual(expect.objectContaining({ outcome: 'restored', replicas: 2, reverts: [], runningMs: 0 }));
    expect(s.world.updates[0]!.autoscalerReplicas.every((n) => n === 0)).toBe(true);
    expect(autoscaler(s).spec?.replicas).toBe(2);
  });

  it('warns before anything changes when no cluster-autoscaler is found but the Auto Scaling groups are tagged for its discovery', async () => {
    const s = await start(cluster({ autoscaler: null }));
    const sha = mergeManifestChange(s);
    const run = await runAction({ inputs: inputs({ nodegroups: 'general' }), env: env(s, sha), eventName: 'push' });
    expect(run.code).toBe(0);
    const warning =
      '::warning::prod: no cluster-autoscaler found in any namespace, but the Auto Scaling group of general carries k8s.io/cluster-autoscaler/enabled, ' +
      'the tag its auto-discovery looks for: if cluster-autoscaler scales this cluster (under another name, or from outside it), ' +
      'name its deployment with the cluster-autoscaler input (namespace/name) so it is paused; left running, it may scale the node group while EKS updates it';
    expect(run.stdout).toContain(warning);
    expect(run.stdout.indexOf(warning)).toBeLessThan(run.stdout.indexOf('prod/general: update '));
    expect(report(run.outputs).autoscalers).toEqual([
      expect.objectContaining({ deployment: null, outcome: 'not-found', note: 'no cluster-autoscaler found in any namespace: nothing to pause' }),
    ]);
  });

  it('says what to do when EKS refuses the target, in both of EKS’s refusal texts', async () => {
    // 2020: "Requested Nodegroup release version X is invalid. Allowed release version is Y"
    const old = await start(cluster(), { faults: { refusalText: '2020' } });
    const run2020 = await runAction({
      inputs: inputs({ clusters: 'prod', nodegroups: 'general', 'release-version': '1.33.99-20990101' }),
      env: env(old, 'a'.repeat(40)),
      eventName: 'workflow_dispatch',
    });
    expect(run2020.code).toBe(1);
    expect(report(run2020.outputs).nodegroups[0]!.reason).toContain(`the release it allows for this node group is ${genNew}; pin that release`);
    expect(autoscaler(old).spec?.replicas).toBe(2);
    await old.close();
    // current (eksctl #7976): "Requested release version X is not valid for kubernetes version Y."
    const s = await start();
    const run = await runAction({
      inputs: inputs({ clusters: 'prod', nodegroups: 'general', 'release-version': '1.33.99-20990101' }),
      env: env(s, 'a'.repeat(40)),
      eventName: 'workflow_dispatch',
    });
    expect(run.code).toBe(1);
    expect(report(run.outputs).nodegroups[0]!.reason).toContain(
      'EKS refused 1.33.99-20990101: it is not a release of Kubernetes 1.33, the version the update asked for; ' +
        'pin a release of Kubernetes 1.33 that EKS offers for AL2023_x86_64_STANDARD',
    );
    expect(run.summary).toContain('not a release of Kubernetes 1.33');
    expect(autoscaler(s).spec?.replicas).toBe(2);
  });

  it('fails with the file and line of a malformed manifest, before any change', async () => {
    const s = await start();
    s.github.branch('bad');
    const sha = s.github.push('main', { [PATH]: manifest(genNew, batchNew).replace('releaseVersion: ' + batchNew, 'releaseVersoin: ' + batchNew) });
    const run = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`::error::${PATH.replace(/\./g, '\\.')}:\\d+: unknown key "releaseVersoin" in node group batch`));
    expect(s.log.filter((l) => l.operation === 'UpdateNodegroupVersion')).toEqual([]);
    expect(s.world.kubeOf(s.world.fleet.clusters[0]!).writes).toEqual([]);
  });
});

describe('pre-flight: what must stop a cluster before anything changes', () => {
  const untouched = (s: Simulator) => {
    expect(s.log.filter((l) => l.operation === 'UpdateNodegroupVersion')).toEqual([]);
    expect(s.world.kubeOf(s.world.fleet.clusters[0]!).writes).toEqual([]);
    expect(autoscaler(s).spec?.replicas).toBe(2);
  };

  it('blocks the whole cluster when one pin is newer than the control plane, naming the file and line', async () => {
    const s = await start();
    s.github.branch('eks-ami-drift/us-east-1/prod');
    const text = renderManifest({
      cluster: 'prod',
      region: 'us-east-1',
      nodegroups: { general: { kubernetesVersion: '1.34', releaseVersion: '1.34.9-20260714' }, batch: { kubernetesVersion: '1.33', releaseVersion: batchNew } },
    });
    const sha = s.github.push('main', { [PATH]: text });
    const run = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push' });
    expect(run.code).toBe(1);
    const line = text.split('\n').findIndex((l) => l.includes('1.34.9-20260714')) + 1;
    const r = report(run.outputs);
    expect(r.nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([
      ['general', 'blocked'],
      ['batch', 'not-started'],
    ]);
    expect(r.nodegroups[0]!.reason).toBe(
      `${PATH}:${line} asks for Kubernetes 1.34 (1.34.9-20260714), newer than the control plane’s 1.33: ` +
        'upgrade the control plane first, or pin a release of 1.33 or older',
    );
    expect(run.stdout).toContain(`::error::`);
    expect(run.stdout).toContain(`${PATH}:${line}`);
    untouched(s);
  });

  it('blocks when a pod is covered by two PodDisruptionBudgets (the eviction API refuses it), even though both allow disruptions', async () => {
    const s = await start(
      cluster({
        pdbs: [
          { name: 'api', namespace: 'shop', matchLabels: { app: 'api' }, maxUnavailable: 2 },
          { name: 'api-team', namespace: 'shop', matchLabels: { app: 'api' }, maxUnavailable: 2 },
        ],
      }),
    );
    const sha = mergeManifestChange(s);
    const run = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push' });
    expect(run.code).toBe(1);
    const general = report(run.outputs).nodegroups.find((n) => n.nodegroup === 'general')!;
    expect(general.result).toBe('blocked');
    expect(general.blockers).toEqual([expect.stringContaining('are covered by more than one PodDisruptionBudget (shop/api, shop/api-team)')]);
    untouched(s);
  });

  it('keeps the node group’s Kubernetes minor for a Bottlerocket release-version (it names the OS version)', async () => {
    const c = cluster({ nodegroups: [{ name: 'system', amiType: 'BOTTLEROCKET_x86_64', version: '1.33', releaseVersion: '1.26.0-85f0d68c', desiredSize: 2 }] });
    sim = await startSimulator(
      { clusters: [c], parameters: [...amazonLinuxParameters(), bottlerocketParameter('1.33', 'x86_64', '1.34.0-18d04e52', '2026-11-01T00:00:00Z')] },
      { clockSpeed: 300, github: { files: {} } },
    );
    const run = await runAction({
      inputs: inputs({ clusters: 'prod', 'release-version': '1.34.0-18d04e52' }),
      env: env(sim, 'd'.repeat(40)),
      eventName: 'workflow_dispatch',
    });
    expect(run.code).toBe(0);
    expect(report(run.outputs).nodegroups[0]).toMatchObject({ result: 'upgraded', to: { version: '1.33', releaseVersion: '1.34.0-18d04e52' } });
    expect(sim.log.find((l) => l.operation === 'UpdateNodegroupVersion')?.params).toMatchObject({ version: '1.33', releaseVersion: '1.34.0-18d04e52' });
  });

  it('validates and upgrades to a Bottlerocket pin whose commit is all digits (1.4.0-42360701)', async () => {
    const c = cluster({ nodegroups: [{ name: 'system', amiType: 'BOTTLEROCKET_x86_64', version: '1.33', releaseVersion: '1.3.0-0a1b2c3d', desiredSize: 2 }] });
    sim = await startSimulator(
      { clusters: [c], parameters: [...amazonLinuxParameters(), bottlerocketParameter('1.33', 'x86_64', '1.4.0-42360701', '2026-11-01T00:00:00Z')] },
      { clockSpeed: 300, github: { files: {} } },
    );
    const sha = sim.github.push('main', {
      [PATH]: renderManifest({ cluster: 'prod', region: 'us-east-1', nodegroups: { system: { kubernetesVersion: '1.33', releaseVersion: '1.4.0-42360701' } } }),
    });
    const run = await runAction({ inputs: inputs(), env: env(sim, sha), eventName: 'push' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('plan: prod/system: update: 1.3.0-0a1b2c3d → 1.4.0-42360701');
    expect(report(run.outputs).nodegroups[0]).toMatchObject({ result: 'upgraded', to: { version: '1.33', releaseVersion: '1.4.0-42360701' } });
  });

  it('signs the Kubernetes token for its partition’s STS: sts.cn-north-1.amazonaws.com.cn in China', async () => {
    const c = cluster({ region: 'cn-north-1' });
    const path = '.github/eks-ami-drift/cn-north-1/prod.yaml';
    sim = await startSimulator(
      { clusters: [c], parameters: amazonLinuxParameters() },
      {
        clockSpeed: 300,
        github: {
          files: {
            [path]: renderManifest({ cluster: 'prod', region: 'cn-north-1', nodegroups: { general: { kubernetesVersion: '1.33', releaseVersion: genNew } } }),
          },
        },
      },
    );
    const run = await runAction({
      inputs: inputs({ regions: 'cn-north-1' }),
      env: { ...env(sim, sim.github.push('main', {})), AWS_REGION: 'cn-north-1' },
      eventName: 'push',
    });
    expect(run.code).toBe(0);
    expect(report(run.outputs).nodegroups.find((n) => n.nodegroup === 'general')?.result).toBe('upgraded');
    const token = /::add-mask::k8s-aws-v1\.(\S+)/.exec(run.stdout)![1]!;
    expect(new URL(Buffer.from(token, 'base64url').toString()).hostname).toBe('sts.cn-north-1.amazonaws.com.cn');
    expect(sim.kubeLog.filter((k) => k.status === 401)).toEqual([]);
  });
});

describe("the README's IAM policy and RBAC for upgrades", () => {
  const allow = readmePolicyActions('upgrade');
  const kubeAllow = readmeRbacRules();
  /** prod with a third node group made from a launch template that tags its instances (terraform-aws-eks's default). */
  const withTemplate = () => {
    const c = cluster();
    c.nodegroups.push({
      name: 'tagged',
      amiType: 'AL2023_x86_64_STANDARD',
      version: '1.33',
      releaseVersion: genOld,
      desiredSize: 1,
      launchTemplate: { id: 'lt-0sim00000000000001', name: 'tagged', version: '4', tagSpecifications: true },
    });
    // a CUSTOM node group on AWS's image (upgraded through a new template version), and a
    // self-managed group made from a launch configuration, on the latest image already (read, left alone)
    c.nodegroups.push({
      name: 'bespoke',
      amiType: 'CUSTOM',
      version: '1.33',
      releaseVersion: '',
      desiredSize: 1,
      launchTemplate: { id: 'lt-0sim00000000000002', name: 'bespoke', version: '1', image: { aws: awsImageName('AL2023_x86_64_STANDARD', '1.33', genOld) } },
    });
    c.selfManaged = [
      {
        name: 'prod-legacy',
        desiredSize: 1,
        launchConfiguration: { name: 'prod-legacy-v1', image: { aws: awsImageName('AL2023_x86_64_STANDARD', '1.33', genNew) } },
      },
    ];
    return c;
  };
  /** The whole flow: the scheduled check over every cluster, then an upgrade of prod to the latest. */
  async function flow(s: Simulator) {
    const checked = await runAction({ inputs: { regions: 'us-east-1' }, env: env(s, 'b'.repeat(40)) });
    const upgraded = await runAction({ inputs: inputs({ clusters: 'prod' }), env: env(s, 'b'.repeat(40)), eventName: 'workflow_dispatch' });
    return { checked, upgraded };
  }

  it('let the whole flow pass, a launch-template node group included', async () => {
    const s = await start(withTemplate(), { faults: { allow, kubeAllow }, github: { files: {} } });
    const { checked, upgraded } = await flow(s);
    expect([checked.code, upgraded.code]).toEqual([0, 0]);
    expect(report(upgraded.outputs).nodegroups.map((n) => n.result)).toEqual(['upgraded', 'upgraded', 'upgraded', 'upgraded', 'up-to-date']);
    expect(s.world.fleet.clusters[0]!.nodegroups[2]!.releaseVersion).toBe(genNew);
    expect(s.world.fleet.clusters[0]!.nodegroups[3]!.launchTemplate!.version).toBe('2');
    expect(kubeAllow.sort()).toEqual([
      'get deployments',
      'list daemonsets',
      'list deployments',
      'list events',
      'list nodes',
      'list poddisruptionbudgets',
      'list pods',
      'list replicasets',
      'list statefulsets',
      'patch deployments',
    ]);
    // the health gate ran for each node group upgraded, with only these rules
    const gated = report(upgraded.outputs).nodegroups.filter((n) => n.result === 'upgraded');
    expect(gated.map((n) => n.health?.passed)).toEqual([true, true, true, true]);
  });

  // eks:TagResource and ssm:PutParameter are used only when a node group comes back unhealthy, and without
  // ssm:GetParametersByPath the upgrade warns and reads the tags alone: health.test.ts removes each of them.
  // The EC2 actions have a test of their own below, which names the node group each one blocks.
  const recordsOnly = ['eks:TagResource', 'ssm:PutParameter', 'ssm:GetParametersByPath'];
  it.each(allow.filter((a) => !recordsOnly.includes(a) && !a.startsWith('ec2:')))(
    'fail with an access-denied message naming %s when it is removed',
    async (action) => {
      const s = await start(withTemplate(), { faults: { allow: allow.filter((a) => a !== action), kubeAllow }, github: { files: {} } });
      const { checked, upgraded } = await flow(s);
      const failed = [checked, upgraded].filter((r) => r.code !== 0);
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.map((r) => r.stdout).join('\n')).toContain(`not authorized to perform: ${action}`);
      // Without eks:DescribeUpdate the update starts and cannot be followed: it goes on in EKS, so
      // cluster-autoscaler stays at 0 until EKS is done (held). Every other missing action stops the run
      // before an update starts, and cluster-autoscaler is back at its 2 replicas.
      const ran = s.world.updates.some((u) => u.status === 'InProgress');
      expect([action, ran, autoscaler(s).spec?.replicas]).toEqual(action === 'eks:DescribeUpdate' ? [action, true, 0] : [action, false, 2]);
    },
  );

  /**
   * What each EC2 action of the upgrade policy is for, from the README: EKS reads a node group's launch
   * template as the caller of UpdateNodegroupVersion (so both template node groups need
   * DescribeLaunchTemplateVersions), and launches from a template with tag specifications as the caller
   * (RunInstances and CreateTags: `tagged`); a CUSTOM node group's image is read from its template and
   * described (DescribeImages, as is the self-managed `prod-legacy` launch configuration's image) and is
   * upgraded through a new template version (CreateLaunchTemplateVersion: `bespoke`). The check reads the
   * same template and images (the check policy), so it fails too for those two.
   */
  const ec2Needs: [action: string, blocked: string[], checkCode: number][] = [
    ['ec2:DescribeLaunchTemplateVersions', ['tagged', 'bespoke'], 1],
    ['ec2:DescribeImages', ['bespoke', 'prod-legacy'], 1],
    ['ec2:CreateLaunchTemplateVersion', ['bespoke'], 0],
    ['ec2:RunInstances', ['tagged'], 0],
    ['ec2:CreateTags', ['tagged'], 0],
  ];

  it('the upgrade policy grants exactly the EC2 actions the launch-template node groups need', () => {
    expect(allow.filter((a) => a.startsWith('ec2:')).sort()).toEqual(ec2Needs.map(([a]) => a).sort());
  });

  it.each(ec2Needs)('block before any change the node groups that need %s when it is removed, naming it: %j', async (action, blocked, checkCode) => {
    const s = await start(withTemplate(), { faults: { allow: allow.filter((a) => a !== action), kubeAllow }, github: { files: {} } });
    const { checked, upgraded } = await flow(s);
    expect([checked.code, upgraded.code]).toEqual([checkCode, 1]);
    // what a launch-template node group needs is checked before the pause: nothing changed at all
    const r = report(upgraded.outputs);
    expect(r.nodegroups.filter((n) => n.result === 'blocked').map((n) => n.nodegroup)).toEqual(blocked);
    for (const n of r.nodegroups) {
      if (blocked.includes(n.nodegroup)) expect(n.reason).toContain(`not authorized to perform: ${action}`);
      else if (n.nodegroup === 'prod-legacy') expect([n.nodegroup, n.result]).toEqual(['prod-legacy', 'up-to-date']);
      else
        expect([n.nodegroup, n.result, n.reason]).toEqual([
          n.nodegroup,
          'not-started',
          `not started: pre-flight failed for ${blocked.join(', ')}, so nothing was changed in prod`,
        ]);
    }
    expect(r.nodegroups.map((n) => n.nodegroup)).toEqual(['general', 'batch', 'tagged', 'bespoke', 'prod-legacy']);
    for (const name of blocked) expect(upgraded.stdout).toContain(`prod/${name} blocked: `);
    expect(s.log.filter((l) => l.operation === 'UpdateNodegroupVersion')).toEqual([]);
    expect(s.world.fleet.clusters[0]!.nodegroups[3]!.launchTemplate!.version).toBe('1');
    expect(s.world.kubeOf(s.world.fleet.clusters[0]!).writes).toEqual([]);
    expect(autoscaler(s).spec?.replicas).toBe(2);
  });

  it.each(kubeAllow)('fail before any change with a forbidden message when the rule "%s" is removed', async (rule) => {
    const s = await start(cluster(), { faults: { allow, kubeAllow: kubeAllow.filter((r) => r !== rule) }, github: { files: {} } });
    const upgraded = await runAction({ inputs: inputs({ clusters: 'prod' }), env: env(s, 'c'.repeat(40)), eventName: 'workflow_dispatch' });
    expect(upgraded.code).toBe(1);
    const [verb, resource] = rule.split(' ');
    expect(upgraded.stdout).toContain(`cannot ${verb} resource "${resource}"`);
    expect(s.world.updates).toHaveLength(0);
    expect(autoscaler(s).spec?.replicas).toBe(2);
  });
});
