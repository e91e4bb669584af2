import * as core from '@actions/core';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { DURATION_FORM, parseDuration } from './decision/duration.js';

export const COMMANDS = ['check'] as const;
export type Command = (typeof COMMANDS)[number];

/** The action's inputs as one typed, validated object. No other module calls `core.getInput`. */
export interface Settings {
  command: Command;
  clusters: string[];
  regions: string[];
  nodegroups: string[];
  minReleaseAge: { text: string; ms: number };
  failOnDrift: boolean;
  kubeconfig: string | null;
}

/** A bad input: names the input and the form it accepts. Raised before any AWS call. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`Input '${input}': ${message}`);
    this.name = 'InputError';
  }
}

// EKS: 1-100 characters, starts with a letter or digit, then letters, digits, hyphens, underscores.
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
// EKS node group names: 1-63 characters of the same alphabet.
const NODEGROUP_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,62}$/;
// us-east-1, eu-central-2, us-gov-west-1, cn-northwest-1, ap-southeast-7, us-isob-east-1
const REGION = /^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/;

/** Splits a comma or newline separated list, trims, drops empties and duplicates. */
export function splitList(value: string): string[] {
  return [...new Set(value.split(/[,\n]/).map((s) => s.trim()).filter(Boolean))];
}

function list(input: string, pattern: RegExp, form: string): string[] {
  const values = splitList(core.getInput(input));
  for (const value of values) {
    if (!pattern.test(value)) throw new InputError(input, `${JSON.stringify(value)} is not valid: expected ${form}`);
  }
  return values;
}

function bool(input: string, fallback: boolean): boolean {
  const value = core.getInput(input).trim();
  if (value === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw new InputError(input, `${JSON.stringify(value)} is not valid: expected true or false`);
}

export function getSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const command = core.getInput('command').trim() || 'check';
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new InputError('command', `${JSON.stringify(command)} is not a command: expected one of ${COMMANDS.join(', ')}`);
  }

  const clusters = list('clusters', CLUSTER_NAME, 'EKS cluster names (letters, digits, - and _, at most 100 characters), comma or newline separated');
  const nodegroups = list('nodegroups', NODEGROUP_NAME, 'node group names (letters, digits, - and _, at most 63 characters), comma or newline separated');
  let regions = list('regions', REGION, 'AWS region codes such as us-east-1, comma or newline separated');
  if (regions.length === 0) {
    const fallback = (env.AWS_REGION || env.AWS_DEFAULT_REGION || '').trim();
    if (!fallback) throw new InputError('regions', 'no region given: set the input, or AWS_REGION (aws-actions/configure-aws-credentials sets it)');
    if (!REGION.test(fallback)) throw new InputError('regions', `the runner's region ${JSON.stringify(fallback)} is not valid: expected a code such as us-east-1`);
    regions = [fallback];
  }

  const ageText = core.getInput('min-release-age').trim() || '0';
  const ageMs = parseDuration(ageText);
  if (ageMs === undefined) throw new InputError('min-release-age', `${JSON.stringify(ageText)} is not a duration: expected ${DURATION_FORM}`);

  return {
    command: command as Command,
    clusters,
    regions,
    nodegroups,
    minReleaseAge: { text: ageText, ms: ageMs },
    failOnDrift: bool('fail-on-drift', false),
    kubeconfig: readKubeconfigPath(core.getInput('kubeconfig').trim()),
  };
}

/** A kubeconfig must be a readable YAML file with clusters, users and contexts. */
function readKubeconfigPath(path: string): string | null {
  if (!path) return null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError('kubeconfig', `cannot read ${path}: ${(error as Error).message}; expected the path of a kubeconfig file`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new InputError('kubeconfig', `${path} is not YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const config = doc as Record<string, unknown> | null;
  const missing = ['clusters', 'users', 'contexts'].filter((k) => !Array.isArray(config?.[k]));
  if (typeof doc !== 'object' || doc === null || missing.length > 0) {
    throw new InputError('kubeconfig', `${path} is not a kubeconfig: expected a YAML mapping with lists ${missing.join(', ')}`);
  }
  return path;
}
