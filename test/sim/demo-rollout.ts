/**
 * `npm run demo:rollout`: a staged rollout (canary → staging → production) on the simulator, with the
 * bundled action run as a GitHub runner runs it, on the simulator's virtual clock (days of soak pass
 * by jumping it). The README's worked example, played:
 *
 *   1. AWS publishes v20260618: the canary drifts, staging and production wait
 *   2. the canary's pull request is merged and the action upgrades it
 *   3. three days later staging drifts to the same train at its own minor (1.32)
 *   4. AWS publishes v20260625 mid-rollout: the canary drifts to it, staging keeps to v20260618
 *   5. staging is upgraded; three days later production drifts to v20260618
 */
import { renderManifest } from '../../src/repo/manifest.js';
import type { CheckReport } from '../../src/model/check-report.js';
import type { FleetSpec, SimCluster } from './fleet.js';
import { amazonLinuxParameters, releasesOf } from './releases.js';
import { runAction } from './run-action.js';
import { startSimulator, type Simulator } from './server.js';
import { bold, dim, heading } from './demo-text.js';

const AL = 'AL2023_x86_64_STANDARD';
const on = (minor: string, tag: string) => releasesOf(AL, minor).find((r) => r.tag === tag)!.releaseVersion;
const DAY = 86_400_000;
const cluster = (name: string, minor: string, stage: string | null): SimCluster => ({
  name,
  region: 'us-east-1',
  version: minor,
  nodegroups: [{ name: 'general', amiType: AL, version: minor, releaseVersion: on(minor, 'v20260610'), desiredSize: 2, createdMinutesAgo: 90 * 24 * 60 }],
  autoscaler: { namespace: 'kube-system', name: 'cluster-autoscaler', labels: { app: 'cluster-autoscaler' }, replicas: 2 },
  ...(stage ? { tags: { 'eks-ami-drift/stage': stage } } : {}),
});
const fleet: FleetSpec = {
  clusters: [cluster('canary-1', '1.33', 'canary'), cluster('staging-1', '1.32', 'staging'), cluster('prod-1', '1.32', null)],
  parameters: amazonLinuxParameters('2026-06-20'),
};
const STAGES = { stages: 'canary, staging, production', 'stage-soak': '3d' };

const started = Date.now();
const sim: Simulator = await startSimulator(fleet, { clockSpeed: 600, github: { files: { 'README.md': '# platform\n' } } });
const env = { ...sim.env(), AWS_REGION: 'us-east-1' };
const clock = sim.world.clock;
const day = () => new Date(clock.now()).toISOString().slice(0, 16).replace('T', ' ');
let exit = 0;

async function check(title: string) {
  heading(`${title}  (virtual time ${day()})`);
  const run = await runAction({ inputs: { regions: 'us-east-1', ...STAGES }, env, clock });
  if (run.code !== 0) exit = 1;
  const report = JSON.parse(run.outputs.report ?? '{}') as CheckReport;
  const table = /### Rollout[\s\S]*?\n\n[\s\S]*?\n\n([\s\S]*?)\n\n/.exec(run.summary)?.[1] ?? '';
  console.log(table.replace(/<br>/g, ' · '));
  console.log('');
  for (const e of report.nodegroups) console.log(`  ${e.cluster}/${e.nodegroup} [${e.stage}] ${bold(e.status)}: ${e.reason}`);
}

async function upgrade(clusterName: string, minor: string, release: string) {
  const path = `.github/eks-ami-drift/us-east-1/${clusterName}.yaml`;
  sim.github.branch(`rollout-${clusterName}`);
  sim.github.push(
    `rollout-${clusterName}`,
    { [path]: renderManifest({ cluster: clusterName, region: 'us-east-1', nodegroups: { general: { kubernetesVersion: minor, releaseVersion: release } } }) },
    'github-actions[bot]',
    'pin',
  );
  const sha = sim.github.merge(sim.github.openPull(`rollout-${clusterName}`, `Upgrade ${clusterName}`).number, 'platform-engineer');
  console.log(dim(`A platform engineer merges the pin of ${release} for ${clusterName}; the upgrade runs:`));
  const run = await runAction({
    inputs: { command: 'upgrade', regions: 'us-east-1', clusters: clusterName, 'poll-interval': '30s', ...STAGES },
    env: { ...env, GITHUB_SHA: sha },
    eventName: 'push',
    clock,
  });
  if (run.code !== 0) exit = 1;
  for (const line of run.stdout.split('\n').filter((l) => /stage |✅|❌|upgraded|health gate passed/.test(l) && !l.startsWith('::'))) console.log(`  ${line}`);
}

try {
  console.log(bold('eks-ami-drift staged rollout demo: canary-1 (1.33), staging-1 (1.32), prod-1 (1.32, no stage tag), all simulated on 127.0.0.1'));
  await check('1. AWS publishes v20260618');
  await upgrade('canary-1', '1.33', on('1.33', 'v20260618'));
  await check('2. The canary runs v20260618');
  clock.advance(3 * DAY);
  await check('3. Three days later');
  fleet.parameters.splice(0, Infinity, ...amazonLinuxParameters('2026-06-30'));
  await check('4. AWS publishes v20260625 mid-rollout');
  await upgrade('staging-1', '1.32', on('1.32', 'v20260618'));
  clock.advance(3 * DAY);
  await check('5. Three days after staging');
  console.log(bold(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s of real time.`));
} catch (error) {
  console.error(error);
  exit = 1;
} finally {
  await sim.close();
}
process.exitCode = exit;
