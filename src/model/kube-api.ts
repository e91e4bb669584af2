import type { CoreV1Event, V1DaemonSet, V1Deployment, V1Node, V1Pod, V1PodDisruptionBudget, V1ReplicaSet, V1StatefulSet } from '@kubernetes/client-node';

/*
 * The Kubernetes side as the rest of the action sees it: types only. The client itself
 * (../fleet/kube-client.ts, with @kubernetes/client-node, 4 MB of code) is a chunk of dist/ loaded when
 * a command first reaches a cluster's Kubernetes API.
 */

export interface EksToken {
  token: string;
  /** When to build a new one: 10 minutes on, or a minute before the credentials it was signed with expire. */
  renewAt: number;
}

/**
 * How long one request to a cluster's Kubernetes API may take: to connect (TCP, and TLS for https),
 * and in all (connecting, the answer and its body). Both from the `kube-timeout` input.
 */
export interface KubeDeadlines {
  connectMs: number;
  requestMs: number;
}

/** Where and how to reach one cluster's Kubernetes API. */
export interface KubeEndpoint {
  server: string;
  /** Base64 PEM, as DescribeCluster and kubeconfigs give it. */
  caData?: string;
}

/** The Kubernetes calls the action makes, and nothing more (see docs/iam-and-rbac.md, the RBAC). */
export interface KubeApi {
  listNodes(labelSelector: string): Promise<V1Node[]>;
  listPods(fieldSelector: string): Promise<V1Pod[]>;
  listPodDisruptionBudgets(): Promise<V1PodDisruptionBudget[]>;
  /** Every namespace's Deployments: where cluster-autoscaler (or Karpenter) runs is not known in advance. */
  listAllDeployments(): Promise<V1Deployment[]>;
  readDeployment(namespace: string, name: string): Promise<V1Deployment>;
  patchDeployment(namespace: string, name: string, patch: object[]): Promise<V1Deployment>;
  /** The health gate's reads, in every namespace: the workloads behind a node group's pods, and their pods' events. */
  listWorkloads(): Promise<Workloads>;
  listEvents(namespace: string, fieldSelector?: string, limit?: number): Promise<CoreV1Event[]>;
}

/** A cluster-scoped custom object as the API serves it: plain JSON. */
export interface KubeObjectJson {
  metadata?: { name?: string; creationTimestamp?: string | Date; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/**
 * The check's reads of Karpenter's cluster-scoped custom objects (EC2NodeClasses, NodePools,
 * NodeClaims): one list each, with the RBAC of docs/iam-and-rbac.md (`rbac:check`). Apart from
 * KubeApi so that callers of the other reads need none of it.
 */
export interface ClusterObjectsKubeApi {
  /** GET /apis/<group>/<version>/<plural>: every object; throws what the API answered (`code` 404 when the resource is not served). */
  listClusterObjects(group: string, version: string, plural: string): Promise<KubeObjectJson[]>;
}

/**
 * The upgrade's one write of a Karpenter object, under `apply-node-classes` only: an RFC 6902 JSON Patch
 * of a cluster-scoped custom object (an EC2NodeClass's `spec.amiSelectorTerms`), RBAC `patch
 * ec2nodeclasses` (docs/iam-and-rbac.md, `rbac:apply-node-classes`).
 */
export interface ClusterObjectsWriteKubeApi {
  patchClusterObject(group: string, version: string, plural: string, name: string, patch: object[]): Promise<KubeObjectJson>;
  /** Whether the caller may do this (a SelfSubjectAccessReview, as `kubectl auth can-i`). */
  canI(attributes: { verb: string; resource: string; subresource?: string; group?: string }): Promise<boolean>;
}

/**
 * The calls that drain a node (../effects/drain.ts): cordon and taint it, list its pods, evict them
 * through the eviction API (pods/eviction create), and, only under `force` past the drain timeout,
 * delete them. Apart from KubeApi so that callers of the read-only calls need none of them.
 */
export interface DrainKubeApi {
  listPods(fieldSelector: string): Promise<V1Pod[]>;
  readNode(name: string): Promise<V1Node>;
  /** An RFC 6902 JSON Patch of the node. */
  patchNode(name: string, patch: object[]): Promise<V1Node>;
  /** POST a policy/v1 Eviction for the pod; throws what the API answered (`code` 429 while a budget allows no disruption). */
  evictPod(namespace: string, name: string): Promise<void>;
  /** DELETE the pod: no PodDisruptionBudget is asked. */
  deletePod(namespace: string, name: string): Promise<void>;
  /** Whether the caller may do this in every namespace (a SelfSubjectAccessReview, as `kubectl auth can-i`). */
  canI(attributes: { verb: string; resource: string; subresource?: string; group?: string }): Promise<boolean>;
}

/** Every Deployment, StatefulSet, DaemonSet and ReplicaSet of a cluster. */
export interface Workloads {
  deployments: V1Deployment[];
  statefulSets: V1StatefulSet[];
  daemonSets: V1DaemonSet[];
  replicaSets: V1ReplicaSet[];
}
