import { describe, expect, it } from '@jest/globals';
import { renderManifest } from '../../src/repo/manifest.js';
import type { UpgradeReport } from '../../src/model/upgrade-report.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { runAction } from '../sim/run-action.js';
import { startSimulator } from '../sim/server.js';

const [from, , to] = releasesOf('AL2023_x86_64_STANDARD', '1.33')
  .slice(-3)
  .map((r) => r.releaseVersion) as [string, string, string];
const PATH = '.github/eks-ami-drift/us-east-1/prod.yaml';
const manifest = (release: string) =>
  renderManifest({ cluster: 'prod', region: 'us-east-1', nodegroups: { general: { kubernetesVersion: '1.33', releaseVersion: release } } });

/**
 * Kills the upgrade (SIGTERM, as a cancelled job or a lost runner) when its log shows `moment`, then
 * runs the post step and the job again, and checks what a person would: cluster-autoscaler back at its
 * count, one update only, the node group at the target.
 */
async function killAt(moment: RegExp) {
  const sim = await startSimulator(
    {
      clusters: [
        {
          name: 'prod',
          region: 'us-east-1',
          version: '1.33',
          nodegroups: [{ name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: from, desiredSize: 2 }],
          autoscaler: { namespace: 'kube-system', name: 'cluster-autoscaler', labels: { app: 'cluster-autoscaler' }, replicas: 3 },
        },
      ],
      parameters: amazonLinuxParameters(),
    },
    { clockSpeed: 40, github: { files: { [PATH]: manifest(from) } } },
  );
  try {
    const sha = sim.github.push('main', { [PATH]: manifest(to) });
    const env = { ...sim.env(), AWS_REGION: 'us-east-1', GITHUB_SHA: sha };
    const inputs = { command: 'upgrade', regions: 'us-east-1', 'poll-interval': '100ms' };
    const replicas = () => [...sim.world.kubeOf(sim.world.fleet.clusters[0]!).deployments.values()][0]!.spec?.replicas;
    const killed = await runAction({ inputs, env, eventName: 'push', killWhen: moment });
    const pausedWhenKilled = replicas();
    const post = await runAction({ inputs, env, eventName: 'push', postOf: killed });
    const afterPost = replicas();
    const rerun = await runAction({ inputs, env, eventName: 'push' });
    return {
      killed,
      pausedWhenKilled,
      post,
      afterPost,
      rerun,
      result: JSON.parse(rerun.outputs.upgrades ?? '{}') as UpgradeReport,
      replicas: replicas(),
      updateCalls: sim.log.filter((l) => l.operation === 'UpdateNodegroupVersion').length,
      updates: sim.world.updates.length,
      release: sim.world.fleet.clusters[0]!.nodegroups[0]!.releaseVersion,
      status: sim.world.fleet.clusters[0]!.nodegroups[0]!.status,
      // What EKS's update met: cluster-autoscaler's replicas at each phase, and whether it grew the group in scale down.
      phaseReplicas: sim.world.updates[0]?.autoscalerReplicas ?? [],
      interfered: sim.world.updates[0]?.autoscalerInterfered ?? false,
    };
  } finally {
    await sim.close();
  }
}

describe('reliability: the upgrade killed at each moment', () => {
  const moments: [string, RegExp][] = [
    ['right after pausing cluster-autoscaler', /paused cluster-autoscaler/],
    ['during setup', /prod\/general: setup ·/],
    ['during scale up', /prod\/general: scale up ·/],
    ['during upgrade', /prod\/general: upgrade ·/],
    ['during scale down', /prod\/general: scale down ·/],
  ];
  // The runs wait on the simulated EKS, not on the CPU: side by side.
  const all = Promise.all(moments.map(([, re]) => killAt(re)));

  it.each(moments.map(([name], i) => [name, i] as const))(
    '%s: cluster-autoscaler stays at 0 while EKS updates, the post step restores it only once EKS is done, a re-run finishes on one update',
    async (_, i) => {
      const r = (await all)[i]!;
      expect(r.killed.signal).toBe('SIGTERM');
      expect(r.pausedWhenKilled).toBe(0);
      expect(r.post.code).toBe(0);
      // The post step asks EKS: an update still running keeps the pause (held, lease dropped); else it restores.
      const held = r.post.stdout.includes('cluster-autoscaler kube-system/cluster-autoscaler: stays paused: EKS is still updating general');
      const restored = r.post.stdout.includes('cluster-autoscaler kube-system/cluster-autoscaler: restored to 3 replicas');
      expect([held, restored].filter(Boolean)).toHaveLength(1);
      expect(r.afterPost).toBe(held ? 0 : 3);
      // Whichever it was, EKS's update never met cluster-autoscaler.
      expect(r.phaseReplicas.every((n) => n === 0)).toBe(true);
      expect(r.interfered).toBe(false);
      expect(r.rerun.code).toBe(0);
      expect(r.updateCalls).toBeLessThanOrEqual(1);
      expect(r.updates).toBe(1);
      expect([r.release, r.status]).toEqual([to, 'ACTIVE']);
      expect(r.replicas).toBe(3);
      expect(['upgraded', 'up-to-date']).toContain(r.result.nodegroups[0]?.result);
    },
    120_000,
  );
});
