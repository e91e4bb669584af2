import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, styleText } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { COMMANDS } from './inputs.js';
import type { CheckReport, NodegroupReport } from './report/types.js';
import type { UpgradeReport } from './upgrade.js';

/**
 * The command line over the action's own code: `eks-ami-drift check --regions us-east-1`. Every
 * action input is a `--flag` of the same name; the flags become the `INPUT_*` variables a runner
 * would set, and the action runs in this process exactly as in a workflow, with its runner files
 * (outputs, state, summary) in a temporary directory. AWS credentials come from the SDK's default
 * chain, as the AWS CLI's do: environment, `--profile` / AWS_PROFILE (SSO included), the instance role.
 */

/** Exit codes, documented in the README and `--help`. */
export const EXIT = { ok: 0, error: 1, drift: 2, usage: 64 } as const;

interface ActionInput {
  name: string;
  description: string;
  default: string | undefined;
  boolean: boolean;
}

/** The action's inputs as action.yml declares them: the flags and `--help` come from here, so the two never disagree. */
export function actionInputs(text = readFileSync(new URL('../action.yml', import.meta.url), 'utf8')): ActionInput[] {
  const action = parseYaml(text) as { inputs: Record<string, { description: string; default?: string }> };
  return Object.entries(action.inputs).map(([name, i]) => ({
    name,
    description: i.description.replace(/\s+/g, ' ').trim(),
    default: i.default,
    boolean: i.default === 'true' || i.default === 'false',
  }));
}

const CLI_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  'output-file': { type: 'string' },
  profile: { type: 'string' },
} as const;

export function helpText(inputs: readonly ActionInput[]): string {
  const flag = (i: ActionInput) => (i.boolean ? `--${i.name}, --no-${i.name}` : `--${i.name} <value>`);
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
    'Inputs (from action.yml):',
    ...inputs.filter((i) => i.name !== 'command').flatMap((i) => [`  ${flag(i)}${i.default !== undefined && !i.default.includes('${{') ? `  (default: ${i.default === '' ? 'none' : i.default})` : ''}`, `      ${i.description}`]),
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

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  color: boolean;
  cwd: string;
}

const defaultIo = (): CliIo => {
  // The real writers, taken before the action's log is redirected through them.
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  return {
    stdout: (t) => out(t),
    stderr: (t) => err(t),
    env: process.env,
    color: process.stdout.isTTY === true && !process.env.NO_COLOR,
    cwd: process.cwd(),
  };
};

/** Runs the command line; returns the exit code. */
export async function cli(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const inputs = actionInputs();
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { ...CLI_OPTIONS };
  for (const i of inputs) if (i.name !== 'command') options[i.name] = { type: i.boolean ? 'boolean' : 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, allowNegative: true, strict: true });
  } catch (error) {
    io.stderr(`eks-ami-drift: ${(error as Error).message}\nRun eks-ami-drift --help for the flags.\n`);
    return EXIT.usage;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    io.stdout(helpText(inputs));
    return EXIT.ok;
  }
  const [command = 'check', ...extra] = parsed.positionals;
  if (!(COMMANDS as readonly string[]).includes(command) || extra.length > 0) {
    io.stderr(`eks-ami-drift: ${extra.length > 0 ? `unexpected ${JSON.stringify(extra.join(' '))}` : `${JSON.stringify(command)} is not a command`}: expected one of ${COMMANDS.join(', ')}\nRun eks-ami-drift --help for the flags.\n`);
    return EXIT.usage;
  }

  // The runner's environment, made here: INPUT_* from the flags (and nothing else), runner files in a temporary directory.
  const dir = mkdtempSync(join(tmpdir(), 'eks-ami-drift-cli-'));
  const env = io.env;
  const saved = { ...env };
  for (const key of Object.keys(env)) if (key.startsWith('INPUT_')) delete env[key];
  env.INPUT_COMMAND = command;
  for (const i of inputs) {
    const v = values[i.name];
    if (v !== undefined) env[`INPUT_${i.name.toUpperCase()}`] = String(v);
  }
  if (typeof values.profile === 'string') env.AWS_PROFILE = values.profile;
  const outputFile = join(dir, 'output');
  for (const [name, file] of [['GITHUB_OUTPUT', 'output'], ['GITHUB_STATE', 'state'], ['GITHUB_STEP_SUMMARY', 'summary']] as const) {
    env[name] = join(dir, file);
    writeFileSync(join(dir, file), '');
  }
  env.RUNNER_TEMP = dir;
  env.GITHUB_WORKSPACE ??= io.cwd;

  const json = values.json === true;
  const say = json ? io.stderr : io.stdout;
  const paint = (style: Parameters<typeof styleText>[0], text: string) => (io.color ? styleText(style, text) : text);
  // The action's log, as a terminal shows it: runner commands become headings and coloured
  // warnings; masks (secrets) are never printed.
  const realWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) {
      if (line === '') continue;
      const m = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line);
      const text = (m?.[2] ?? line).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
      if (!m) say(`${line}\n`);
      else if (m[1] === 'group') say(`${paint('bold', `▸ ${text}`)}\n`);
      else if (m[1] === 'warning') say(`${paint('yellow', `warning: ${text}`)}\n`);
      else if (m[1] === 'error') say(`${paint('red', `error: ${text}`)}\n`);
      else if (m[1] === 'notice') say(`${text}\n`);
      // add-mask, endgroup, debug, save-state, set-output: for a runner only.
    }
    return true;
  }) as typeof process.stdout.write;

  const before = process.exitCode;
  process.exitCode = 0;
  let failed = false;
  let outputs: Record<string, string> = {};
  try {
    const { run } = await import('./main.js');
    await run();
    failed = process.exitCode !== 0;
    outputs = readOutputs(readFileSync(outputFile, 'utf8'));
  } finally {
    process.stdout.write = realWrite;
    process.exitCode = before;
    for (const key of Object.keys(env)) if (!(key in saved)) delete env[key];
    Object.assign(env, saved);
  }

  let result: unknown;
  if (command === 'check' && outputs['report-file']) result = JSON.parse(readFileSync(outputs['report-file'], 'utf8'));
  else if (command === 'upgrade' && outputs.upgrades) result = JSON.parse(outputs.upgrades);
  else if (command === 'restore' && outputs.pauses) result = JSON.parse(outputs.pauses);
  rmSync(dir, { recursive: true, force: true });
  if (result !== undefined) {
    const text = `${JSON.stringify(result, null, 2)}\n`;
    if (typeof values['output-file'] === 'string') writeFileSync(values['output-file'], text);
    if (json) io.stdout(text);
    else if (command === 'check') io.stdout(renderCheckTable(result as CheckReport, paint));
    else if (command === 'upgrade') io.stdout(renderUpgradeTable(result as UpgradeReport, paint));
  }
  if (!failed) return EXIT.ok;
  // A failure that is only fail-on-drift has its own code; anything else is an error.
  const report = command === 'check' ? (result as CheckReport | undefined) : undefined;
  const onlyDrift = report && report.drift && values['fail-on-drift'] === true && report.counts.error === 0 && report.clusters.length > 0 && !report.proposals.some((p) => p.result === 'error');
  return onlyDrift ? EXIT.drift : EXIT.error;
}

/** GITHUB_OUTPUT's `name<<delimiter` blocks (what @actions/core writes). */
export function readOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]!] = m[3]!;
  return out;
}

type Paint = (style: Parameters<typeof styleText>[0], text: string) => string;
const STATUS_STYLE: Record<string, Parameters<typeof styleText>[0]> = {
  'up-to-date': 'green',
  drift: 'yellow',
  'behind-control-plane': 'yellow',
  soaking: 'cyan',
  waiting: 'cyan',
  error: 'red',
  unsupported: 'red',
  unknown: 'magenta',
  custom: 'gray',
};

/** Columns padded to their widest cell. */
function columns(rows: string[][], paintCell: (row: number, col: number, text: string) => string = (_r, _c, t) => t): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r, i) => r.map((cell, c) => paintCell(i, c, c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
}

/** The check on a terminal: one table per cluster, then the totals. */
export function renderCheckTable(report: CheckReport, paint: Paint): string {
  const lines: string[] = [''];
  for (const c of report.clusters) {
    const entries = report.nodegroups.filter((n) => n.cluster === c.cluster && n.region === c.region);
    lines.push(paint('bold', `${c.cluster} (${c.region}) · Kubernetes ${c.controlPlaneVersion ?? '?'}${c.stage ? ` · stage ${c.stage}` : ''}`));
    if (c.error) lines.push(`  ${paint('red', `error: ${c.error}`)}`);
    const rows = [['  node group', 'AMI type', 'k8s', 'current', 'target', 'status', 'why']];
    for (const e of entries.filter((n) => n.nodegroup !== null)) rows.push([`  ${e.nodegroup}`, e.amiType ?? '-', e.kubernetesVersion ?? '-', e.releaseVersion ?? e.imageId ?? '-', target(e), e.status, e.reason]);
    lines.push(...columns(rows, (r, col, text) => (r === 0 ? paint('dim', text) : col === 5 ? paint(STATUS_STYLE[text.trim()] ?? 'reset', text) : text)), '');
  }
  const counts = Object.entries(report.counts).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ');
  lines.push(`${report.nodegroups.filter((n) => n.nodegroup !== null).length} node group(s) in ${report.clusters.length} cluster(s): ${counts || 'none'}`, '');
  return lines.join('\n');
}

function target(e: NodegroupReport): string {
  return e.targetReleaseVersion ?? e.latestReleaseVersion ?? e.latestImageId ?? '-';
}

/** The upgrade's result on a terminal: one row per node group. */
export function renderUpgradeTable(report: UpgradeReport, paint: Paint): string {
  const rows = [['cluster/node group', 'from', 'to', 'result', 'why']];
  for (const n of report.nodegroups) rows.push([`${n.cluster}/${n.nodegroup}`, n.from?.releaseVersion ?? '-', n.to?.releaseVersion ?? '-', n.result, n.reason]);
  const style = (t: string) => (['upgraded', 'up-to-date'].includes(t.trim()) ? 'green' : ['skipped', 'planned'].includes(t.trim()) ? 'reset' : 'red');
  return ['', ...columns(rows, (r, col, text) => (r === 0 ? paint('dim', text) : col === 3 ? paint(style(text) as Parameters<typeof styleText>[0], text) : text)), `${report.ok ? 'ok' : 'not ok'}${report.dryRun ? ' (dry run)' : ''}`, ''].join('\n');
}
