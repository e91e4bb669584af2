import type { ClusterState, NodegroupState } from '../model/fleet.js';
import type { ClusterObjectsKubeApi, KubeApi } from '../model/kube-api.js';
import type { Manifest } from '../model/plan.js';
import { readKarpenter } from '../fleet/karpenter-reads.js';
import { describeKubeError } from '../fleet/kube-errors.js';

/*
 * The upgrade's reads of Karpenter: only in a cluster whose manifest pins node classes (`nodeClasses`),
 * the EC2NodeClasses with their NodePools and NodeClaims (three list calls, the check's RBAC). Each
 * pinned class becomes a node-kind entry the plan decides on (../kinds/karpenter.ts); one that is not in
 * the cluster yet too (GitOps may create it). Without a manifest, nothing is read for node classes.
 */

/** Adds each pinned node class to its cluster's node groups; returns the clusters whose node classes could not be read, with the reason. */
export async function addPinnedNodeClasses(
  clusters: readonly ClusterState[],
  manifests: ReadonlyMap<ClusterState, Manifest | null>,
  kubeFor: (cluster: ClusterState) => KubeApi,
): Promise<{ cluster: ClusterState; error: string }[]> {
  const failed: { cluster: ClusterState; error: string }[] = [];
  await Promise.all(
    clusters.map(async (c) => {
      const pins = Object.keys(manifests.get(c)?.nodeClasses ?? {});
      if (pins.length === 0 || c.error) return;
      try {
        const kube = kubeFor(c) as KubeApi & Partial<ClusterObjectsKubeApi>;
        if (!kube.listClusterObjects) throw new Error('this Kubernetes client cannot read custom objects');
        const entries = await readKarpenter(kube as KubeApi & ClusterObjectsKubeApi, { ...c, autoMode: false });
        for (const name of pins.sort()) {
          const found = entries.find((e) => e.kind === 'karpenter' && e.name === name);
          const missing: NodegroupState = { name, kind: 'karpenter', ...(c.version ? { version: c.version } : {}) };
          c.nodegroups.push(found ?? missing);
        }
      } catch (error) {
        const why = describeKubeError(error) || (error instanceof Error ? error.message : String(error));
        failed.push({
          cluster: c,
          error: `cannot read the EC2NodeClasses its manifest pins (${why}): grant the rbac:check rules of docs/iam-and-rbac.md; nothing was changed for them`,
        });
      }
    }),
  );
  return failed;
}
