/** The description a simulator is started from: what the fleet looks like before anything happens. */
export interface SimNodegroup {
  name: string;
  amiType: string;
  /** Kubernetes minor, `1.31`. */
  version: string;
  releaseVersion: string;
  desiredSize?: number;
  minSize?: number;
  maxSize?: number;
  status?: string;
}

export interface SimCluster {
  name: string;
  region: string;
  /** Control plane's Kubernetes minor. */
  version: string;
  nodegroups: SimNodegroup[];
}

export interface SimParameter {
  name: string;
  value: string;
  /** ISO 8601. */
  lastModified: string;
  /** Regions where it exists; every region when absent. */
  regions?: string[];
}

export interface FleetSpec {
  accountId?: string;
  clusters: SimCluster[];
  parameters: SimParameter[];
}

export interface Faults {
  /** Share (0..1) of AWS requests answered with a throttling error. */
  throttleRate?: number;
  /** Share (0..1) of AWS requests answered with a 5xx. */
  serverErrorRate?: number;
  /** Latency added to every AWS request, in milliseconds. */
  latencyMs?: number;
  /** Requests per second allowed per operation; above it, throttling errors as AWS sends them. */
  rateLimitPerSecond?: number;
  /** IAM actions (`eks:DescribeCluster`) allowed; any other gets AccessDenied. Absent: all allowed. */
  allow?: string[];
  /** Seed of the fault generator, so a run can be repeated. */
  seed?: number;
}

export interface SimOptions {
  /** Items per page of list operations, so clients must follow nextToken. */
  pageSize?: number;
  faults?: Faults;
}
