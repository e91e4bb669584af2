import { afterEach, describe, expect, it } from '@jest/globals';
import { renderManifest } from '../../src/repo/manifest.js';
import type { UpgradeReport } from '../../src/model/upgrade-report.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import { runAction } from '../sim/run-action.js';
import type { SimKarpenter } from '../sim/karpenter.js';
import { mergeChange } from './prod-fixture.js';
import { readmeRbacRules } from './readme.js';

/*
 * Issue 25's third "Done when", as the bundled action on the simulator: after the merge of a pull request
 * that moves a node class's pin, `upgrade` waits for GitOps to apply the EC2NodeClass, follows
 * Karpenter's drift to nodes on the new image and a passed health gate, and comments on the pull
 * request; GitOps that never applies gives a clear timeout naming the file. With only the RBAC the docs
 * give (rbac and rbac:check).
 */

const OLD = 'al2023@v20260505';
const NEW = 'al2023@v20260625';
const FILE = 'deploy/karpenter/general.yaml';
const MANIFEST = '.github/eks-ami-drift/us-east-1/kp.yaml';
const system = releasesOf('AL2023_x86_64_STANDARD', '1.35').at(-1)!.releaseVersion;

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(karpenter: Partial<SimKarpenter> = {}) {
  sim = await startSimulator(
    {
      clusters: [
        {
          name: 'kp',
          region: 'us-east-1',
          version: '1.35',
          // The system node group, unpinned: left alone.
          nodegroups: [{ name: 'system', amiType: 'AL2023_x86_64_STANDARD', version: '1.35', releaseVersion: system, desiredSize: 2 }],
          autoscaler: { namespace: 'kube-system', name: 'cluster-autoscaler', labels: { app: 'cluster-autoscaler' }, replicas: 2 },
          karpenter: {
            nodeClasses: [{ name: 'general', alias: OLD }],
            nodePools: [
              {
                name: 'general',
                nodeClass: 'general',
                requirements: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }],
                nodes: [{ count: 4 }],
              },
            ],
            gitops: [{ nodeClass: 'general', alias: NEW, afterMinutes: 3 }],
            replaceMinutes: 2,
            ...karpenter,
          },
        },
      ],
      parameters: amazonLinuxParameters(),
    },
    { clockSpeed: 300, github: { files: {} }, faults: { kubeAllow: [...readmeRbacRules(), ...readmeRbacRules('rbac:check')] } },
  );
  const s = sim;
  // The pull request that pins the new alias (and bumps the EC2NodeClass's file), merged.
  const manifest = renderManifest({ cluster: 'kp', region: 'us-east-1', nodegroups: {}, nodeClasses: { general: { alias: NEW, file: FILE } } });
  const sha = mergeChange(s, 'eks-ami-drift/us-east-1/kp', { [MANIFEST]: manifest }, 'eks-ami-drift: upgrade kp');
  const run = (extra: Record<string, string> = {}) =>
    runAction({
      inputs: { command: 'upgrade', regions: 'us-east-1', 'poll-interval': '30s', ...extra },
      env: { ...s.env(), AWS_REGION: 'us-east-1', GITHUB_SHA: sha },
      eventName: 'push',
      clock: s.world.clock,
    });
  return { s, run };
}

const report = (outputs: Record<string, string>) => JSON.parse(outputs.upgrades ?? '{}') as UpgradeReport;

describe('upgrade after a node class pin is merged, as the bundled action', () => {
  it('follows the drift to nodes on the new image and a passed health gate, never pauses cluster-autoscaler, and comments on the pull request', async () => {
    const { s, run } = await start();
    const result = await run();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const r = report(result.outputs);
    expect(r.nodegroups.map((n) => [n.nodegroup, n.result])).toEqual([
      ['system', 'skipped'],
      ['general', 'upgraded'],
    ]);
    expect(r.nodegroups[1]!.reason).toContain(`${OLD} → ${NEW}, 4 NodeClaim(s) on its images (4 replaced by Karpenter); health gate passed`);
    expect(result.stdout).toContain(`plan: kp/general: update: the EC2NodeClass names ${OLD}: would wait for GitOps to apply the EC2NodeClass in ${FILE}`);
    expect(result.stdout).toMatch(/kp\/general: drift · drifted \d · replaced \d\/4 · nodes on the new image \d\/\d/);
    // cluster-autoscaler untouched: no pause, no write to its Deployment.
    expect(r.autoscalers).toEqual([]);
    expect(s.world.autoscalerReplicas(s.world.fleet.clusters[0]!)).toBe(2);
    expect(s.world.kubeOf(s.world.fleet.clusters[0]!).writes).toEqual([]);
    // The result on the merged pull request.
    const pr = s.github.pulls()[0]!;
    expect(pr.comments).toHaveLength(1);
    expect(pr.comments[0]!.body).toContain(result.summary.trim());
    expect(result.summary).toContain('| kp | general | al2023@v20260505 | al2023@v20260625 | ✅ upgraded |');
  });

  it('fails with a timeout that names the file when GitOps never applies the merged alias, changing nothing', async () => {
    const { s, run } = await start({ gitops: [{ nodeClass: 'general', alias: NEW, afterMinutes: null }] });
    const result = await run({ 'wait-timeout': '10m' });
    expect(result.code).toBe(1);
    const entry = report(result.outputs).nodegroups.find((n) => n.nodegroup === 'general')!;
    expect(entry.result).toBe('timed-out');
    expect(entry.reason).toBe(
      `the merged pin ${NEW} was never applied: after 10m (wait-timeout) the cluster's EC2NodeClass general still names ${OLD}. ` +
        `Check that your GitOps (Argo CD, Flux) syncs the EC2NodeClass in ${FILE} to this cluster, then re-run the job; nothing was changed`,
    );
    expect(s.world.kubeOf(s.world.fleet.clusters[0]!).writes).toEqual([]);
    expect(s.github.pulls()[0]!.comments[0]!.body).toContain('⌛ timed-out');
  });

  it('fails with the blocking budget named when the NodePool allows no drift', async () => {
    const { run } = await start({
      nodePools: [
        {
          name: 'general',
          nodeClass: 'general',
          requirements: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }],
          nodes: [{ count: 4 }],
          budgets: [{ nodes: '0', reasons: ['Drifted'] }],
        },
      ],
    });
    const result = await run({ 'wait-timeout': '15m' });
    expect(result.code).toBe(1);
    const entry = report(result.outputs).nodegroups.find((n) => n.nodegroup === 'general')!;
    expect(entry.result).toBe('timed-out');
    expect(entry.reason).toContain('4 of 4 NodeClaim(s) still drifted');
    expect(entry.reason).toContain('a disruption budget blocks drift: NodePool general: budget nodes: "0" allows 0 of 4 node(s) at a time');
  });
});
