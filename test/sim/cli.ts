/**
 * `npm run sim`: the simulator as a command, with the built-in example fleet, until Ctrl-C. Prints the
 * environment that points the AWS SDK, the AWS CLI and `@actions/github` at it.
 *
 *   npm run sim -- --speed 60      # node group updates 60× faster than real time
 */
import { exampleFleet } from './example-fleet.js';
import { startSimulator } from './server.js';

const i = process.argv.indexOf('--speed');
const clockSpeed = i > 0 ? Number(process.argv[i + 1]) : 30;
const sim = await startSimulator(exampleFleet(), { clockSpeed });
console.log(`eks-ami-drift simulator on ${sim.url} (example fleet; updates ${clockSpeed}× fast). Ctrl-C stops it.\n`);
for (const [k, v] of Object.entries(sim.env())) {
  // INPUT_GITHUB-TOKEN is not a shell name: the runner sets it, a shell cannot.
  console.log(/^[A-Z_][A-Z0-9_]*$/.test(k) ? `export ${k}='${v}'` : `# ${k}: ${v} (the github-token input)`);
}
console.log(`export AWS_REGION=us-east-1\n\n# for example:  aws eks list-clusters --endpoint-url ${sim.url}`);
const stop = async () => {
  await sim.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
