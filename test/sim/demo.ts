/**
 * `npm run demo`: the whole loop on the built-in example fleet, with the bundled action run exactly
 * as a GitHub runner runs it, against the local simulator. No AWS account, nothing left running.
 *
 *   1. the scheduled check, which opens a pull request per drifted cluster
 *   2. a person merges one of them
 *   3. the upgrade that the merge triggers: cluster-autoscaler paused, EKS's rolling update, restored
 */
import { exampleFleet } from './example-fleet.js';
import { startSimulator } from './server.js';
import { runAction } from './run-action.js';
import { asText, bold, dim, heading, log } from './demo-text.js';

const started = Date.now();
const fleet = exampleFleet();
// Some pods and a budget that allows disruption, so the update has something to drain.
fleet.clusters[0]!.workloads = [{ name: 'payments-api', namespace: 'payments', labels: { app: 'payments-api' }, nodegroup: 'general', replicas: 6 }];
fleet.clusters[0]!.pdbs = [{ name: 'payments-api', namespace: 'payments', matchLabels: { app: 'payments-api' }, maxUnavailable: 1 }];
const sim = await startSimulator(fleet, { clockSpeed: 200, github: { files: { 'README.md': '# platform\n' } } });
const env = { ...sim.env(), AWS_REGION: 'us-east-1' };
let exit = 0;
try {
  console.log(bold('eks-ami-drift demo: 3 clusters in 2 regions, a GitHub repository, all simulated on 127.0.0.1'));
  console.log(dim('Every step below runs dist/index.js as a GitHub runner does (INPUT_* variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY).'));

  heading('1. Scheduled check, with on-drift: pull-request');
  const checkInputs = { regions: 'us-east-1, eu-west-1', 'min-release-age': '36h', 'on-drift': 'pull-request' };
  console.log(dim(`with: ${JSON.stringify(checkInputs)}`));
  const check = await runAction({ inputs: checkInputs, env });
  console.log(log(check));
  console.log(bold('\nJob summary:\n'));
  console.log(asText(check.summary));
  console.log(bold('\nOutputs:'));
  for (const name of ['drift', 'matrix', 'pull-request-number', 'pull-request-url']) console.log(`  ${name}: ${check.outputs[name]}`);
  const calls = Object.entries(sim.counts()).map(([op, n]) => `${op} ×${n}`);
  console.log(dim(`  AWS calls: ${calls.join(', ')}`));

  const pr = sim.github.pulls().find((p) => p.pull?.head.endsWith('/prod-payments'));
  if (!pr) throw new Error('the check opened no pull request for prod-payments');
  heading(`2. Pull request #${pr.number}: ${pr.title}`);
  console.log(asText(pr.body).split('\n').slice(0, 8).join('\n'));
  console.log(dim('  …'));
  const file = [...sim.github.filesAt(pr.pull!.head)].find(([p]) => p.endsWith('prod-payments.yaml'));
  console.log(bold(`\n${file?.[0]} on the branch ${pr.pull!.head}:\n`));
  console.log(file?.[1].trim());
  const sha = sim.github.merge(pr.number, 'platform-engineer');
  console.log(bold(`\nA platform engineer merges #${pr.number}: main is now ${sha.slice(0, 7)}, and the push starts the upgrade workflow.`));

  heading('3. Upgrade on merge (command: upgrade)');
  const upgradeInputs = { command: 'upgrade', regions: 'us-east-1', 'poll-interval': '100ms' };
  console.log(dim(`with: ${JSON.stringify(upgradeInputs)}  (poll-interval is fast because EKS runs ${200}× fast here)`));
  const autoscaler = () => [...sim.world.kubeOf(fleet.clusters[0]!).deployments.values()][0]?.spec?.replicas;
  const before = autoscaler();
  console.log(dim(`cluster-autoscaler replicas before: ${String(before)}`));
  const upgrade = await runAction({ inputs: upgradeInputs, env: { ...env, GITHUB_SHA: sha }, eventName: 'push' });
  console.log(log(upgrade));
  console.log(bold('\nJob summary (also posted on the pull request):\n'));
  console.log(asText(upgrade.summary));
  const update = sim.world.updates[0];
  if (update) {
    const seen = update.autoscalerReplicas.join(', ');
    console.log(dim(`\nWhat EKS saw: phases ${update.phases.map((p) => p.phase).join(' → ')}; cluster-autoscaler replicas at each phase: ${seen}`));
  }
  console.log(dim(`cluster-autoscaler replicas after: ${String(autoscaler())}`));
  console.log(dim(`comments on #${pr.number}: ${sim.github.pulls().find((p) => p.number === pr.number)?.comments.length ?? 0}`));
  // As a smoke test (.ci/run): the loop ends as this page says, or the demo exits 1.
  const comments = sim.github.pulls().find((p) => p.number === pr.number)?.comments.length ?? 0;
  const paused = update?.autoscalerReplicas.every((r) => r === 0) ?? false;
  exit = check.code === 0 && upgrade.code === 0 && paused && autoscaler() === before && comments === 1 ? 0 : 1;
  console.log(
    bold(
      `\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s: check exit ${check.code}, upgrade exit ${upgrade.code}${exit ? ', NOT as expected' : ''}.`,
    ),
  );
} catch (error) {
  console.error(error);
  exit = 1;
} finally {
  await sim.close();
}
process.exitCode = exit;
