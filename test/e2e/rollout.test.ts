import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderManifest } from '../../src/repo/manifest.js';
import type { FleetSpec, SimCluster, SimNodegroup, SimOptions } from '../sim/fleet.js';
import type { GitHubSpec } from '../sim/github.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { awsImageName } from '../sim/images.js';
import { runAction } from '../sim/run-action.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import type { CheckReport, NodegroupReport } from '../../src/model/check-report.js';
import type { UpgradeReport } from '../../src/model/upgrade-report.js';
import { readmePolicyActions } from './readme.js';
import { mergeChange } from './prod-fixture.js';
import { terraformApply } from '../sim/account-parameters.js';

/**
 * Staged rollouts end to end through dist/index.js against the simulator, on its virtual clock (the
 * soak passes by jumping it): canary → staging → production, told apart by the cluster tag
 * eks-ami-drift/stage. Three release trains of AWS's changelog (test/fixtures): T0 runs everywhere,
 * T1 is published first, T2 mid-rollout. The canary runs Kubernetes 1.33, staging and production 1.32,
 * so "the same release" at another minor is a release of the same train.
 */
const AL = 'AL2023_x86_64_STANDARD';
const on = (minor: string, tag: string) => releasesOf(AL, minor).find((r) => r.tag === tag)!.releaseVersion;
const T0 = 'v20260610';
const T1 = 'v20260618';
const T2 = 'v20260625';
const DAY = 86_400_000;
const SSM_AT_T1 = '2026-06-20';
const SSM_AT_T2 = '2026-06-30';

const ng = (name: string, minor: string, tag: string, extra: Partial<SimNodegroup> = {}): SimNodegroup => ({
  name,
  amiType: AL,
  version: minor,
  releaseVersion: on(minor, tag),
  desiredSize: 2,
  createdMinutesAgo: 90 * 24 * 60,
  ...extra,
});
const cluster = (name: string, minor: string, stage: string | null, nodegroups: SimNodegroup[]): SimCluster => ({
  name,
  region: 'us-east-1',
  version: minor,
  nodegroups,
  autoscaler: { namespace: 'kube-system', name: 'cluster-autoscaler', labels: { app: 'cluster-autoscaler' }, replicas: 2 },
  ...(stage ? { tags: { 'eks-ami-drift/stage': stage, team: 'platform' } } : { tags: { team: 'platform' } }),
});

/** canary (1.33), staging (1.32), production (1.32, untagged: the last stage) and an ARM node group no earlier stage has. */
function fleet(canary: SimNodegroup[] = [ng('general', '1.33', T0)], staging: SimNodegroup[] = [ng('general', '1.32', T0)], asOf = SSM_AT_T1): FleetSpec {
  return {
    clusters: [
      cluster('canary', '1.33', 'canary', canary),
      cluster('staging', '1.32', 'staging', staging),
      cluster('production', '1.32', null, [
        ng('general', '1.32', T0),
        {
          name: 'arm',
          amiType: 'AL2023_ARM_64_STANDARD',
          version: '1.32',
          releaseVersion: releasesOf('AL2023_ARM_64_STANDARD', '1.32').find((r) => r.tag === T0)!.releaseVersion,
          desiredSize: 2,
        },
      ]),
    ],
    parameters: amazonLinuxParameters(asOf),
  };
}

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(spec: FleetSpec, options: SimOptions & { github?: GitHubSpec } = {}) {
  sim = await startSimulator(spec, { clockSpeed: 60, ...options });
  return sim;
}

const STAGES = { stages: 'canary, staging, production', 'stage-soak': '3d' };
const env = (s: Simulator, extra: Record<string, string> = {}) => ({ ...s.env(), AWS_REGION: 'us-east-1', ...extra });
async function check(s: Simulator, inputs: Record<string, string> = STAGES) {
  const run = await runAction({ inputs: { regions: 'us-east-1', ...inputs }, env: env(s), clock: s.world.clock });
  const report = JSON.parse(run.outputs.report ?? '{}') as CheckReport;
  const entry = (c: string, n = 'general') => report.nodegroups.find((e) => e.cluster === c && e.nodegroup === n) as NodegroupReport;
  return { run, report, entry };
}

/** Staging's pull request pinning `release` for its node group, merged. */
const mergeStagingPin = (s: Simulator, release: string) =>
  mergeChange(
    s,
    'rollout',
    {
      '.github/eks-ami-drift/us-east-1/staging.yaml': renderManifest({
        cluster: 'staging',
        region: 'us-east-1',
        nodegroups: { general: { kubernetesVersion: '1.32', releaseVersion: release } },
      }),
    },
    'Upgrade staging',
  );

/** An operator's own `aws eks update-nodegroup-version` in the simulator (not the action). */
function upgradeByHand(s: Simulator, clusterName: string, nodegroup: string, release: string) {
  const c = s.world.fleet.clusters.find((x) => x.name === clusterName)!;
  const n = c.nodegroups.find((x) => x.name === nodegroup)!;
  return s.world.startUpdate(c, n, { releaseVersion: release, version: n.version }, (_status, code, message) => {
    throw new Error(`${code}: ${message}`);
  });
}
/** Lets running updates finish: an hour of virtual time, then a request brings them up to date. */
const jump = (s: Simulator, ms: number) => {
  s.world.clock.advance(ms);
  s.world.advance();
};
const publish = (s: Simulator, asOf: string) => s.world.fleet.parameters.splice(0, Infinity, ...amazonLinuxParameters(asOf));

describe('a staged rollout: canary, then staging, then production', () => {
  it('moves a release stage by stage as each earlier stage proves it, and a newer train does not jump the queue', async () => {
    const s = await start(fleet());

    // 1. T1 is published: the canary drifts; staging and production wait, and say for whom.
    let r = await check(s);
    expect(r.run.code).toBe(0);
    expect(r.entry('canary')).toMatchObject({ stage: 'canary', status: 'drift', latestReleaseVersion: on('1.33', T1) });
    expect(r.entry('staging')).toMatchObject({ stage: 'staging', status: 'waiting', proof: { train: T1, applies: true, proven: false, provenAt: null } });
    expect(r.entry('staging').reason).toContain(`canary/general: runs ${T0}, not ${T1} yet`);
    expect(r.entry('production')).toMatchObject({ stage: 'production', status: 'waiting' });
    expect(r.entry('production').reason).toContain(`staging/general: runs ${T0}, not ${T1} yet`);
    // No ARM node group in an earlier stage: the gate cannot apply, and the reason says so.
    expect(r.entry('production', 'arm')).toMatchObject({ status: 'drift', proof: { applies: false } });
    expect(r.entry('production', 'arm').reason).toContain('the stage gate could not apply: min-release-age alone decides');
    expect(r.report.clusters.map((c) => [c.cluster, c.stage, c.stageNote])).toEqual([
      ['canary', 'canary', null],
      ['production', 'production', 'no eks-ami-drift/stage tag: in the last stage'],
      ['staging', 'staging', null],
    ]);
    expect(r.report.counts).toMatchObject({ drift: 2, waiting: 2 });
    expect(r.run.summary).toContain('### Rollout: canary → staging → production');
    expect(r.run.summary).toMatch(new RegExp(`\\| \\*\\*staging\\*\\* \\| — \\| ${T0} ×1 since [\\d-]+<br>🚦 1 waiting for ${T1} \\|`));
    expect(r.run.summary).toContain('stage production (no eks-ami-drift/stage tag: in the last stage)');

    // 2. The canary is upgraded by hand: its soak starts at its update, so staging waits 3 days more.
    const update = upgradeByHand(s, 'canary', 'general', on('1.33', T1));
    jump(s, 2 * 3600_000);
    r = await check(s);
    expect(r.entry('canary').status).toBe('up-to-date');
    expect(r.entry('staging')).toMatchObject({ status: 'waiting', proof: { proven: false } });
    expect(Math.abs(Date.parse(r.entry('staging').proof!.provenAt!) - (update.createdAt + 3 * DAY))).toBeLessThan(1000);
    expect(r.entry('staging').reason).toMatch(new RegExp(`canary/general: runs ${T1} since .*, proves it in 2d 2[12]h`));

    // 3. Three days on: staging drifts to T1 at its own minor; production still waits for staging.
    jump(s, 3 * DAY);
    r = await check(s);
    expect(r.entry('staging')).toMatchObject({ status: 'drift', latestReleaseVersion: on('1.32', T1), proof: { train: T1, proven: true } });
    expect(r.entry('staging').proof!.evidence).toEqual([
      { cluster: 'canary', nodegroup: 'general', stage: 'canary', release: on('1.33', T1), since: expect.any(String), updateId: update.id },
    ]);
    expect(Math.abs(Date.parse(r.entry('staging').proof!.evidence[0]!.since!) - update.createdAt)).toBeLessThan(1000);
    expect(r.entry('production')).toMatchObject({ status: 'waiting' });

    // 4. T2 is published mid-rollout: the canary drifts to it, but staging keeps moving to the proven
    // T1 (its 1.32 release read from the parameter's history, since SSM now recommends T2's).
    publish(s, SSM_AT_T2);
    r = await check(s);
    expect(r.entry('canary')).toMatchObject({ status: 'drift', latestReleaseVersion: on('1.33', T2) });
    expect(r.entry('staging')).toMatchObject({
      status: 'drift',
      latestReleaseVersion: on('1.32', T2),
      targetReleaseVersion: on('1.32', T1),
      proof: { train: T1, proven: true },
    });
    expect(r.entry('staging').reason).toContain(`${on('1.32', T0)} → ${on('1.32', T1)}: ${T1} proven for stage staging`);
    expect(r.entry('staging').reason).toContain(`the newest, ${on('1.32', T2)}, is not: ${T2} waits for the earlier stages`);
    expect(r.entry('production')).toMatchObject({ status: 'waiting', proof: { train: T2 } });
    expect(s.log.filter((q) => q.operation === 'GetParameterHistory').map((q) => q.params.Name)).toContain(
      '/aws/service/eks/optimized-ami/1.32/amazon-linux-2023/x86_64/standard/recommended/release_version',
    );

    // 5. Staging's pull request is merged (pinning T1): the upgrade checks the proof again, then upgrades.
    const sha = mergeStagingPin(s, on('1.32', T1));
    const up = await runAction({
      inputs: { command: 'upgrade', regions: 'us-east-1', 'poll-interval': '30s', 'health-timeout': '0', ...STAGES },
      env: env(s, { GITHUB_SHA: sha }),
      eventName: 'push',
      clock: s.world.clock,
    });
    const upgrade = JSON.parse(up.outputs.upgrades ?? '{}') as UpgradeReport;
    expect(up.stdout).toContain(`staging/general: stage staging: ${T1} is still proven by the earlier stages`);
    expect(upgrade.nodegroups.filter((n) => n.cluster === 'staging').map((n) => [n.nodegroup, n.result])).toEqual([['general', 'upgraded']]);

    // 6. Three days after staging's update, production drifts to T1, not to T2 the canary has not proven.
    jump(s, 3 * DAY + 3600_000);
    r = await check(s);
    expect(r.entry('staging').status).toBe('waiting');
    expect(r.entry('production')).toMatchObject({ status: 'drift', targetReleaseVersion: on('1.32', T1), proof: { train: T1, proven: true } });
    expect(r.entry('production').proof!.evidence.map((e) => `${e.stage}:${e.cluster}`)).toEqual(['canary:canary', 'staging:staging']);
  });

  it('stops a train that failed on a canary: later stages wait naming the update, and a merged staging pin is blocked unless forced', async () => {
    const s = await start(fleet([ng('general', '1.33', T0), ng('spare', '1.33', T0)]), {
      faults: { updateFailures: { 'canary/spare': { errorCode: 'NodeCreationFailure', errorMessage: 'Instances failed to join the kubernetes cluster' } } },
    });
    upgradeByHand(s, 'canary', 'general', on('1.33', T1));
    const failed = upgradeByHand(s, 'canary', 'spare', on('1.33', T1));
    jump(s, 4 * DAY);
    expect(failed.status).toBe('Failed');

    const r = await check(s);
    expect(r.entry('staging')).toMatchObject({ status: 'waiting', proof: { train: T1, proven: false, provenAt: null } });
    expect(r.entry('staging').proof!.failures).toEqual([expect.objectContaining({ cluster: 'canary', nodegroup: 'spare', updateId: failed.id })]);
    expect(r.entry('staging').reason).toContain(
      `${T1} failed in an earlier stage: canary/spare: update ${failed.id} to ${on('1.33', T1)} failed: NodeCreationFailure: Instances failed to join the ` +
        `kubernetes cluster`,
    );
    expect(r.entry('production').status).toBe('waiting');
    expect(r.run.summary).toContain(`🚦 1 waiting: ${T1} failed earlier`);

    // Someone merges a pin of T1 for staging anyway: pre-flight blocks it, nothing changes.
    const sha = mergeStagingPin(s, on('1.32', T1));
    const upgrade = (extra: Record<string, string>) =>
      runAction({
        inputs: { command: 'upgrade', regions: 'us-east-1', 'poll-interval': '30s', 'health-timeout': '0', ...STAGES, ...extra },
        env: env(s, { GITHUB_SHA: sha }),
        eventName: 'push',
        clock: s.world.clock,
      });
    const before = s.world.updates.length;
    const blocked = await upgrade({});
    expect(blocked.code).toBe(1);
    const blockedReport = JSON.parse(blocked.outputs.upgrades ?? '{}') as UpgradeReport;
    expect(blockedReport.nodegroups.find((n) => n.cluster === 'staging')).toMatchObject({ result: 'blocked' });
    expect(blocked.summary).toContain(
      `stage gate: general → ${on('1.32', T1)}: ${T1} is not proven for stage staging, it failed in an earlier stage: canary/spare: update ${failed.id}`,
    );
    expect(s.world.updates.length).toBe(before);

    const forced = await upgrade({ force: 'true' });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('force: true: going ahead although general');
    expect((JSON.parse(forced.outputs.upgrades ?? '{}') as UpgradeReport).nodegroups.find((n) => n.cluster === 'staging')).toMatchObject({
      result: 'upgraded',
    });
  });

  it(
    "keeps a canary's health-gate failure when an apply removes its tags: staging still waits, no pull request proposes the train, " +
      'until someone deletes the parameter',
    async () => {
      const spec = fleet();
      spec.clusters[0]!.workloads = [{ name: 'api', namespace: 'shop', labels: { app: 'api' }, nodegroup: 'general', replicas: 2, onNewImage: 'crash-loop' }];
      // production without its ARM node group, which no earlier stage gates: any pull request would be the train's
      spec.clusters[2]!.nodegroups = spec.clusters[2]!.nodegroups.filter((n) => n.name !== 'arm');
      const s = await start(spec, { github: { files: {} } });

      // The canary is upgraded by the action (named, without a manifest: to the latest, T1); its workload crash-loops there.
      const up = await runAction({
        inputs: { command: 'upgrade', regions: 'us-east-1', clusters: 'canary', 'poll-interval': '30s', 'health-timeout': '3m', ...STAGES },
        env: env(s, { GITHUB_SHA: 'c'.repeat(40) }),
        eventName: 'workflow_dispatch',
        clock: s.world.clock,
      });
      expect(up.code).toBe(1);
      expect((JSON.parse(up.outputs.upgrades ?? '{}') as UpgradeReport).nodegroups.map((n) => [n.cluster, n.nodegroup, n.result])).toEqual([
        ['canary', 'general', 'unhealthy'],
      ]);
      expect(s.world.parameters.get('us-east-1', '/eks-ami-drift/unhealthy/canary/general')).toBeDefined();

      // Days pass (the canary's update is past stage-soak), and terraform apply puts back the node group's tags as configured.
      jump(s, 4 * DAY);
      expect(terraformApply(s.world.fleet, { known: { team: 'platform' } }).removed).toEqual(['canary/general: eks-ami-drift/unhealthy']);

      let r = await check(s, { ...STAGES, 'on-drift': 'pull-request' });
      expect(r.run.code).toBe(0);
      expect(r.entry('canary')).toMatchObject({ status: 'up-to-date', unhealthy: { target: on('1.33', T1), sources: ['parameter'] } });
      expect(r.entry('staging')).toMatchObject({ status: 'waiting', proof: { train: T1, proven: false, provenAt: null } });
      expect(r.entry('staging').reason).toContain(
        `${T1} failed in an earlier stage: canary/general: its workloads did not come back healthy on ${on('1.33', T1)} (health gate)`,
      );
      expect(r.entry('production').status).toBe('waiting');
      expect(s.github.pulls()).toEqual([]);

      // Lifting the hold is deleting the parameter (the tag is gone already): then the train is proven and proposed.
      s.world.parameters.delete('us-east-1', '/eks-ami-drift/unhealthy/canary/general');
      r = await check(s, { ...STAGES, 'on-drift': 'pull-request' });
      expect(r.entry('canary').unhealthy).toBeNull();
      expect(r.entry('staging')).toMatchObject({ status: 'drift', latestReleaseVersion: on('1.32', T1), proof: { train: T1, proven: true } });
      expect(s.github.pulls().map((p) => p.pull!.head)).toEqual(['eks-ami-drift/us-east-1/staging']);
    },
  );

  it("proposes the proven train with its evidence, and without the parameter's history says what it could not find", async () => {
    // The state of step 4 above, from EKS's history alone: the canary ran T1 for 5 days (updated by
    // whoever), T2 is published. Staging runs 1.32, where SSM recommends T2's release now.
    const canary = [ng('general', '1.33', T1, { history: [{ releaseVersion: on('1.33', T1), status: 'Successful', minutesAgo: 5 * 24 * 60 }] })];
    const s = await start(fleet(canary, undefined, SSM_AT_T2), { github: {} });
    const r = await check(s, { ...STAGES, clusters: 'staging', 'on-drift': 'pull-request' });
    expect(r.run.stderr + r.run.stdout).not.toMatch(/::error/);
    expect(r.run.code).toBe(0);
    // Checking staging alone still reads the canary (the proof reads every cluster of the region).
    expect(r.report.nodegroups.map((e) => e.cluster)).toEqual(['staging']);
    expect(r.entry('staging')).toMatchObject({ status: 'drift', targetReleaseVersion: on('1.32', T1) });
    const pr = s.github.pulls()[0]!;
    expect(pr.body).toContain(
      `| general | AL2023_x86_64_STANDARD | 1.32 | ${on('1.32', T0)} | ${on('1.32', T1)} (proven train ${T1}; latest ${on('1.32', T2)}) |`,
    );
    expect(pr.body).toContain('**Proven by the earlier stages** (stage staging)');
    expect(pr.body).toMatch(
      new RegExp(`\\| general \\| ${T1} \\| canary/general \\| canary \\| ${on('1.33', T1)} \\| [\\d-]+ [\\d:]+ \\| \`[0-9a-f-]{36}\` \\|`),
    );
    expect(s.github.filesAt('eks-ami-drift/us-east-1/staging').get('.github/eks-ami-drift/us-east-1/staging.yaml')).toContain(
      `releaseVersion: ${on('1.32', T1)}`,
    );
    await sim!.close();

    // Where AWS refuses the history of its public parameters (UNVERIFIED either way), the node group waits and says why.
    const refused = await start(fleet(canary, undefined, SSM_AT_T2), { faults: { publicParameterHistory: 'refused' } });
    const w = await check(refused, { ...STAGES, clusters: 'staging' });
    expect(w.entry('staging')).toMatchObject({ status: 'waiting', proof: { train: T1, proven: true } });
    expect(w.entry('staging').reason).toContain(
      `${T1} is proven for stage staging, but its release for Kubernetes 1.32 is not known: no node group runs it, and the history of ` +
        `/aws/service/eks/optimized-ami/1.32/amazon-linux-2023/x86_64/standard/recommended/release_version could not be read (AccessDeniedException`,
    );
  });

  it('changes nothing without the stages input: no stage, no proof, no waiting, the summary as before', async () => {
    const s = await start(fleet());
    const staged = await check(s);
    const plain = await check(s, {});
    expect(plain.run.code).toBe(0);
    expect(plain.report.nodegroups.map((e) => [e.cluster, e.nodegroup, e.status])).toEqual([
      ['canary', 'general', 'drift'],
      ['production', 'arm', 'drift'],
      ['production', 'general', 'drift'],
      ['staging', 'general', 'drift'],
    ]);
    expect(Object.keys(plain.report.counts)).not.toContain('waiting');
    expect(plain.report).not.toHaveProperty('rollout');
    for (const e of plain.report.nodegroups) for (const key of ['stage', 'proof', 'targetReleaseVersion']) expect(e).not.toHaveProperty(key);
    for (const c of plain.report.clusters) expect(c).not.toHaveProperty('stage');
    expect(plain.run.summary).not.toContain('Rollout');
    // No ListUpdates, DescribeUpdate or GetParameterHistory without stages: the check's calls are as before.
    const calls = s.log.map((q) => q.operation);
    expect(calls.filter((o) => o === 'ListUpdates').length).toBe(staged.report.nodegroups.length);
    // The stages run's entries, less what stages add, are the plain run's but for the statuses the proof changed.
    const strip = (e: NodegroupReport) => ({ ...e, stage: undefined, proof: undefined, targetReleaseVersion: undefined, status: undefined, reason: undefined });
    expect(staged.report.nodegroups.map(strip)).toEqual(plain.report.nodegroups.map(strip));
  });

  it("with the README's policy plus its staged-rollout statement, the proof reads; without each of its actions it says what it could not read", async () => {
    const allow = [...readmePolicyActions('check'), ...readmePolicyActions('stages')];
    const canary = [ng('general', '1.33', T1, { history: [{ releaseVersion: on('1.33', T1), status: 'Successful', minutesAgo: 5 * 24 * 60 }] })];
    for (const without of [null, ...readmePolicyActions('stages')]) {
      const s = await start(fleet(canary, undefined, SSM_AT_T2), { faults: { allow: allow.filter((a) => a !== without) } });
      const r = await check(s);
      expect(r.run.code).toBe(0);
      if (without === null) expect(r.entry('staging')).toMatchObject({ status: 'drift', targetReleaseVersion: on('1.32', T1) });
      else {
        expect(r.entry('staging').status).toBe('waiting');
        expect(r.entry('staging').reason).toContain(`not authorized to perform: ${without}`);
      }
      await s.close();
      sim = undefined;
    }
  });

  describe('a canary whose history is mostly config updates (scheduled scaling, labels, taints)', () => {
    // 600 UpdateNodegroupConfig updates every 30 minutes (the last 12.5 days), an update to T0 60 days
    // ago, then T1 by hand 2 hours ago: 602 updates, of which two are version updates.
    const busyCanary = () => [
      ng('general', '1.33', T0, {
        history: [{ releaseVersion: on('1.33', T0), status: 'Successful', minutesAgo: 60 * 24 * 60 }],
        configUpdates: { count: 600, everyMinutes: 30 },
      }),
    ];
    // The canary's node group: the one with the long history.
    const describes = (s: Simulator, from: number) =>
      s.log.slice(from).filter((q) => q.operation === 'DescribeUpdate' && q.params.name === 'canary' && q.params.nodegroupName === 'general').length;

    it('proves only what the canary really ran: staging waits for the soak of its newest update, read over runs with history-cache', async () => {
      const s = await start(fleet(busyCanary()), { pageSize: 100 });
      const update = upgradeByHand(s, 'canary', 'general', on('1.33', T1));
      jump(s, 2 * 3600_000);
      const cache = join(mkdtempSync(join(tmpdir(), 'history-cache-')), 'eks-ami-drift', 'history.json');
      const inputs = { ...STAGES, 'history-cache': cache };

      // At most 200 DescribeUpdate calls for the node group a run: until its 602 updates are read, staging waits and says so.
      const unread = [402, 202, 2];
      for (const left of unread) {
        const from = s.log.length;
        const r = await check(s, inputs);
        expect(r.run.code).toBe(0);
        expect(describes(s, from)).toBe(200);
        expect(r.entry('staging')).toMatchObject({ status: 'waiting', proof: { train: T1, proven: false, provenAt: null } });
        expect(r.entry('staging').reason).toContain(
          `canary/general: its update history is still being read: ${left} of its 602 updates not yet read ` +
            '(at most 200 DescribeUpdate calls per node group a run); the next run continues (history-cache)',
        );
        expect(existsSync(cache)).toBe(true);
      }

      // The fourth run reads the rest: the canary runs T1 since its update 2 hours ago, not since T0's 60 days ago.
      let from = s.log.length;
      let r = await check(s, inputs);
      expect(describes(s, from)).toBe(2);
      expect(r.entry('staging')).toMatchObject({ status: 'waiting', proof: { train: T1, proven: false } });
      expect(r.entry('staging').reason).toMatch(new RegExp(`canary/general: runs ${T1} since .*, proves it in 2d 2[12]h`));
      expect(Math.abs(Date.parse(r.entry('staging').proof!.provenAt!) - (update.createdAt + 3 * DAY))).toBeLessThan(1000);
      expect(r.run.stdout).toContain(`history-cache ${cache}: `);

      // Later runs describe only what is new: nothing, then one new config update.
      from = s.log.length;
      await check(s, inputs);
      expect(describes(s, from)).toBe(0);
      const record = JSON.parse(readFileSync(cache, 'utf8')) as { nodegroups: Record<string, Record<string, { type: string }>> };
      expect(Object.values(record.nodegroups['us-east-1/canary/general']!).filter((u) => u.type === 'VersionUpdate')).toHaveLength(2);

      // Three days after the canary's update, T1 is proven for staging.
      jump(s, 3 * DAY);
      from = s.log.length;
      r = await check(s, inputs);
      expect(describes(s, from)).toBe(0);
      expect(r.entry('staging')).toMatchObject({ status: 'drift', proof: { train: T1, proven: true } });
      expect(r.entry('staging').proof!.evidence).toEqual([expect.objectContaining({ cluster: 'canary', updateId: update.id })]);

      // The upgrade reads the proof again with the same record: it lists the canary's updates and describes none of them.
      const sha = mergeStagingPin(s, on('1.32', T1));
      from = s.log.length;
      const up = await runAction({
        inputs: { command: 'upgrade', regions: 'us-east-1', 'poll-interval': '30s', 'health-timeout': '0', ...inputs },
        env: env(s, { GITHUB_SHA: sha }),
        eventName: 'push',
        clock: s.world.clock,
      });
      expect(up.stdout).toContain(`staging/general: stage staging: ${T1} is still proven by the earlier stages`);
      expect(describes(s, from)).toBe(0);
    });

    it('without history-cache, within the bound, finds the newest version update even when it is listed last', async () => {
      const canary = [
        ng('general', '1.33', T0, {
          history: [{ releaseVersion: on('1.33', T0), status: 'Successful', minutesAgo: 60 * 24 * 60 }],
          configUpdates: { count: 190, everyMinutes: 30 },
        }),
      ];
      const s = await start(fleet(canary), { pageSize: 100, faults: { updatesListed: 'newest-last' } });
      const update = upgradeByHand(s, 'canary', 'general', on('1.33', T1));
      jump(s, 2 * 3600_000);
      const from = s.log.length;
      const r = await check(s);
      expect(describes(s, from)).toBe(192);
      expect(r.entry('staging').reason).toMatch(new RegExp(`canary/general: runs ${T1} since .*, proves it in 2d 2[12]h`));
      expect(Math.abs(Date.parse(r.entry('staging').proof!.provenAt!) - (update.createdAt + 3 * DAY))).toBeLessThan(1000);

      // Past the bound without a record, it never guesses: it waits, and says how to let the next run continue.
      await s.close();
      const more = await start(fleet(busyCanary()), { pageSize: 100, faults: { updatesListed: 'newest-last' } });
      upgradeByHand(more, 'canary', 'general', on('1.33', T1));
      jump(more, 2 * 3600_000);
      const w = await check(more);
      expect(w.entry('staging')).toMatchObject({ status: 'waiting', proof: { proven: false } });
      expect(w.entry('staging').reason).toContain(
        'its update history is still being read: 402 of its 602 updates not yet read (at most 200 DescribeUpdate calls per node group a run); ' +
          'set history-cache to keep what was read, so the next run continues where this one stopped',
      );
    });
  });

  it('stops a train whose update failed on a CUSTOM canary: the train of the image its launch template version names', async () => {
    const custom = ng('custom', '1.33', T0, {
      amiType: 'CUSTOM',
      releaseVersion: '',
      launchTemplate: { id: 'lt-0custom', name: 'canary-custom', version: '3', image: { aws: awsImageName(AL, '1.33', on('1.33', T0)) } },
    });
    const s = await start(fleet([ng('general', '1.33', T0), custom]), {
      faults: { updateFailures: { 'canary/custom': { errorCode: 'NodeCreationFailure', errorMessage: 'Instances failed to join the kubernetes cluster' } } },
    });
    upgradeByHand(s, 'canary', 'general', on('1.33', T1));
    // Someone points the CUSTOM node group at a new launch template version naming T1's image; the update fails.
    const t1 = s.world.images.resolve('us-east-1', { aws: awsImageName(AL, '1.33', on('1.33', T1)) });
    s.world.images.template('lt-0custom', 'canary-custom', 'us-east-1', 4, { imageId: t1.id, tagSpecifications: false, userData: '' });
    const c = s.world.fleet.clusters.find((x) => x.name === 'canary')!;
    const failed = s.world.startUpdate(c, c.nodegroups[1]!, { launchTemplate: { id: 'lt-0custom', version: '4' } }, (_status, code, message) => {
      throw new Error(`${code}: ${message}`);
    });
    jump(s, 4 * DAY);
    expect(failed.status).toBe('Failed');
    // EKS API reference, UpdateNodegroupVersion, example 2: the update names the template and its version, no release.
    expect(failed.params.map((p) => p.type)).toEqual(['LaunchTemplateName', 'LaunchTemplateVersion']);

    const r = await check(s);
    expect(r.entry('staging')).toMatchObject({ status: 'waiting', proof: { train: T1, proven: false, provenAt: null } });
    expect(r.entry('staging').proof!.failures).toEqual([expect.objectContaining({ cluster: 'canary', nodegroup: 'custom', updateId: failed.id })]);
    expect(r.entry('staging').reason).toContain(
      `${T1} failed in an earlier stage: canary/custom: update ${failed.id} to launch template version 4 (${T1}) failed: NodeCreationFailure: ` +
        'Instances failed to join the kubernetes cluster',
    );
  });
});
