import * as core from '@actions/core';
import { readFileSync } from 'node:fs';
import { DURATION_FORM, parseDuration } from './decision/duration.js';
import type { RoleSettings } from './fleet/credentials.js';
import type { StageSettings } from './decision/stages.js';

export const COMMANDS = ['check', 'upgrade', 'restore'] as const;
export type Command = (typeof COMMANDS)[number];
export const ON_DRIFT = ['none', 'issue', 'pull-request'] as const;
export type OnDrift = (typeof ON_DRIFT)[number];

/** The action's inputs as one typed, validated object. No other module calls `core.getInput`. */
export interface Settings {
  command: Command;
  clusters: string[];
  regions: string[];
  nodegroups: string[];
  minReleaseAge: { text: string; ms: number };
  failOnDrift: boolean;
  kubeconfig: string | null;
  /** What the check does on drift. */
  onDrift: OnDrift;
  labels: string[];
  assignees: string[];
  reviewers: string[];
  /** Masked as soon as it is read. Empty when not given (then nothing touches GitHub). */
  githubToken: string;
  manifestDir: string;
  /** role-to-assume and its companions; `null`: the SDK's default credentials. */
  role: RoleSettings | null;
  /** Staged rollouts (the `stages` input); `null`: every cluster is judged on its own, as without stages. */
  stages: StageSettings | null;
  upgrade: UpgradeSettings;
}

export interface UpgradeSettings {
  dryRun: boolean;
  force: boolean;
  /** Explicit target for a manual run. */
  releaseVersion: string | null;
  followControlPlane: boolean;
  pauseClusterAutoscaler: boolean;
  /** `auto`, or the deployment as `namespace/name`. */
  clusterAutoscaler: 'auto' | { namespace: string; name: string };
  maxParallel: number;
  /** `null`: derived from the node count. */
  waitTimeoutMs: number | null;
  pollIntervalMs: number;
  /** How long the health gate waits after each node group's update; 0 turns it off. */
  healthTimeoutMs: number;
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
// GitHub logins: letters, digits and single hyphens, at most 39 characters; apps end in [bot].
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(\[bot\])?$/;
const LABEL = /^[^,\n]{1,50}$/;
// Kubernetes names: DNS labels (namespaces) and DNS subdomains (deployments).
const K8S_NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
// A stage name is a cluster tag's value: EKS allows letters, digits, spaces and + - = . _ : / @; no commas or spaces here.
const STAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9+=._:/@-]{0,63}$/;
// A tag key: up to 128 of the same characters, not starting with aws: (reserved).
const TAG_KEY = /^(?!aws:)[A-Za-z0-9+=._:/@-]{1,128}$/i;
const RELEASE_VERSION = /^\d+\.\d+(\.\d+)?-[0-9A-Za-z][0-9A-Za-z._-]*$/;
// arn:aws:iam::123456789012:role/path/name (any partition).
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
// STS RoleSessionName: 2-64 of letters, digits and _+=,.@-.
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

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

export async function getSettings(env: NodeJS.ProcessEnv = process.env): Promise<Settings> {
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

  const onDrift = core.getInput('on-drift').trim() || 'none';
  if (!(ON_DRIFT as readonly string[]).includes(onDrift)) {
    throw new InputError('on-drift', `${JSON.stringify(onDrift)} is not valid: expected one of ${ON_DRIFT.join(', ')}`);
  }
  const githubToken = core.getInput('github-token').trim();
  if (githubToken) core.setSecret(githubToken);
  if (onDrift !== 'none' && !githubToken) {
    throw new InputError('github-token', `on-drift: ${onDrift} needs a token: leave the default (\${{ github.token }}) or pass one`);
  }

  const manifestDir = core.getInput('manifest-dir').trim().replace(/\/+$/, '') || '.github/eks-ami-drift';
  if (manifestDir.startsWith('/') || manifestDir.split('/').some((part) => part === '..' || part === '') || !/^[\w./-]+$/.test(manifestDir)) {
    throw new InputError('manifest-dir', `${JSON.stringify(manifestDir)} is not valid: expected a relative path inside the repository, such as .github/eks-ami-drift`);
  }

  return {
    command: command as Command,
    clusters,
    regions,
    nodegroups,
    minReleaseAge: { text: ageText, ms: ageMs },
    failOnDrift: bool('fail-on-drift', false),
    kubeconfig: await readKubeconfigPath(core.getInput('kubeconfig').trim()),
    onDrift: onDrift as OnDrift,
    labels: orDefault(list('labels', LABEL, 'label names of at most 50 characters, comma or newline separated'), ['eks-ami-drift']),
    assignees: list('assignees', LOGIN, 'GitHub logins, comma or newline separated'),
    reviewers: list('reviewers', LOGIN, 'GitHub logins, comma or newline separated'),
    githubToken,
    manifestDir,
    role: getRoleSettings(),
    stages: getStageSettings(),
    upgrade: getUpgradeSettings(),
  };
}

/**
 * role-to-assume: the role's ARN; its session lasts role-duration (STS allows 15 minutes up to the
 * role's MaxSessionDuration, at most 12 hours), renewed by the action for as long as the job runs.
 */
function getRoleSettings(): RoleSettings | null {
  const roleArn = core.getInput('role-to-assume').trim();
  if (!roleArn) return null;
  if (!ROLE_ARN.test(roleArn)) throw new InputError('role-to-assume', `${JSON.stringify(roleArn)} is not a role ARN: expected arn:aws:iam::123456789012:role/name`);
  const sessionName = core.getInput('role-session-name').trim() || 'eks-ami-drift';
  if (!SESSION_NAME.test(sessionName)) {
    throw new InputError('role-session-name', `${JSON.stringify(sessionName)} is not valid: expected 2 to 64 letters, digits or _+=,.@-`);
  }
  const durationMs = duration('role-duration', '1h');
  if (durationMs < 15 * 60_000 || durationMs > 12 * 3600_000 || durationMs % 1000 !== 0) {
    throw new InputError('role-duration', `${JSON.stringify(core.getInput('role-duration').trim())} is not valid: expected a duration from 15m to 12h (at most the role's MaxSessionDuration), such as 1h`);
  }
  const audience = core.getInput('audience').trim() || 'sts.amazonaws.com';
  if (/\s/.test(audience)) throw new InputError('audience', `${JSON.stringify(audience)} is not valid: expected the audience the role's trust policy names, such as sts.amazonaws.com`);
  return { roleArn, sessionName, durationSeconds: durationMs / 1000, audience };
}

/**
 * stages: the rollout's stages in order (canary first); stage-tag: the EKS cluster tag that names a
 * cluster's stage; stage-soak: how long every node group of the earlier stages must have run a train.
 */
function getStageSettings(): StageSettings | null {
  const names = list('stages', STAGE_NAME, 'stage names in rollout order (letters, digits and + = . _ : / @ -), comma or newline separated, such as canary, staging, production');
  const tagText = core.getInput('stage-tag').trim();
  const soakText = core.getInput('stage-soak').trim();
  if (names.length === 0) {
    for (const [input, text] of [['stage-tag', tagText], ['stage-soak', soakText]] as const) {
      if (text) throw new InputError(input, `is set but stages is not: set stages (such as canary, staging, production) to roll out in stages, or remove ${input}`);
    }
    return null;
  }
  if (names.length < 2) throw new InputError('stages', `${JSON.stringify(names.join(', '))} is one stage: expected at least two, in rollout order, such as canary, staging, production`);
  const lower = names.map((n) => n.toLowerCase());
  const twice = names.find((n, i) => lower.indexOf(n.toLowerCase()) !== i);
  if (twice) throw new InputError('stages', `${JSON.stringify(twice)} is named twice (stage names are compared without case): expected distinct stage names`);
  const tag = tagText || 'eks-ami-drift/stage';
  if (!TAG_KEY.test(tag)) throw new InputError('stage-tag', `${JSON.stringify(tag)} is not a tag key: expected up to 128 letters, digits and + = . _ : / @ -, not starting with aws:`);
  return { names, tag, soak: { text: soakText || '3d', ms: duration('stage-soak', '3d') } };
}

function orDefault(values: string[], fallback: string[]): string[] {
  return values.length > 0 ? values : fallback;
}

function duration(input: string, fallback: string): number {
  const text = core.getInput(input).trim() || fallback;
  const ms = parseDuration(text);
  if (ms === undefined) throw new InputError(input, `${JSON.stringify(text)} is not a duration: expected ${DURATION_FORM}`);
  return ms;
}

function getUpgradeSettings(): UpgradeSettings {
  const releaseVersion = core.getInput('release-version').trim() || null;
  if (releaseVersion && !RELEASE_VERSION.test(releaseVersion)) {
    throw new InputError('release-version', `${JSON.stringify(releaseVersion)} is not a release version: expected the form 1.33.13-20260714 (Amazon Linux) or 1.34.0-18d04e52 (Bottlerocket)`);
  }
  const autoscalerText = core.getInput('cluster-autoscaler').trim() || 'auto';
  let clusterAutoscaler: UpgradeSettings['clusterAutoscaler'] = 'auto';
  if (autoscalerText !== 'auto') {
    const [namespace = '', name = '', extra] = autoscalerText.split('/');
    if (extra !== undefined || !K8S_NAMESPACE.test(namespace) || !K8S_NAME.test(name)) {
      throw new InputError('cluster-autoscaler', `${JSON.stringify(autoscalerText)} is not valid: expected auto, or the deployment as namespace/name (for example kube-system/cluster-autoscaler)`);
    }
    clusterAutoscaler = { namespace, name };
  }
  const parallelText = core.getInput('max-parallel').trim() || '1';
  const maxParallel = Number(parallelText);
  if (!/^\d+$/.test(parallelText) || maxParallel < 1 || maxParallel > 20) {
    throw new InputError('max-parallel', `${JSON.stringify(parallelText)} is not valid: expected a whole number from 1 to 20 (node groups of one cluster updated at once)`);
  }
  const waitText = core.getInput('wait-timeout').trim();
  const pollIntervalMs = duration('poll-interval', '10s');
  if (pollIntervalMs < 1) throw new InputError('poll-interval', `must be more than 0: expected ${DURATION_FORM}`);
  return {
    dryRun: bool('dry-run', false),
    force: bool('force', false),
    releaseVersion,
    followControlPlane: bool('follow-control-plane', false),
    pauseClusterAutoscaler: bool('pause-cluster-autoscaler', true),
    clusterAutoscaler,
    maxParallel,
    waitTimeoutMs: waitText ? duration('wait-timeout', '') : null,
    pollIntervalMs,
    healthTimeoutMs: duration('health-timeout', '10m'),
  };
}

/** A kubeconfig must be a readable YAML file with clusters, users and contexts. The YAML parser is a chunk of dist/, loaded only then. */
async function readKubeconfigPath(path: string): Promise<string | null> {
  if (!path) return null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError('kubeconfig', `cannot read ${path}: ${(error as Error).message}; expected the path of a kubeconfig file`);
  }
  let doc: unknown;
  try {
    const { parse } = await import('yaml');
    doc = parse(text);
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
