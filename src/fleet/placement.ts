import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { KubeApi } from '../model/kube-api.js';
import { blockingBudgets } from '../decision/disruption.js';

/** The label EKS sets on a managed node group's nodes: its name (EKS user guide, managed node update behavior). */
export const NODEGROUP_LABEL = 'eks.amazonaws.com/nodegroup';

/** The cluster's pods and each node group's nodes: what the blockers and the health gate's baseline both read. */
export interface Placement {
  pods: V1Pod[];
  nodes: Record<string, V1Node[]>;
}

export async function readPlacement(kube: KubeApi, nodegroups: readonly string[]): Promise<Placement> {
  const pods = await kube.listPods('status.phase!=Succeeded');
  const nodes: Record<string, V1Node[]> = {};
  for (const ng of nodegroups) nodes[ng] = await kube.listNodes(`${NODEGROUP_LABEL}=${ng}`);
  return { pods, nodes };
}

/**
 * Per node group, the PodDisruptionBudgets that would stop EKS from draining its nodes now: one read
 * of pods and budgets for the cluster, one of nodes per node group (or the placement already read).
 */
export async function readBlockers(kube: KubeApi, nodegroups: readonly string[], read?: Placement): Promise<Record<string, string[]>> {
  const [placement, budgets] = await Promise.all([read ?? readPlacement(kube, nodegroups), kube.listPodDisruptionBudgets()]);
  const result: Record<string, string[]> = {};
  for (const ng of nodegroups) {
    result[ng] = blockingBudgets(placement.pods, budgets, new Set((placement.nodes[ng] ?? []).map((n) => n.metadata?.name ?? ''))).map((b) => b.reason);
  }
  return result;
}

/**
 * Each managed node group's nodes and the OS they report (`status.nodeInfo.osImage`): one list of the
 * cluster's nodes that carry the node group label (an existence selector, Kubernetes "Labels and
 * Selectors": a bare key matches every object with that label), grouped by its value. Read-only.
 */
export async function readNodeOs(kube: KubeApi): Promise<Record<string, { name: string; osImage: string }[]>> {
  const result: Record<string, { name: string; osImage: string }[]> = {};
  for (const node of await kube.listNodes(NODEGROUP_LABEL)) {
    const ng = node.metadata?.labels?.[NODEGROUP_LABEL];
    if (!ng) continue;
    (result[ng] ??= []).push({ name: node.metadata?.name ?? '', osImage: node.status?.nodeInfo?.osImage ?? '' });
  }
  return result;
}
