import { writeFileSync } from 'node:fs';
import { styleText } from 'node:util';
import type { CommandIo } from '../commands/io.js';
import { parseSettings } from '../inputs/settings.js';
import { actionInputs, EXIT, helpText, parseCommandLine, UsageError } from './args.js';
import { renderCheckTable, renderUpgradeTable, type Paint } from './tables.js';

/**
 * The command line over the action's own code: `eks-ami-drift check --regions us-east-1`. Every
 * action input is a `--flag` of the same name; the flags become the settings, and the command runs
 * as in a workflow, with its log on the terminal and its report as a table or JSON. No runner is
 * emulated. AWS credentials come from the SDK's default chain, as the AWS CLI's do: environment,
 * `--profile` / AWS_PROFILE (SSO included), the instance role.
 */

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  color: boolean;
  cwd: string;
}

const defaultIo = (): CliIo => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  color: process.stdout.isTTY === true && !process.env.NO_COLOR,
  cwd: process.cwd(),
});

/** Runs the command line; returns the exit code. */
export async function cli(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const inputs = actionInputs();
  let parsed;
  try {
    parsed = parseCommandLine(argv, inputs);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`eks-ami-drift: ${error.message}\nRun eks-ami-drift --help for the flags.\n`);
    return EXIT.usage;
  }
  if (parsed.help) {
    io.stdout(helpText(inputs));
    return EXIT.ok;
  }
  const say = parsed.json ? io.stderr : io.stdout;
  const paint: Paint = (style, text) => (io.color ? styleText(style, text) : text);
  const log: CommandIo = {
    log: (line) => say(`${line}\n`),
    warn: (line) => say(`${paint('yellow', `warning: ${line}`)}\n`),
    group: async (title, work) => {
      say(`${paint('bold', `▸ ${title}`)}\n`);
      return work();
    },
  };
  // The SDK's default chain reads the profile from the environment, as the AWS CLI does.
  if (parsed.profile) io.env.AWS_PROFILE = parsed.profile;

  let result: unknown;
  let failure: string | null;
  let onlyDrift = false;
  try {
    const settings = await parseSettings({
      get: (name) => (name === 'command' ? parsed.command : (parsed.inputs.get(name) ?? '')),
      mask: () => undefined,
      env: io.env,
    });
    const { makeClients } = await import('../clients.js');
    const clients = await makeClients(settings, {
      // A terminal has no runner to mask with: the command line prints no secret in the first place.
      mask: () => undefined,
      getIdToken: () =>
        Promise.reject(
          new Error('role-to-assume needs the OIDC token of a GitHub Actions job: from the command line, use --profile or AWS credentials in the environment'),
        ),
      log: log.log,
    });
    switch (settings.command) {
      case 'check': {
        const { check, checkFailure } = await import('../commands/check.js');
        const run = await check(settings, clients, log);
        result = run.report;
        failure = run.failure;
        // A failure that is only fail-on-drift has its own exit code.
        onlyDrift = failure !== null && checkFailure(run.report, { ...settings, failOnDrift: false }) === null;
        if (!parsed.json) io.stdout(renderCheckTable(run.report, paint));
        break;
      }
      case 'upgrade': {
        const { upgrade } = await import('../commands/upgrade.js');
        const run = await upgrade(settings, clients, log, {
          sha: io.env.GITHUB_SHA ?? '',
          eventName: null,
          workspace: io.env.GITHUB_WORKSPACE ?? io.cwd,
          env: io.env,
          // No post step behind a terminal: a pause left by a killed process keeps its record on the
          // Deployment (its annotations), and `eks-ami-drift restore` or the next upgrade restores it.
          recordPause: () => undefined,
        });
        result = run.report;
        failure = run.failure;
        if (!parsed.json) io.stdout(renderUpgradeTable(run.report, paint));
        break;
      }
      case 'restore': {
        const { restore } = await import('../commands/restore.js');
        const run = await restore(settings, clients, log);
        result = run.result.pauses;
        failure = run.failure;
        break;
      }
    }
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
  }
  if (result !== undefined) {
    const text = `${JSON.stringify(result, null, 2)}\n`;
    if (parsed.outputFile) writeFileSync(parsed.outputFile, text);
    if (parsed.json) io.stdout(text);
  }
  if (failure === null) return EXIT.ok;
  say(`${paint('red', `error: ${failure}`)}\n`);
  return onlyDrift ? EXIT.drift : EXIT.error;
}
