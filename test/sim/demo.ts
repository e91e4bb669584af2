/**
 * `npm run demo`: the built-in example fleet in the simulator, checked by the bundled action exactly
 * as a GitHub runner runs it. No AWS account, nothing left running.
 */
import { exampleFleet } from './example-fleet.js';
import { startSimulator } from './server.js';
import { runAction } from './run-action.js';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

/** The job summary as a terminal shows it: the HTML GitHub renders, reduced to text. */
function asText(markdown: string): string {
  return markdown
    .replace(/<\/?details( open)?>\n?/g, '')
    .replace(/<summary>(.*)<\/summary>/g, '\n### $1')
    .replace(/<\/?b>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\n{3,}/g, '\n\n');
}

const sim = await startSimulator(exampleFleet());
try {
  const inputs = { regions: 'us-east-1, eu-west-1', 'min-release-age': '36h' };
  console.log(bold('eks-ami-drift demo: a simulated fleet of 3 clusters in 2 regions, checked by dist/index.js'));
  console.log(`inputs: ${JSON.stringify(inputs)}\n`);
  const run = await runAction({ inputs, env: { ...sim.env(), AWS_REGION: 'us-east-1' } });

  console.log(bold('── step log ──'));
  console.log(run.stdout.replace(/^::set-output.*$/gm, '').trim());
  console.log(bold('\n── job summary ──'));
  console.log(asText(run.summary).trim());
  console.log(bold('\n── outputs ──'));
  console.log(`drift:  ${run.outputs.drift}`);
  console.log(`matrix: ${run.outputs.matrix}`);
  console.log(`report: ${(run.outputs.report ?? '').length} bytes of JSON (${JSON.parse(run.outputs.report ?? '{"nodegroups":[]}').nodegroups.length} node groups)`);
  const calls = Object.entries(sim.counts()).map(([op, n]) => `${op} ×${n}`);
  console.log(bold('\n── AWS calls the check made ──'));
  console.log(calls.join(', '));
  console.log(`\nexit code ${run.code}${run.code === 0 ? '' : ' (the step fails: see the log above)'}`);
  process.exitCode = run.code === 0 ? 0 : 1;
} finally {
  await sim.close();
}
