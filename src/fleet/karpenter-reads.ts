import type { ClusterState, NodegroupState } from '../model/fleet.js';
import type { ClusterObjectsKubeApi, KubeApi, KubeObjectJson } from '../model/kube-api.js';
import type { AmiSelectorTerm, DisruptionBudget, NodeClaimRead, NodePoolRead, Requirement, ResolvedAmi } from '../model/karpenter-objects.js';

/*
 * The check's reads of Karpenter and EKS Auto Mode, read-only, at most four list calls a cluster:
 * EC2NodeClasses (every cluster: an API that does not serve them answers 404, and then nothing more is
 * read unless Auto Mode runs the cluster), NodePools and NodeClaims (when a node class exists), the
 * nodes labelled `eks.amazonaws.com/compute-type=auto` (Auto Mode clusters). Each call has the
 * deadlines of kube-timeout (./kube-client.ts).
 */

/** karpenter.k8s.aws/v1 EC2NodeClass, karpenter.sh/v1 NodePool and NodeClaim (Karpenter v1 APIs). */
export const EC2_NODE_CLASSES = { group: 'karpenter.k8s.aws', version: 'v1', plural: 'ec2nodeclasses' } as const;
export const NODE_POOLS = { group: 'karpenter.sh', version: 'v1', plural: 'nodepools' } as const;
export const NODE_CLAIMS = { group: 'karpenter.sh', version: 'v1', plural: 'nodeclaims' } as const;

/**
 * Auto Mode's nodes carry `eks.amazonaws.com/compute-type: auto` (Amazon EKS User Guide, "Control if a
 * workload is deployed on EKS Auto Mode nodes"); its NodePools name a NodeClass of group
 * `eks.amazonaws.com` (User Guide, "Create a Node Pool for EKS Auto Mode").
 */
export const AUTO_MODE_NODE_SELECTOR = 'eks.amazonaws.com/compute-type=auto';
export const AUTO_MODE_NODE_CLASS_GROUP = 'eks.amazonaws.com';
/** Every Karpenter node carries its NodePool's name (karpenter.sh/nodepool, kubernetes-sigs/karpenter pkg/apis/v1 labels.go). */
const NODE_POOL_LABEL = 'karpenter.sh/nodepool';
/** Every node of an EC2NodeClass carries its name (aws/karpenter-provider-aws pkg/apis/v1 labels.go, LabelNodeClass). */
export const NODE_CLASS_LABEL = 'karpenter.k8s.aws/ec2nodeclass';

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function requirements(v: unknown): Requirement[] {
  return arr(v).map((r) => {
    const o = obj(r);
    return { key: str(o.key) ?? '', operator: str(o.operator) ?? '', values: arr(o.values).map(String) };
  });
}

function nodePoolOf(o: KubeObjectJson): NodePoolRead {
  const template = obj(obj(o.spec?.template).spec);
  const ref = obj(template.nodeClassRef);
  const budgets: DisruptionBudget[] = arr(obj(o.spec?.disruption).budgets).map((b) => {
    const x = obj(b);
    return {
      nodes: str(x.nodes) ?? (typeof x.nodes === 'number' ? String(x.nodes) : '10%'),
      schedule: str(x.schedule),
      duration: str(x.duration),
      reasons: Array.isArray(x.reasons) ? x.reasons.map(String) : null,
    };
  });
  return {
    name: o.metadata?.name ?? '',
    nodeClassRef: { group: str(ref.group) ?? '', kind: str(ref.kind) ?? '', name: str(ref.name) ?? '' },
    requirements: requirements(template.requirements),
    expireAfter: str(template.expireAfter),
    budgets,
  };
}

function nodeClaimOf(o: KubeObjectJson): NodeClaimRead {
  const labels = o.metadata?.labels ?? {};
  return {
    name: o.metadata?.name ?? '',
    nodePool: labels[NODE_POOL_LABEL] ?? null,
    nodeClass: str(obj(o.spec?.nodeClassRef).name) ?? labels[NODE_CLASS_LABEL] ?? null,
    imageId: str(o.status?.imageID),
    nodeName: str(o.status?.nodeName),
    ...claimHealth(o),
  };
}

/**
 * A NodeClaim's age and health, for the staged rollout's proof: its creation time, and its root `Ready`
 * condition, True once Launched, Registered and Initialized are (kubernetes-sigs/karpenter
 * pkg/apis/v1/nodeclaim_status.go StatusConditions: status.NewReadyConditions(Launched, Registered, Initialized)).
 */
function claimHealth(o: KubeObjectJson): Pick<NodeClaimRead, 'createdAt' | 'ready'> {
  const at = o.metadata?.creationTimestamp;
  const ready = arr(o.status?.conditions)
    .map(obj)
    .find((c) => c.type === 'Ready');
  return {
    createdAt: at instanceof Date ? at.toISOString() : (str(at) ?? null),
    ready: ready ? ready.status === 'True' : null,
  };
}

function nodeClassOf(o: KubeObjectJson, pools: NodePoolRead[], claims: NodeClaimRead[], cluster: ClusterState): NodegroupState {
  const name = o.metadata?.name ?? '';
  const terms = arr(o.spec?.amiSelectorTerms).map((t) => obj(t) as AmiSelectorTerm);
  const amis: ResolvedAmi[] = arr(o.status?.amis).map((a) => {
    const x = obj(a);
    return { id: str(x.id) ?? '', name: str(x.name), deprecated: x.deprecated === true, requirements: requirements(x.requirements) };
  });
  const ready = arr(o.status?.conditions)
    .map(obj)
    .find((c) => c.type === 'Ready');
  const usedBy = pools.filter((p) => p.nodeClassRef.group === EC2_NODE_CLASSES.group && p.nodeClassRef.name === name);
  return {
    name,
    kind: 'karpenter',
    ...(cluster.version ? { version: cluster.version } : {}),
    nodeClass: {
      name,
      amiFamily: str(o.spec?.amiFamily),
      terms,
      amis,
      ready: ready ? { status: str(ready.status) ?? 'Unknown', message: str(ready.message) } : null,
      nodePools: usedBy,
      nodeClaims: claims.filter((c) => c.nodeClass === name),
    },
  };
}

/** Whether the API answered that it does not serve the resource (Karpenter is not installed). */
const notServed = (error: unknown) => (error as { code?: number }).code === 404;

/**
 * A cluster's EC2NodeClasses (one entry each) and, when EKS Auto Mode runs it, its Auto Mode
 * NodePools (one entry each). Throws what the API answered for anything but a resource not served.
 */
export async function readKarpenter(kube: ClusterObjectsKubeApi & Pick<KubeApi, 'listNodes'>, cluster: ClusterState): Promise<NodegroupState[]> {
  const list = async (r: { group: string; version: string; plural: string }) => {
    try {
      return await kube.listClusterObjects(r.group, r.version, r.plural);
    } catch (error) {
      if (notServed(error)) return [];
      throw error;
    }
  };
  const classes = await list(EC2_NODE_CLASSES);
  if (classes.length === 0 && !cluster.autoMode) return [];
  const [pools, claims, autoNodes] = await Promise.all([
    list(NODE_POOLS).then((items) => items.map(nodePoolOf)),
    classes.length > 0 ? list(NODE_CLAIMS).then((items) => items.map(nodeClaimOf)) : Promise.resolve([]),
    cluster.autoMode ? kube.listNodes(AUTO_MODE_NODE_SELECTOR) : Promise.resolve([]),
  ]);
  const entries = classes.map((o) => nodeClassOf(o, pools, claims, cluster)).sort((a, b) => a.name.localeCompare(b.name));
  if (cluster.autoMode) {
    for (const pool of pools.filter((p) => p.nodeClassRef.group === AUTO_MODE_NODE_CLASS_GROUP)) {
      const nodes = autoNodes
        .filter((n) => n.metadata?.labels?.[NODE_POOL_LABEL] === pool.name)
        .map((n) => {
          const at = n.metadata?.creationTimestamp as Date | string | undefined;
          return { name: n.metadata?.name ?? '', createdAt: at ? new Date(at).toISOString() : null };
        });
      entries.push({ name: pool.name, kind: 'auto-mode', ...(cluster.version ? { version: cluster.version } : {}), autoModePool: { pool, nodes } });
    }
  }
  return entries;
}
