import { afterEach, describe, expect, it } from '@jest/globals';
import type { SimOptions, SimWorkload } from '../sim/fleet.js';
import type { GitHubSpec } from '../sim/github.js';
import { runAction } from '../sim/run-action.js';
import type { Simulator } from '../sim/server.js';
import type { UpgradeReport } from '../../src/model/upgrade-report.js';
import type { CheckReport } from '../../src/model/check-report.js';
import { readmePolicyActions, readmeRbacRules } from './readme.js';
import {
  batchNew,
  batchOld,
  genNew,
  genOld,
  mergeChange,
  mergeManifestChange,
  PROD_MANIFEST,
  prodCluster as cluster,
  prodManifest,
  startProd,
} from './prod-fixture.js';
import { terraformApply } from '../sim/account-parameters.js';

const PARAMETER = '/eks-ami-drift/unhealthy/prod/general';

/**
 * The health gate after each node group's update, end to end through dist/index.js against the
 * simulator: workloads (a Deployment through its ReplicaSet, a StatefulSet, a DaemonSet) whose pods
 * come back healthy, slowly, never, or crash-loop on the new AMI.
 */
const api: SimWorkload = { name: 'api', namespace: 'shop', labels: { app: 'api' }, nodegroup: 'general', replicas: 3 };
const agent: SimWorkload = { name: 'log-agent', namespace: 'kube-system', labels: { app: 'log-agent' }, nodegroup: 'general', replicas: 0, kind: 'DaemonSet' };
const db: SimWorkload = { name: 'db', namespace: 'shop', labels: { app: 'db' }, nodegroup: 'batch', replicas: 2, kind: 'StatefulSet' };

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(workloads: SimWorkload[], options: SimOptions & { github?: GitHubSpec } = {}) {
  sim = await startProd(cluster({ workloads }), options);
  return sim;
}

const merge = (s: Simulator) => mergeManifestChange(s);

// The action runs on the simulator's virtual clock: health-timeout and poll-interval are virtual time.
const inputs = (extra: Record<string, string> = {}) => ({ command: 'upgrade', regions: 'us-east-1', 'poll-interval': '30s', ...extra });
const env = (s: Simulator, sha: string) => ({ ...s.env(), AWS_REGION: 'us-east-1', GITHUB_SHA: sha });
const report = (outputs: Record<string, string>) => JSON.parse(outputs.upgrades ?? '{}') as UpgradeReport;
const autoscalerReplicas = (s: Simulator) => s.world.autoscalerReplicas(s.world.fleet.clusters[0]!);

describe('the health gate after each node group', () => {
  it('passes each node group whose nodes and workloads come back, with progress, and the result is upgraded', async () => {
    const s = await start([api, agent, db]);
    const run = await runAction({ inputs: inputs(), env: env(s, merge(s)), eventName: 'push', clock: s.world.clock });
    expect(run.code).toBe(0);
    const r = report(run.outputs);
    expect(r.nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([
      ['general', 'upgraded'],
      ['batch', 'upgraded'],
    ]);
    // general ran the Deployment and the DaemonSet, batch the StatefulSet
    expect(r.nodegroups.map((n) => [n.health?.passed, n.health?.watched])).toEqual([
      [true, 2],
      [true, 1],
    ]);
    expect(r.nodegroups[0]!.reason).toContain('health gate passed (2 workload(s) back');
    expect(run.stdout).toContain('prod/general: health gate: 2 workload(s) had pods on it; waiting up to 10m');
    expect(run.stdout).toMatch(/prod\/general: health · nodes \d+\/\d+ Ready on the new image · workloads \d\/2 back/);
    expect(run.stdout).toMatch(/prod\/batch: health gate passed in [^:]+: nodes Ready on the new image, 1 workload\(s\) back/);
    expect(run.summary).toContain('✅ Every planned node group update succeeded.');
    expect(autoscalerReplicas(s)).toBe(2);
  });

  it(
    'stops at the first node group whose workload crash-loops: unhealthy, names the workloads and pods, restores cluster-autoscaler, fails, and holds a ' +
      're-run',
    async () => {
      const web: SimWorkload = { name: 'web', namespace: 'shop', labels: { app: 'web' }, nodegroup: 'general', replicas: 2, onNewImage: 'never-ready' };
      const s = await start([{ ...api, onNewImage: 'crash-loop' }, web, db]);
      const sha = merge(s);
      const run = await runAction({ inputs: inputs({ 'health-timeout': '5m' }), env: env(s, sha), eventName: 'push', clock: s.world.clock });
      expect(run.code).toBe(1);
      const r = report(run.outputs);
      expect(r.ok).toBe(false);
      expect(r.nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([
        ['general', 'unhealthy'],
        ['batch', 'not-started'],
      ]);
      const general = r.nodegroups[0]!;
      // EKS's update itself succeeded: the node group is at the target
      expect(s.world.fleet.clusters[0]!.nodegroups.map((n) => n.releaseVersion)).toEqual([genNew, batchOld]);
      expect(s.world.updates).toHaveLength(1);
      expect(general.reason).toContain("EKS's update succeeded");
      expect(general.reason).toContain('within 5m (health-timeout)');
      expect(general.health?.workloads.map((w) => [w.kind, `${w.namespace}/${w.name}`, w.ready, w.desired])).toEqual([
        ['Deployment', 'shop/api', 0, 3],
        ['Deployment', 'shop/web', 0, 2],
      ]);
      const reasons = new Map(general.health!.pods.map((p) => [p.name.split('-')[0], p.reason]));
      expect(reasons.get('api')).toBe('CrashLoopBackOff');
      expect(reasons.get('web')).toBe('not ready');
      const crashing = general.health!.pods.find((p) => p.reason === 'CrashLoopBackOff')!;
      expect(crashing.restartsDuringGate).toBeGreaterThan(0);
      expect(crashing.events.join(' ')).toContain('BackOff: Back-off restarting failed container');
      expect(general.health!.pods.find((p) => p.name.startsWith('web'))!.events.join(' ')).toContain('Readiness probe failed');
      // cluster-autoscaler restored, the failure recorded on the node group
      expect(autoscalerReplicas(s)).toBe(2);
      expect(general.health?.recorded).toMatch(new RegExp(`^eks-ami-drift/unhealthy=${genNew} \\d{4}-\\d\\d-\\d\\dT`));
      expect(s.world.fleet.clusters[0]!.nodegroups[0]!.tags?.['eks-ami-drift/unhealthy']).toMatch(new RegExp(`^${genNew} `));
      // and, durably, in the account's SSM parameter for the node group
      expect(general.health?.parameter).toBe(PARAMETER);
      expect(JSON.parse(s.world.parameters.get('us-east-1', PARAMETER)!.value)).toMatchObject({ target: genNew, cluster: 'prod', nodegroup: 'general' });

      // the summary (and the pull request comment) lead with it, and say what to do
      const [headline] = run.summary.split('\n').filter((l) => l && !l.startsWith('#'));
      expect(headline).toContain(
        "🩺 EKS's update of prod/general succeeded, but the workloads on it did not come back healthy: no further node group of prod was started.",
      );
      expect(run.summary).toContain('| Deployment shop/api | 0 | 3 | 3/3 |');
      expect(run.summary).toContain('CrashLoopBackOff');
      expect(run.summary).toContain(`pin \`${genOld}\` back for the node groups not yet upgraded in \`.github/eks-ami-drift/us-east-1/prod.yaml\``);
      expect(run.summary).toContain('You cannot roll back a node group to an earlier Kubernetes version or AMI version');
      expect(run.summary).toContain(`--release-version ${genOld}`);
      expect(run.summary).toContain('aws eks untag-resource --resource-arn arn:aws:eks:us-east-1:');
      expect(run.summary).toContain(`aws ssm delete-parameter --region us-east-1 --name ${PARAMETER}`);
      expect(s.github.pulls()[0]!.comments[0]!.body).toContain(headline);
      expect(run.stdout).toMatch(/::warning::prod\/general: unhealthy after the update: Deployment shop\/api 0\/3 ready/);

      // a re-run does not spread the release to batch: held before anything changes, unless forced
      const rerun = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push', clock: s.world.clock });
      expect(rerun.code).toBe(1);
      expect(report(rerun.outputs).nodegroups.find((n) => n.nodegroup === 'batch')).toMatchObject({
        result: 'blocked',
        reason: expect.stringContaining(`held: general was found unhealthy on ${genNew}`),
      });
      expect(s.world.updates).toHaveLength(1);
      expect(autoscalerReplicas(s)).toBe(2);

      // the scheduled check says so too
      const check = await runAction({ inputs: { regions: 'us-east-1' }, env: env(s, sha), clock: s.world.clock });
      const checked = JSON.parse(check.outputs.report ?? '{}') as CheckReport;
      const row = checked.nodegroups.find((n) => n.nodegroup === 'general')!;
      expect(row.unhealthy).toEqual({ target: genNew, at: expect.stringMatching(/^\d{4}-/), sources: ['parameter', 'tag'] });
      expect(row.reason).toContain(`its workloads did not come back healthy on ${genNew}`);
    },
  );

  it('passes a workload already degraded before the update once it is back where it was, and a slow one within health-timeout', async () => {
    const s = await start([
      { ...api, notReady: 1 },
      { name: 'search', namespace: 'shop', labels: { app: 'search' }, nodegroup: 'general', replicas: 2, onNewImage: 'slow', readyAfterMinutes: 8 },
    ]);
    const run = await runAction({ inputs: inputs({ nodegroups: 'general' }), env: env(s, merge(s)), eventName: 'push', clock: s.world.clock });
    expect(run.code).toBe(0);
    const [general] = report(run.outputs).nodegroups;
    expect(general).toMatchObject({ result: 'upgraded', health: expect.objectContaining({ passed: true, watched: 2 }) });
    // the slow workload held the gate for minutes, and the log showed what it waited for
    expect(general!.health!.durationMs).toBeGreaterThanOrEqual(2 * 60_000);
    expect(run.stdout).toMatch(/waiting for Deployment shop\/search \(\d\/2 ready\)/);
  });

  it('fails the gate for a slow workload that needs longer than health-timeout', async () => {
    const s = await start([
      { name: 'search', namespace: 'shop', labels: { app: 'search' }, nodegroup: 'general', replicas: 2, onNewImage: 'slow', readyAfterMinutes: 20 },
    ]);
    const run = await runAction({
      inputs: inputs({ nodegroups: 'general', 'health-timeout': '2m' }),
      env: env(s, merge(s)),
      eventName: 'push',
      clock: s.world.clock,
    });
    expect(run.code).toBe(1);
    expect(report(run.outputs).nodegroups[0]).toMatchObject({ result: 'unhealthy', reason: expect.stringContaining('Deployment shop/search 0/2 ready') });
  });

  it('skips the gate with health-timeout 0', async () => {
    const s = await start([{ ...api, onNewImage: 'crash-loop' }]);
    const run = await runAction({
      inputs: inputs({ nodegroups: 'general', 'health-timeout': '0' }),
      env: env(s, merge(s)),
      eventName: 'push',
      clock: s.world.clock,
    });
    expect(run.code).toBe(0);
    const [general] = report(run.outputs).nodegroups;
    expect(general).toMatchObject({ result: 'upgraded', health: null, reason: expect.stringContaining('health gate off: health-timeout 0') });
    expect(run.stdout).not.toContain('health ·');
    // the crash loop went unnoticed, as asked: nothing is marked
    expect(s.world.fleet.clusters[0]!.nodegroups[0]!.tags?.['eks-ami-drift/unhealthy']).toBeUndefined();
  });

  it(
    "needs the README's eks:TagResource only to mirror the mark on the node group: without it the step still fails, says the tag could not be " +
      'written, and the parameter holds',
    async () => {
      const allow = readmePolicyActions('upgrade');
      expect(allow).toContain('eks:TagResource');
      const s = await start([{ ...api, onNewImage: 'crash-loop' }], {
        faults: { allow: allow.filter((a) => a !== 'eks:TagResource'), kubeAllow: readmeRbacRules() },
      });
      const run = await runAction({
        inputs: inputs({ nodegroups: 'general', 'health-timeout': '3m' }),
        env: env(s, merge(s)),
        eventName: 'push',
        clock: s.world.clock,
      });
      expect(run.code).toBe(1);
      const [general] = report(run.outputs).nodegroups;
      expect(general).toMatchObject({
        result: 'unhealthy',
        health: expect.objectContaining({ recorded: null, recordError: expect.stringContaining('not authorized to perform: eks:TagResource') }),
      });
      expect(run.stdout).toContain('could not tag the node group eks-ami-drift/unhealthy');
      expect(run.summary).toContain('Not all of the mark could be written: tag eks-ami-drift/unhealthy:');
      expect(s.world.fleet.clusters[0]!.nodegroups[0]!.tags?.['eks-ami-drift/unhealthy']).toBeUndefined();
      expect(general!.health?.parameter).toBe(PARAMETER);
      expect(autoscalerReplicas(s)).toBe(2);
    },
  );

  it(
    "keeps the hold when an infrastructure-as-code apply removes the node group's tags: the check still shows it, a re-run is still held, " +
      'and deleting the parameter lifts it',
    async () => {
      const s = await start([{ ...api, onNewImage: 'crash-loop' }], { faults: { kubeAllow: readmeRbacRules(), allow: readmePolicyActions('upgrade') } });
      const sha = merge(s);
      const run = await runAction({ inputs: inputs({ 'health-timeout': '3m' }), env: env(s, sha), eventName: 'push', clock: s.world.clock });
      expect(run.code).toBe(1);
      expect(report(run.outputs).nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([
        ['general', 'unhealthy'],
        ['batch', 'not-started'],
      ]);

      // terraform apply: the node group's tags are the configuration's (none), so the mark's tag goes; the parameter is not Terraform's
      expect(terraformApply(s.world.fleet).removed).toEqual(['prod/general: eks-ami-drift/unhealthy']);
      expect(s.world.fleet.clusters[0]!.nodegroups[0]!.tags).toEqual({});
      expect(s.world.parameters.get('us-east-1', PARAMETER)).toBeDefined();

      // the scheduled check (with the README's check policy) still shows it, read from the parameter, and says how to lift it
      const check = await runAction({ inputs: { regions: 'us-east-1' }, env: env(s, sha), clock: s.world.clock });
      expect(check.code).toBe(0);
      const row = (JSON.parse(check.outputs.report ?? '{}') as CheckReport).nodegroups.find((n) => n.nodegroup === 'general')!;
      expect(row.unhealthy).toEqual({ target: genNew, at: expect.stringMatching(/^\d{4}-/), sources: ['parameter'] });
      expect(row.reason).toContain(`its workloads did not come back healthy on ${genNew} (health gate, `);
      expect(row.reason).toContain(`SSM parameter ${PARAMETER}): upgrades of prod are held until the mark is removed (aws ssm delete-parameter`);
      expect(row.reason).not.toContain('untag-resource');
      expect(s.log.filter((l) => l.operation === 'GetParametersByPath').map((l) => l.params.Path)).toContain('/eks-ami-drift/unhealthy');

      // a re-run is held before anything changes
      const rerun = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push', clock: s.world.clock });
      expect(rerun.code).toBe(1);
      expect(report(rerun.outputs).nodegroups.find((n) => n.nodegroup === 'batch')).toMatchObject({
        result: 'blocked',
        reason: expect.stringContaining(`held: general was found unhealthy on ${genNew} at `),
      });
      expect(s.world.updates).toHaveLength(1);

      // as the summary says, someone pins batch back; the check does not propose the release again while the hold lasts
      mergeChange(s, 'pin-back', { [PROD_MANIFEST]: prodManifest(genNew, batchOld) }, 'Pin batch back');
      const open = () => s.github.pulls().filter((p) => p.state === 'open');
      const propose = { regions: 'us-east-1', 'on-drift': 'pull-request' };
      const held = await runAction({ inputs: propose, env: env(s, sha), clock: s.world.clock });
      const heldReport = JSON.parse(held.outputs.report ?? '{}') as CheckReport;
      expect(heldReport.nodegroups.find((n) => n.nodegroup === 'batch')).toMatchObject({ status: 'drift', latestReleaseVersion: batchNew });
      expect(heldReport.proposals).toEqual([
        expect.objectContaining({ cluster: 'prod', result: 'none', reason: expect.stringContaining(`held: general was found unhealthy on ${genNew}`) }),
      ]);
      expect(open()).toEqual([]);

      // deleting the parameter lifts it (the tag is gone already): the release is proposed again
      s.world.parameters.delete('us-east-1', PARAMETER);
      const lifted = await runAction({ inputs: propose, env: env(s, sha), clock: s.world.clock });
      expect((JSON.parse(lifted.outputs.report ?? '{}') as CheckReport).proposals).toEqual([expect.objectContaining({ cluster: 'prod', result: 'created' })]);
      expect(open().map((p) => p.pull!.head)).toEqual(['eks-ami-drift/us-east-1/prod']);
    },
  );

  it("without the README's ssm:PutParameter the tag still holds, and the step says the hold lives only in the tag", async () => {
    const allow = readmePolicyActions('upgrade');
    expect(allow).toContain('ssm:PutParameter');
    const s = await start([{ ...api, onNewImage: 'crash-loop' }], {
      faults: { allow: allow.filter((a) => a !== 'ssm:PutParameter'), kubeAllow: readmeRbacRules() },
    });
    const run = await runAction({
      inputs: inputs({ nodegroups: 'general', 'health-timeout': '3m' }),
      env: env(s, merge(s)),
      eventName: 'push',
      clock: s.world.clock,
    });
    expect(run.code).toBe(1);
    const [general] = report(run.outputs).nodegroups;
    expect(general!.health).toMatchObject({ parameter: null, recorded: expect.stringMatching(/^eks-ami-drift\/unhealthy=/) });
    expect(general!.health?.recordError).toContain(`SSM parameter ${PARAMETER}: AccessDeniedException`);
    expect(run.stdout).toContain(`could not write the SSM parameter ${PARAMETER}`);
    expect(run.stdout).toContain('the hold lives only in the tag, which infrastructure as code may remove');
    expect(s.world.parameters.all()).toEqual([]);
  });

  it("without the README's ssm:GetParametersByPath the check passes, warns, and reads the tags alone; the upgrade changes nothing in that region", async () => {
    const s = await start([{ ...api, onNewImage: 'crash-loop' }], { faults: { kubeAllow: readmeRbacRules() } });
    const sha = merge(s);
    await runAction({ inputs: inputs({ nodegroups: 'general', 'health-timeout': '3m' }), env: env(s, sha), eventName: 'push', clock: s.world.clock });
    const allow = readmePolicyActions('check');
    expect(allow).toContain('ssm:GetParametersByPath');
    s.setFaults({ allow: allow.filter((a) => a !== 'ssm:GetParametersByPath') });
    const check = await runAction({ inputs: { regions: 'us-east-1' }, env: env(s, sha), clock: s.world.clock });
    expect(check.code).toBe(0);
    const checked = JSON.parse(check.outputs.report ?? '{}') as CheckReport;
    expect(checked.warnings).toEqual([
      expect.stringContaining("us-east-1: the health gate's marks could not be read (/eks-ami-drift/unhealthy: AccessDeniedException"),
    ]);
    expect(checked.nodegroups.find((n) => n.nodegroup === 'general')!.unhealthy).toEqual({ target: genNew, at: expect.any(String), sources: ['tag'] });
    expect(check.stdout).toContain('::warning::us-east-1: the health gate');
    expect(check.summary).toContain('> [!WARNING]');
    expect(check.summary).toContain('Allow ssm:GetParametersByPath on the /eks-ami-drift/ parameters');

    s.setFaults({ allow: readmePolicyActions('upgrade').filter((a) => a !== 'ssm:GetParametersByPath'), kubeAllow: readmeRbacRules() });
    const callsBefore = s.log.length;
    const rerun = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push', clock: s.world.clock });
    const r = report(rerun.outputs);
    expect(r.warnings).toContainEqual(expect.stringContaining("the health gate's marks could not be read"));
    // A hold whose tag an apply removed could not be ruled out: nothing is updated in us-east-1 (unless force).
    expect(r.nodegroups.find((n) => n.nodegroup === 'general')).toMatchObject({ result: 'up-to-date' });
    // While the tag is there, it holds the cluster.
    expect(r.nodegroups.find((n) => n.nodegroup === 'batch')).toMatchObject({
      result: 'blocked',
      reason: expect.stringContaining('tag eks-ami-drift/unhealthy'),
    });
    // Once an apply removed it, the hold cannot be ruled out without the parameters: nothing is updated in us-east-1 (unless force).
    expect(terraformApply(s.world.fleet).removed).toEqual(['prod/general: eks-ami-drift/unhealthy']);
    const blind = await runAction({ inputs: inputs(), env: env(s, sha), eventName: 'push', clock: s.world.clock });
    expect(report(blind.outputs).nodegroups.find((n) => n.nodegroup === 'batch')).toMatchObject({
      result: 'blocked',
      reason: expect.stringContaining("held: the health gate's marks in us-east-1 could not be read (/eks-ami-drift/unhealthy: AccessDeniedException"),
    });
    expect(report(blind.outputs).nodegroups.find((n) => n.nodegroup === 'batch')!.reason).toContain('or force: true');
    expect(r.nodegroups.find((n) => n.nodegroup === 'batch')!.reason).toContain('or force: true');
    expect(s.log.slice(callsBefore).filter((l) => l.operation === 'UpdateNodegroupVersion')).toEqual([]);
  });

  it('refuses a malformed health-timeout before any AWS call, naming the input and the form', async () => {
    const s = await start([api]);
    const run = await runAction({ inputs: inputs({ 'health-timeout': 'ten minutes' }), env: env(s, merge(s)), eventName: 'push', clock: s.world.clock });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`Input 'health-timeout': "ten minutes" is not a duration: expected 0, or a number with a unit`);
    expect(s.log).toEqual([]);
  });
});
