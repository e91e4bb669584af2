import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The bundled action's directory. */
export const DIST_DIR = fileURLToPath(new URL('../../dist/', import.meta.url));

/**
 * What a file of dist/ holds, told by names only that code has (minified code keeps operation names,
 * method names and messages). Webpack may join several in one chunk.
 */
export const CHUNK_MARKERS = {
  eks: [/AssociateEncryptionConfig/, 'EKS client, SDK core, credential chain'],
  ssm: [/DeleteMaintenanceWindow/, 'SSM client'],
  autoscaling: [/AttachLoadBalancerTargetGroups/, 'Auto Scaling client'],
  ec2: [/AcceptAddressTransfer/, 'EC2 client'],
  kubernetes: [/V1PodDisruptionBudget|readNamespacedPodLog/, 'Kubernetes client'],
  github: [/Octokit/, 'GitHub client'],
  yaml: [/LineCounter/, 'YAML parser'],
  decisions: [/has no AMI for Kubernetes/, 'decisions (drift, stages, releases)'],
  check: [/fail-on-drift is true/, 'check command'],
  upgrade: [/commenting the result on the merged pull request/, 'upgrade command'],
  restore: [/nothing to restore/, 'restore command'],
  post: [/post step:/, 'post step'],
  cli: [/--output-file/, 'command line'],
} as const satisfies Record<string, readonly [RegExp, string]>;

export type Holding = keyof typeof CHUNK_MARKERS;

/** What the file holds, by the markers it has. */
export function holdings(file: string): Holding[] {
  const text = readFileSync(join(DIST_DIR, file), 'utf8');
  return (Object.keys(CHUNK_MARKERS) as Holding[]).filter((k) => CHUNK_MARKERS[k][0].test(text));
}

/**
 * A module hook for a run of dist/ (`nodeArgs`): it records each file of dist/ the process loads.
 * `loaded()` reads them back, in order.
 */
export function loadRecorder(): { nodeArgs: string[]; loaded: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'eks-ami-drift-loaded-'));
  const record = join(dir, 'loaded');
  const hook = join(dir, 'hook.mjs');
  writeFileSync(record, '');
  writeFileSync(
    hook,
    `import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';
registerHooks({
  load(url, context, next) {
    if (url.startsWith(${JSON.stringify(pathToFileURL(DIST_DIR).href)})) appendFileSync(${JSON.stringify(record)}, url.slice(url.lastIndexOf('/') + 1) + '\\n');
    return next(url, context);
  },
});
`,
  );
  return { nodeArgs: ['--import', hook], loaded: () => readFileSync(record, 'utf8').split('\n').filter(Boolean) };
}
