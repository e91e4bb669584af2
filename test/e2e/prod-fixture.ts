import { renderManifest } from '../../src/repo/manifest.js';
import type { FleetSpec, SimCluster, SimOptions } from '../sim/fleet.js';
import type { GitHubSpec } from '../sim/github.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { startSimulator, type Simulator } from '../sim/server.js';

/**
 * The upgrade tests' cluster: `prod` (us-east-1, 1.33) with two node groups a release behind the
 * changelog's latest, cluster-autoscaler, and its manifest on the default branch.
 */
const al = (type: string) =>
  releasesOf(type, '1.33')
    .slice(-3)
    .map((r) => r.releaseVersion) as [string, string, string];
export const [genOld, genMid, genNew] = al('AL2023_x86_64_STANDARD');
export const [batchOld, , batchNew] = al('AL2023_ARM_64_STANDARD');
export const PROD_MANIFEST = '.github/eks-ami-drift/us-east-1/prod.yaml';

export function prodCluster(extra: Partial<SimCluster> = {}): SimCluster {
  return {
    name: 'prod',
    region: 'us-east-1',
    version: '1.33',
    nodegroups: [
      { name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: genOld, desiredSize: 3 },
      { name: 'batch', amiType: 'AL2023_ARM_64_STANDARD', version: '1.33', releaseVersion: batchOld, desiredSize: 2 },
    ],
    autoscaler: { namespace: 'kube-system', name: 'cluster-autoscaler', labels: { app: 'cluster-autoscaler' }, replicas: 2 },
    workloads: [{ name: 'api', namespace: 'shop', labels: { app: 'api' }, nodegroup: 'general', replicas: 3 }],
    ...extra,
  };
}

export const prodManifest = (general: string, batch: string) =>
  renderManifest({
    cluster: 'prod',
    region: 'us-east-1',
    nodegroups: { general: { kubernetesVersion: '1.33', releaseVersion: general }, batch: { kubernetesVersion: '1.33', releaseVersion: batch } },
  });

/** The simulator with `c` and the manifest pinning what it runs, on a virtual clock 300 times fast. */
export function startProd(c: SimCluster = prodCluster(), options: SimOptions & { github?: GitHubSpec } = {}): Promise<Simulator> {
  const fleet: FleetSpec = { clusters: [c], parameters: amazonLinuxParameters() };
  return startSimulator(fleet, { clockSpeed: 300, github: { files: { [PROD_MANIFEST]: prodManifest(genOld, batchOld) } }, ...options });
}

/** A person merges a pull request that changes `files` on `branch`: the push an upgrade runs on. Returns the merge commit. */
export function mergeChange(s: Simulator, branch: string, files: Record<string, string>, title: string): string {
  s.github.branch(branch);
  s.github.push(branch, files, 'github-actions[bot]', title);
  return s.github.merge(s.github.openPull(branch, title).number);
}

/** The pull request that pins new releases for prod, merged. */
export const mergeManifestChange = (s: Simulator, general = genNew, batch = batchNew) =>
  mergeChange(s, 'eks-ami-drift/us-east-1/prod', { [PROD_MANIFEST]: prodManifest(general, batch) }, 'eks-ami-drift: upgrade prod');
