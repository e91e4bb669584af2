import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { COMMANDS, type Command } from '../model/settings.js';

/** Exit codes, documented in docs/command-line.md and `--help`. */
export const EXIT = { ok: 0, error: 1, drift: 2, usage: 64 } as const;

export interface ActionInput {
  name: string;
  description: string;
  default: string | undefined;
  boolean: boolean;
}

/**
 * The action's inputs as action.yml declares them: the flags and `--help` come from here, so the two
 * never disagree. The bundler copies action.yml into dist/ as an asset and points this URL at it.
 */
export function actionInputs(text = readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')): ActionInput[] {
  const action = parseYaml(text) as { inputs: Record<string, { description: string; default?: string }> };
  return Object.entries(action.inputs).map(([name, i]) => ({
    name,
    description: i.description.replace(/\s+/g, ' ').trim(),
    default: i.default,
    boolean: i.default === 'true' || i.default === 'false',
  }));
}

/** The command line's own options, beside one flag per action input. */
const CLI_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  'output-file': { type: 'string' },
  profile: { type: 'string' },
} as const;

export interface Parsed {
  command: Command;
  help: boolean;
  json: boolean;
  outputFile: string | undefined;
  profile: string | undefined;
  /** Each action input given, as the action would read it: a string, booleans as `true` or `false`. */
  inputs: Map<string, string>;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

const TRUTH = /^(true|false)$/i;

/**
 * A boolean flag as people and workflows write it: `--flag`, `--no-flag`, `--flag=true|false` and
 * `--flag true|false` (case as YAML 1.2 core schema allows it: true, True, TRUE). Rewritten to the
 * first two forms, which node's parseArgs knows.
 */
function normaliseBooleans(argv: readonly string[], booleans: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (eq && booleans.has(eq[1]!)) {
      if (!TRUTH.test(eq[2]!)) throw new UsageError(`Option '--${eq[1]}' is true or false, not ${JSON.stringify(eq[2])}`);
      out.push(eq[2]!.toLowerCase() === 'true' ? `--${eq[1]}` : `--no-${eq[1]}`);
      continue;
    }
    const flag = /^--([a-z-]+)$/.exec(arg)?.[1];
    const next = argv[i + 1];
    if (flag && booleans.has(flag) && next !== undefined && TRUTH.test(next)) {
      out.push(next.toLowerCase() === 'true' ? `--${flag}` : `--no-${flag}`);
      i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** The command line's words: the command (check by default), the inputs given, its own options. Throws UsageError. */
export function parseCommandLine(argv: readonly string[], inputs: readonly ActionInput[]): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { ...CLI_OPTIONS };
  const booleans = new Set<string>(['help', 'json']);
  for (const i of inputs) {
    if (i.name === 'command') continue;
    options[i.name] = { type: i.boolean ? 'boolean' : 'string' };
    if (i.boolean) booleans.add(i.name);
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: normaliseBooleans(argv, booleans), options, allowPositionals: true, allowNegative: true, strict: true });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const [command = 'check', ...extra] = parsed.positionals;
  if (!values.help && (!(COMMANDS as readonly string[]).includes(command) || extra.length > 0)) {
    const what = extra.length > 0 ? `unexpected ${JSON.stringify(extra.join(' '))}` : `${JSON.stringify(command)} is not a command`;
    throw new UsageError(`${what}: expected one of ${COMMANDS.join(', ')}`);
  }
  const given = new Map<string, string>();
  for (const i of inputs) {
    const v = values[i.name];
    if (i.name !== 'command' && v !== undefined) given.set(i.name, String(v));
  }
  return {
    command: command as Command,
    help: values.help === true,
    json: values.json === true,
    outputFile: typeof values['output-file'] === 'string' ? values['output-file'] : undefined,
    profile: typeof values.profile === 'string' ? values.profile : undefined,
    inputs: given,
  };
}

export function helpText(inputs: readonly ActionInput[]): string {
  const flag = (i: ActionInput) => (i.boolean ? `--${i.name}, --no-${i.name}` : `--${i.name} <value>`);
  const fallback = (i: ActionInput) => (i.default !== undefined && !i.default.includes('${{') ? `  (default: ${i.default === '' ? 'none' : i.default})` : '');
  const lines = [
    'Usage: eks-ami-drift [check|upgrade|restore] [--flag value ...]',
    '',
    'Keeps Amazon EKS node groups on current AMIs: check drift, propose, upgrade safely.',
    'The same code as the GitHub Action: every action input is a flag of the same name.',
    '',
    'Commands:',
    '  check    compare every node group with the latest published release (read-only; the default)',
    '  upgrade  upgrade node groups to the release the manifest (or --release-version) pins',
    '  restore  restore a cluster-autoscaler a lost run left paused',
    '',
    'Options of the command line:',
    '  --json                 print the JSON report (check), result (upgrade) or pauses (restore) on stdout; the log goes to stderr',
    '  --output-file <path>   also write that JSON to a file',
    '  --profile <name>       the AWS profile to use (as AWS_PROFILE; SSO profiles included)',
    '  -h, --help             this text',
    '',
    'Inputs (from action.yml); a true/false flag also takes --flag=true|false and --flag true|false:',
    ...inputs.filter((i) => i.name !== 'command').flatMap((i) => [`  ${flag(i)}${fallback(i)}`, `      ${i.description}`]),
    '',
    'AWS credentials: the environment, --profile or AWS_PROFILE (including SSO), else the instance or container role, as the AWS CLI.',
    'A manifest for upgrade is read from the current directory (manifest-dir); on-drift needs --github-token and GITHUB_REPOSITORY.',
    '',
    'Exit codes:',
    `  ${EXIT.ok}   done, nothing failed (drift found without --fail-on-drift is still 0)`,
    `  ${EXIT.error}   an error: a bad input, a cluster that could not be read, an upgrade that did not succeed`,
    `  ${EXIT.drift}   drift found, with --fail-on-drift`,
    `  ${EXIT.usage}  a flag or command this command line does not know`,
  ];
  return `${lines.join('\n')}\n`;
}
