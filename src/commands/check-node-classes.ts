import type { LimitFunction } from 'p-limit';
import pLimit from 'p-limit';
import type { Clients } from '../clients.js';
import type { ClusterState, NodegroupState } from '../model/fleet.js';
import type { ClusterObjectsKubeApi, KubeApi } from '../model/kube-api.js';
import { readKarpenter } from '../fleet/karpenter-reads.js';
import { describeKubeError, isKubeDeadline } from '../fleet/kube-errors.js';
import { confirmParameters, kindOf } from '../kinds/registry.js';
import { fleetReaders, type RegionRead } from './check-verdicts.js';

/*
 * The node kinds the check reads from Kubernetes (Karpenter EC2NodeClasses, EKS Auto Mode NodePools):
 * read beside the pause look, then their published targets read from SSM, in two rounds (a Karpenter
 * alias's target version is confirmed for every architecture and variant once it is known).
 */

/** A cluster's node-class entries, or why they were not read. */
export type NodeClassesOfCluster = { entries: NodegroupState[] } | { unread: string };

/** Reads a cluster's Karpenter objects through the run's Kubernetes client; best effort, read-only. */
export function nodeClassLook(clients: Clients, unreachable: Map<string, string>) {
  return async (clusters: ClusterState[]): Promise<Map<string, NodeClassesOfCluster>> => {
    const read = new Map<string, NodeClassesOfCluster>();
    const unread = (c: ClusterState, error: unknown) => {
      const reason = describeKubeError(error) || (error instanceof Error ? error.message : String(error));
      read.set(`${c.region}/${c.name}`, { unread: reason });
      if (isKubeDeadline(error) && !unreachable.has(`${c.region}/${c.name}`)) unreachable.set(`${c.region}/${c.name}`, reason);
    };
    try {
      const kubeFor = await clients.kube();
      const limit = pLimit(10);
      await Promise.all(
        clusters.map((c) =>
          limit(async () => {
            try {
              const kube = kubeFor(c) as KubeApi & Partial<ClusterObjectsKubeApi>;
              // Every client the run makes is a KubeClient (../fleet/kube-client.ts), which reads custom objects.
              if (!kube.listClusterObjects) throw new Error('this Kubernetes client cannot read custom objects');
              read.set(`${c.region}/${c.name}`, { entries: await readKarpenter(kube as KubeApi & ClusterObjectsKubeApi, c) });
            } catch (error) {
              unread(c, error);
            }
          }),
        ),
      );
    } catch (error) {
      for (const c of clusters) if (!read.has(`${c.region}/${c.name}`)) unread(c, error);
    }
    return read;
  };
}

/**
 * Adds each cluster's node-class entries to its node groups (so they are classified, counted and
 * reported with them); returns the clusters not looked at, with the reason.
 */
export async function lookAtNodeClasses(
  clusters: ClusterState[],
  look: ((clusters: ClusterState[]) => Promise<Map<string, NodeClassesOfCluster>>) | undefined,
): Promise<string[]> {
  const wanted = clusters.filter((c) => !c.error);
  if (!look || wanted.length === 0) return [];
  const read = await look(wanted);
  const unchecked: string[] = [];
  for (const c of wanted) {
    const got = read.get(`${c.region}/${c.name}`) ?? { unread: 'not read' };
    if ('unread' in got) unchecked.push(`${c.name} (${c.region}): ${got.unread}`);
    else c.nodegroups.push(...got.entries);
  }
  return unchecked;
}

/**
 * The parameters the regions have not read yet (those of the node classes added after the region's
 * reads), then the second round their kinds ask for once the first is read: one GetParameters of up
 * to 10 names per batch each time.
 */
export async function readLateTargets(perRegion: readonly RegionRead[], limit: LimitFunction): Promise<void> {
  await Promise.all(
    perRegion.map(async (r) => {
      const ngs = r.clusters.flatMap((c) => c.nodegroups);
      for (const round of [(ng: NodegroupState) => kindOf(ng).targetParameters(ng), (ng: NodegroupState) => confirmParameters(ng, (p) => r.latest.get(p))]) {
        const wanted = ngs.flatMap(round).filter((q) => !r.latest.has(q.parameter));
        if (wanted.length === 0) continue;
        for (const q of wanted) r.requests.set(q.parameter, q);
        const { readLatestReleases } = await fleetReaders();
        for (const [name, value] of await readLatestReleases(r.clients.ssm, [...new Map(wanted.map((q) => [q.parameter, q])).values()], limit)) {
          r.latest.set(name, value);
        }
      }
    }),
  );
}
