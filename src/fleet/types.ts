/** A managed node group as AWS describes it: only the fields the action uses. */
export interface NodegroupState {
  name: string;
  amiType?: string;
  /** Kubernetes version, `1.31`. */
  version?: string;
  releaseVersion?: string;
  status?: string;
  desiredSize?: number;
  /** Set when DescribeNodegroup failed: the AWS error name and message. */
  error?: string;
}

/** A cluster as read from AWS. */
export interface ClusterState {
  name: string;
  region: string;
  /** The control plane's Kubernetes version. */
  version?: string;
  /** The Kubernetes API endpoint and its CA (base64 PEM), from DescribeCluster. */
  endpoint?: string;
  caData?: string;
  /** Set when the cluster could not be read: the AWS error name and message. */
  error?: string;
  /** The node groups read (after the `nodegroups` filter). */
  nodegroups: NodegroupState[];
  /** Every node group name of the cluster, whatever the filter. */
  nodegroupNames?: string[];
}
