import { readFileSync, statSync } from 'node:fs';
import { DURATION_FORM, parseDuration } from '../decision/duration.js';
import {
  COMMANDS,
  ON_DRIFT,
  type Command,
  type OnDrift,
  type RoleSettings,
  type Settings,
  type StageSettings,
  type UpgradeSettings,
} from '../model/settings.js';

import { InputError, type InputSource } from './source.js';
import { getAccountSettings } from './accounts.js';

export { InputError, type InputSource } from './source.js';

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
  return [
    ...new Set(
      value
        .split(/[,\n]/)
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

function list(src: InputSource, input: string, pattern: RegExp, form: string): string[] {
  const values = splitList(src.get(input));
  for (const value of values) {
    if (!pattern.test(value)) throw new InputError(input, `${JSON.stringify(value)} is not valid: expected ${form}`);
  }
  return values;
}

function bool(src: InputSource, input: string, fallback: boolean): boolean {
  const value = src.get(input).trim();
  if (value === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw new InputError(input, `${JSON.stringify(value)} is not valid: expected true or false`);
}

export async function parseSettings(src: InputSource): Promise<Settings> {
  const { env } = src;
  const command = src.get('command').trim() || 'check';
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new InputError('command', `${JSON.stringify(command)} is not a command: expected one of ${COMMANDS.join(', ')}`);
  }

  const clusters = list(src, 'clusters', CLUSTER_NAME, 'EKS cluster names (letters, digits, - and _, at most 100 characters), comma or newline separated');
  const nodegroups = list(src, 'nodegroups', NODEGROUP_NAME, 'node group names (letters, digits, - and _, at most 63 characters), comma or newline separated');
  let regions = list(src, 'regions', REGION, 'AWS region codes such as us-east-1, comma or newline separated');
  if (regions.length === 0) {
    const fallback = (env.AWS_REGION || env.AWS_DEFAULT_REGION || '').trim();
    if (!fallback) throw new InputError('regions', 'no region given: set the input, or AWS_REGION (aws-actions/configure-aws-credentials sets it)');
    if (!REGION.test(fallback))
      throw new InputError('regions', `the runner's region ${JSON.stringify(fallback)} is not valid: expected a code such as us-east-1`);
    regions = [fallback];
  }

  const ageText = src.get('min-release-age').trim() || '0';
  const ageMs = parseDuration(ageText);
  if (ageMs === undefined) throw new InputError('min-release-age', `${JSON.stringify(ageText)} is not a duration: expected ${DURATION_FORM}`);

  const onDrift = src.get('on-drift').trim() || 'none';
  if (!(ON_DRIFT as readonly string[]).includes(onDrift)) {
    throw new InputError('on-drift', `${JSON.stringify(onDrift)} is not valid: expected one of ${ON_DRIFT.join(', ')}`);
  }
  const githubToken = src.get('github-token').trim();
  if (githubToken) src.mask(githubToken);
  if (onDrift !== 'none' && !githubToken) {
    throw new InputError('github-token', `on-drift: ${onDrift} needs a token: leave the default (\${{ github.token }}) or pass one`);
  }

  const manifestDir = src.get('manifest-dir').trim().replace(/\/+$/, '') || '.github/eks-ami-drift';
  if (manifestDir.startsWith('/') || manifestDir.split('/').some((part) => part === '..' || part === '') || !/^[\w./-]+$/.test(manifestDir)) {
    throw new InputError(
      'manifest-dir',
      `${JSON.stringify(manifestDir)} is not valid: expected a relative path inside the repository, such as .github/eks-ami-drift`,
    );
  }

  const stages = getStageSettings(src);
  const accounts = getAccountSettings(src, src.get('role-session-name').trim() || 'eks-ami-drift');
  if (accounts && stages) {
    // Each account is checked on its own: a proof read in one account would not see another's earlier stages.
    throw new InputError('stages', 'is not supported with accounts yet: run the staged rollout in one job per account (without accounts)');
  }
  return {
    command: command as Command,
    clusters,
    regions,
    nodegroups,
    minReleaseAge: { text: ageText, ms: ageMs },
    failOnDrift: bool(src, 'fail-on-drift', false),
    kubeconfig: await readKubeconfigPath(src.get('kubeconfig').trim()),
    onDrift: onDrift as OnDrift,
    labels: orDefault(list(src, 'labels', LABEL, 'label names of at most 50 characters, comma or newline separated'), ['eks-ami-drift']),
    assignees: list(src, 'assignees', LOGIN, 'GitHub logins, comma or newline separated'),
    reviewers: list(src, 'reviewers', LOGIN, 'GitHub logins, comma or newline separated'),
    githubToken,
    manifestDir,
    role: getRoleSettings(src),
    accounts,
    stages,
    historyCache: getHistoryCache(src, stages),
    kubeTimeout: getKubeTimeout(src),
    upgrade: getUpgradeSettings(src),
  };
}

/**
 * history-cache: the file where the staged rollout's proof keeps the update history it has read (read
 * when present, written at the end). A path on the runner, never a folder; without stages nothing reads it.
 */
function getHistoryCache(src: InputSource, stages: StageSettings | null): string | null {
  const path = src.get('history-cache').trim();
  if (!path) return null;
  if (!stages)
    throw new InputError(
      'history-cache',
      "is set but stages is not: the record is read by the staged rollout's proof only; set stages, or remove history-cache",
    );
  if (/[\0\n\r]/.test(path) || path.endsWith('/') || path.endsWith('\\'))
    throw new InputError('history-cache', `${JSON.stringify(path)} is not a file path: expected a path such as .eks-ami-drift/history.json`);
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // Not there yet: the first run writes it.
  }
  if (isDirectory) throw new InputError('history-cache', `${path} is a folder: expected the path of a file, such as ${path}/history.json`);
  return path;
}

/**
 * role-to-assume: the role's ARN; its session lasts role-duration (STS allows 15 minutes up to the
 * role's MaxSessionDuration, at most 12 hours), renewed by the action for as long as the job runs.
 */
function getRoleSettings(src: InputSource): RoleSettings | null {
  const roleArn = src.get('role-to-assume').trim();
  if (!roleArn) return null;
  if (!ROLE_ARN.test(roleArn))
    throw new InputError('role-to-assume', `${JSON.stringify(roleArn)} is not a role ARN: expected arn:aws:iam::123456789012:role/name`);
  const sessionName = src.get('role-session-name').trim() || 'eks-ami-drift';
  if (!SESSION_NAME.test(sessionName)) {
    throw new InputError('role-session-name', `${JSON.stringify(sessionName)} is not valid: expected 2 to 64 letters, digits or _+=,.@-`);
  }
  const durationMs = duration(src, 'role-duration', '1h');
  if (durationMs < 15 * 60_000 || durationMs > 12 * 3600_000 || durationMs % 1000 !== 0) {
    throw new InputError(
      'role-duration',
      `${JSON.stringify(src.get('role-duration').trim())} is not valid: ` +
        "expected a duration from 15m to 12h (at most the role's MaxSessionDuration), such as 1h",
    );
  }
  const audience = src.get('audience').trim() || 'sts.amazonaws.com';
  if (/\s/.test(audience))
    throw new InputError(
      'audience',
      `${JSON.stringify(audience)} is not valid: expected the audience the role's trust policy names, such as sts.amazonaws.com`,
    );
  return { roleArn, sessionName, durationSeconds: durationMs / 1000, audience };
}

/**
 * stages: the rollout's stages in order (canary first); stage-tag: the EKS cluster tag that names a
 * cluster's stage; stage-soak: how long every node group of the earlier stages must have run a train.
 */
function getStageSettings(src: InputSource): StageSettings | null {
  const names = list(
    src,
    'stages',
    STAGE_NAME,
    'stage names in rollout order (letters, digits and + = . _ : / @ -), comma or newline separated, such as canary, staging, production',
  );
  const tagText = src.get('stage-tag').trim();
  const soakText = src.get('stage-soak').trim();
  if (names.length === 0) {
    for (const [input, text] of [
      ['stage-tag', tagText],
      ['stage-soak', soakText],
    ] as const) {
      if (text)
        throw new InputError(input, `is set but stages is not: set stages (such as canary, staging, production) to roll out in stages, or remove ${input}`);
    }
    return null;
  }
  if (names.length < 2)
    throw new InputError(
      'stages',
      `${JSON.stringify(names.join(', '))} is one stage: expected at least two, in rollout order, such as canary, staging, production`,
    );
  const lower = names.map((n) => n.toLowerCase());
  const twice = names.find((n, i) => lower.indexOf(n.toLowerCase()) !== i);
  if (twice) throw new InputError('stages', `${JSON.stringify(twice)} is named twice (stage names are compared without case): expected distinct stage names`);
  const tag = tagText || 'eks-ami-drift/stage';
  if (!TAG_KEY.test(tag))
    throw new InputError(
      'stage-tag',
      `${JSON.stringify(tag)} is not a tag key: expected up to 128 letters, digits and + = . _ : / @ -, not starting with aws:`,
    );
  return { names, tag, soak: { text: soakText || '3d', ms: duration(src, 'stage-soak', '3d') } };
}

/**
 * kube-timeout: each request to a cluster's Kubernetes API ends within it (connecting within half of
 * it), so an API server that never answers costs that long, not the five minutes undici waits.
 */
function getKubeTimeout(src: InputSource): { text: string; ms: number } {
  const text = src.get('kube-timeout').trim() || '10s';
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1000 || ms > 10 * 60_000) {
    throw new InputError(
      'kube-timeout',
      `${JSON.stringify(text)} is not valid: expected a duration from 1s to 10m, such as 10s or 30s ` +
        "(each request to a cluster's Kubernetes API; connecting may take half of it)",
    );
  }
  return { text, ms };
}

function orDefault(values: string[], fallback: string[]): string[] {
  return values.length > 0 ? values : fallback;
}

function duration(src: InputSource, input: string, fallback: string): number {
  const text = src.get(input).trim() || fallback;
  const ms = parseDuration(text);
  if (ms === undefined) throw new InputError(input, `${JSON.stringify(text)} is not a duration: expected ${DURATION_FORM}`);
  return ms;
}

function getUpgradeSettings(src: InputSource): UpgradeSettings {
  const releaseVersion = src.get('release-version').trim() || null;
  if (releaseVersion && !RELEASE_VERSION.test(releaseVersion)) {
    throw new InputError(
      'release-version',
      `${JSON.stringify(releaseVersion)} is not a release version: expected the form 1.33.13-20260714 (Amazon Linux) or 1.34.0-18d04e52 (Bottlerocket)`,
    );
  }
  const autoscalerText = src.get('cluster-autoscaler').trim() || 'auto';
  let clusterAutoscaler: UpgradeSettings['clusterAutoscaler'] = 'auto';
  if (autoscalerText !== 'auto') {
    const [namespace = '', name = '', extra] = autoscalerText.split('/');
    if (extra !== undefined || !K8S_NAMESPACE.test(namespace) || !K8S_NAME.test(name)) {
      throw new InputError(
        'cluster-autoscaler',
        `${JSON.stringify(autoscalerText)} is not valid: expected auto, or the deployment as namespace/name (for example kube-system/cluster-autoscaler)`,
      );
    }
    clusterAutoscaler = { namespace, name };
  }
  const parallelText = src.get('max-parallel').trim() || '1';
  const maxParallel = Number(parallelText);
  if (!/^\d+$/.test(parallelText) || maxParallel < 1 || maxParallel > 20) {
    throw new InputError(
      'max-parallel',
      `${JSON.stringify(parallelText)} is not valid: expected a whole number from 1 to 20 (node groups of one cluster updated at once)`,
    );
  }
  const waitText = src.get('wait-timeout').trim();
  const pollIntervalMs = duration(src, 'poll-interval', '10s');
  if (pollIntervalMs < 1) throw new InputError('poll-interval', `must be more than 0: expected ${DURATION_FORM}`);
  return {
    dryRun: bool(src, 'dry-run', false),
    force: bool(src, 'force', false),
    releaseVersion,
    followControlPlane: bool(src, 'follow-control-plane', false),
    pauseClusterAutoscaler: bool(src, 'pause-cluster-autoscaler', true),
    clusterAutoscaler,
    maxParallel,
    waitTimeoutMs: waitText ? duration(src, 'wait-timeout', '') : null,
    pollIntervalMs,
    healthTimeoutMs: duration(src, 'health-timeout', '10m'),
    applyNodeClasses: bool(src, 'apply-node-classes', false),
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
