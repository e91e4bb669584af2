import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const FAST_CLOCK = fileURLToPath(new URL('./fast-clock.mjs', import.meta.url));

export interface ActionRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** What the step saved with core.saveState: the runner gives it to the post step as STATE_*. */
  state: Record<string, string>;
  /** The text of the file the `report-file` output names (RUNNER_TEMP is removed after the run). */
  reportFile?: string;
  /**
   * With `clock` and `recordLateTimers`: each timer of the action that the virtual clock fired late, as
   * [requested ms, due, fired] in virtual ms (see fast-clock.mjs).
   */
  lateTimers?: [number, number, number][];
}

export interface RunOptions {
  /** Action inputs by name (`min-release-age`), passed as INPUT_* the way the runner does. */
  inputs?: Record<string, string>;
  /** Extra environment (the simulator's endpoint and credentials). */
  env?: Record<string, string>;
  /** The event payload written to GITHUB_EVENT_PATH. */
  event?: unknown;
  eventName?: string;
  /** Script to run instead of dist/index.js. */
  script?: string;
  /** Node options before the script (`--import` a module hook). */
  nodeArgs?: string[];
  /** The state a main step saved: runs the post step (`runs.post`), as the runner does. */
  postOf?: ActionRun;
  /** Sends SIGTERM when the step's output matches, as a cancelled job or a killed runner would. */
  killWhen?: RegExp;
  /** The signal killWhen sends: SIGKILL is a runner that vanished (no chance to clean up). */
  killSignal?: NodeJS.Signals;
  /**
   * Runs the action on this virtual clock (the simulator's): its Date and timers go at the clock's
   * speed, so hours of waiting, credential expiry and token renewal happen in seconds.
   */
  clock?: { speed: number; realStart: number; virtualStart: number };
  /** With `clock`: records the action's timers that fired late (`lateTimers`). */
  recordLateTimers?: boolean;
}

/** Parses the runner's GITHUB_OUTPUT file (`name<<DELIMITER` … `DELIMITER`, or `name=value`). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name = '', delimiter] = heredoc;
      const value: string[] = [];
      while (++i < lines.length && lines[i] !== delimiter) value.push(lines[i] as string);
      outputs[name] = value.join('\n');
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}

/**
 * Runs the bundled action as a GitHub runner does: a separate `node` process (the Node 24 that runs
 * the tests), inputs as INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, an event file.
 * Nothing of the test's own environment leaks in but PATH and HOME.
 */
export async function runAction(options: RunOptions = {}): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'eks-ami-drift-run-'));
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary');
  const eventFile = join(dir, 'event.json');
  const stateFile = join(dir, 'state');
  writeFileSync(stateFile, '');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  writeFileSync(eventFile, JSON.stringify(options.event ?? {}));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    RUNNER_TEMP: dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STATE: stateFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_EVENT_NAME: options.eventName ?? 'schedule',
    GITHUB_REPOSITORY: 'acme/platform',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_WORKSPACE: dir,
    ...options.env,
  };
  for (const [name, value] of Object.entries(options.inputs ?? {})) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  for (const [name, value] of Object.entries(options.postOf?.state ?? {})) env[`STATE_${name}`] = value;

  const args = [...(options.nodeArgs ?? []), options.script ?? DIST];
  if (options.clock) {
    env.SIM_CLOCK_SPEED = String(options.clock.speed);
    env.SIM_CLOCK_REAL_START = String(options.clock.realStart);
    env.SIM_CLOCK_VIRTUAL_START = String(options.clock.virtualStart);
    if (options.recordLateTimers) env.SIM_CLOCK_LATE_TIMERS = join(dir, 'late-timers.json');
    args.unshift('--import', FAST_CLOCK);
  }
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let killed = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (options.killWhen && !killed && options.killWhen.test(stdout)) {
      killed = true;
      child.kill(options.killSignal ?? 'SIGTERM');
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  const outputs = parseOutputFile(readFileSync(outputFile, 'utf8'));
  const reportFile = outputs['report-file'];
  const result = {
    code,
    signal,
    stdout,
    stderr,
    outputs,
    summary: readFileSync(summaryFile, 'utf8'),
    state: parseOutputFile(readFileSync(stateFile, 'utf8')),
    ...(reportFile && reportFile.startsWith(dir) && existsSync(reportFile) ? { reportFile: readFileSync(reportFile, 'utf8') } : {}),
    ...(env.SIM_CLOCK_LATE_TIMERS && existsSync(env.SIM_CLOCK_LATE_TIMERS)
      ? { lateTimers: JSON.parse(readFileSync(env.SIM_CLOCK_LATE_TIMERS, 'utf8')) as [number, number, number][] }
      : {}),
  };
  rmSync(dir, { recursive: true, force: true });
  return result;
}
