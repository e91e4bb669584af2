import type { IncomingMessage } from 'node:http';
import type { FleetSpec, SimCluster, SimNodegroup, SimOptions } from './fleet.js';
import type { NodegroupUpdate, World } from './world.js';

/** A reply the HTTP layer writes as is. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One AWS request as the log and counters see it. */
export interface AwsCall {
  service: 'eks' | 'ssm' | 'autoscaling' | 'unknown';
  operation: string;
  region: string;
  params: Record<string, unknown>;
}

export class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** `Credential=AKID/20261121/us-east-1/eks/aws4_request` gives the region and the signing service. */
export function signingScope(req: IncomingMessage): { region: string; service: string } | undefined {
  const m = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization ?? ''));
  return m ? { region: m[1] as string, service: m[2] as string } : undefined;
}

/** Identifies the AWS operation of a request, across the three protocols. */
export function identify(req: IncomingMessage, url: URL, body: string): AwsCall {
  const region = signingScope(req)?.region ?? 'us-east-1';
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    const [prefix, operation = ''] = target.split('.');
    const params = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    return { service: prefix === 'AmazonSSM' ? 'ssm' : 'unknown', operation, region, params };
  }
  if (req.method === 'POST' && String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    const form = Object.fromEntries(new URLSearchParams(body));
    const service = signingScope(req)?.service === 'autoscaling' ? 'autoscaling' : 'unknown';
    return { service, operation: form.Action ?? '', region, params: form };
  }
  return { service: 'eks', ...eksRoute(req.method ?? 'GET', url, body), region };
}

const EKS_ROUTES: [string, RegExp, string][] = [
  ['GET', /^\/clusters$/, 'ListClusters'],
  ['GET', /^\/clusters\/([^/]+)$/, 'DescribeCluster'],
  ['GET', /^\/clusters\/([^/]+)\/node-groups$/, 'ListNodegroups'],
  ['GET', /^\/clusters\/([^/]+)\/node-groups\/([^/]+)$/, 'DescribeNodegroup'],
  ['POST', /^\/clusters\/([^/]+)\/node-groups\/([^/]+)\/update-version$/, 'UpdateNodegroupVersion'],
  ['GET', /^\/clusters\/([^/]+)\/updates\/([^/]+)$/, 'DescribeUpdate'],
  ['GET', /^\/clusters\/([^/]+)\/updates$/, 'ListUpdates'],
];

function eksRoute(method: string, url: URL, body: string): { operation: string; params: Record<string, unknown> } {
  for (const [m, pattern, operation] of EKS_ROUTES) {
    const match = pattern.exec(url.pathname);
    if (m !== method || !match) continue;
    const params: Record<string, unknown> = { ...Object.fromEntries(url.searchParams), ...(body ? JSON.parse(body) : {}) };
    if (match[1] !== undefined) params.name = decodeURIComponent(match[1]);
    if (match[2] !== undefined) params.sub = decodeURIComponent(match[2]);
    return { operation, params };
  }
  return { operation: `${method} ${url.pathname}`, params: {} };
}

/** Which IAM action an operation needs. */
export function iamAction(call: AwsCall): string {
  return `${call.service}:${call.operation}`;
}

/** The simulated AWS account: EKS, SSM and Auto Scaling over one fleet. */
export class AwsState {
  readonly accountId: string;
  readonly pageSize: number;
  constructor(
    readonly fleet: FleetSpec,
    options: SimOptions,
    readonly world: World,
    /** Where each cluster's Kubernetes API is served. */
    readonly kubeEndpoint: (cluster: SimCluster) => string,
  ) {
    this.accountId = fleet.accountId ?? '123456789012';
    this.pageSize = options.pageSize ?? 2;
  }

  handle(call: AwsCall): unknown {
    this.world.advance();
    switch (call.service) {
      case 'eks':
        return this.eks(call);
      case 'ssm':
        return this.ssm(call);
      case 'autoscaling':
        return this.autoscaling(call);
      default:
        throw new AwsError(400, 'UnknownOperationException', `The operation ${call.operation || '(none)'} is not supported by this endpoint.`);
    }
  }

  /** Splits a list into pages of `pageSize`, with an opaque nextToken. */
  private page<T>(items: T[], token: unknown, max: unknown): { items: T[]; nextToken?: string } {
    const start = token === undefined ? 0 : Number(Buffer.from(String(token), 'base64url').toString());
    if (!Number.isInteger(start) || start < 0 || start > items.length) throw new AwsError(400, 'InvalidParameterException', 'The nextToken is not valid.');
    const size = Math.min(this.pageSize, max === undefined ? Infinity : Number(max));
    const end = start + size;
    return { items: items.slice(start, end), ...(end < items.length ? { nextToken: Buffer.from(String(end)).toString('base64url') } : {}) };
  }

  cluster(region: string, name: unknown): SimCluster {
    const cluster = this.fleet.clusters.find((c) => c.region === region && c.name === name);
    if (!cluster) throw new AwsError(404, 'ResourceNotFoundException', `No cluster found for name: ${String(name)}.`);
    return cluster;
  }

  nodegroup(cluster: SimCluster, name: unknown): SimNodegroup {
    const ng = cluster.nodegroups.find((n) => n.name === name);
    if (!ng) throw new AwsError(404, 'ResourceNotFoundException', `No node group found for name: ${String(name)}.`);
    return ng;
  }

  private eks(call: AwsCall): unknown {
    const p = call.params;
    switch (call.operation) {
      case 'ListClusters': {
        const names = this.fleet.clusters.filter((c) => c.region === call.region).map((c) => c.name);
        const { items, nextToken } = this.page(names, p.nextToken, p.maxResults);
        return { clusters: items, ...(nextToken ? { nextToken } : {}) };
      }
      case 'DescribeCluster': {
        const c = this.cluster(call.region, p.name);
        return {
          cluster: {
            name: c.name,
            arn: `arn:aws:eks:${c.region}:${this.accountId}:cluster/${c.name}`,
            version: c.version,
            status: 'ACTIVE',
            endpoint: this.kubeEndpoint(c),
            certificateAuthority: { data: Buffer.from('simulated CA').toString('base64') },
            platformVersion: 'eks.1',
          },
        };
      }
      case 'ListNodegroups': {
        const c = this.cluster(call.region, p.name);
        const { items, nextToken } = this.page(c.nodegroups.map((n) => n.name), p.nextToken, p.maxResults);
        return { nodegroups: items, ...(nextToken ? { nextToken } : {}) };
      }
      case 'DescribeNodegroup': {
        const c = this.cluster(call.region, p.name);
        return { nodegroup: this.describeNodegroup(c, this.nodegroup(c, p.sub)) };
      }
      case 'UpdateNodegroupVersion': {
        const c = this.cluster(call.region, p.name);
        const ng = this.nodegroup(c, p.sub);
        const update = this.world.startUpdate(c, ng, p, (status, code, message) => {
          throw new AwsError(status, code, message);
        });
        return { update: describeUpdate(update) };
      }
      case 'DescribeUpdate': {
        const c = this.cluster(call.region, p.name);
        const update = this.world.updates.find((u) => u.id === p.sub && u.cluster === c && (!p.nodegroupName || u.ng.name === p.nodegroupName));
        if (!update) throw new AwsError(404, 'ResourceNotFoundException', `No update found for ID: ${String(p.sub)}.`);
        return { update: describeUpdate(update) };
      }
      case 'ListUpdates': {
        const c = this.cluster(call.region, p.name);
        const ids = this.world.updates.filter((u) => u.cluster === c && (!p.nodegroupName || u.ng.name === p.nodegroupName)).map((u) => u.id);
        const { items, nextToken } = this.page(ids, p.nextToken, p.maxResults);
        return { updateIds: items, ...(nextToken ? { nextToken } : {}) };
      }
      default:
        throw new AwsError(404, 'UnknownOperationException', `No EKS operation matches ${call.operation}.`);
    }
  }

  describeNodegroup(c: SimCluster, ng: SimNodegroup): Record<string, unknown> {
    const desired = ng.desiredSize ?? 2;
    const asg = this.world.asgOf(ng);
    return {
      nodegroupName: ng.name,
      nodegroupArn: `arn:aws:eks:${c.region}:${this.accountId}:nodegroup/${c.name}/${ng.name}/sim`,
      clusterName: c.name,
      version: ng.version,
      releaseVersion: ng.releaseVersion,
      amiType: ng.amiType,
      status: ng.status ?? 'ACTIVE',
      capacityType: 'ON_DEMAND',
      scalingConfig: { minSize: ng.minSize ?? 1, maxSize: ng.maxSize ?? Math.max(desired, 3), desiredSize: desired },
      updateConfig: { maxUnavailable: 1 },
      resources: { autoScalingGroups: [{ name: asg.name }] },
      health: { issues: [] },
      createdAt: Date.parse('2025-01-01T00:00:00Z') / 1000,
    };
  }

  private ssm(call: AwsCall): unknown {
    const visible = (name: string) =>
      this.fleet.parameters.find((x) => x.name === name && (!x.regions || x.regions.includes(call.region)));
    const shape = (x: NonNullable<ReturnType<typeof visible>>) => ({
      Name: x.name,
      Type: 'String',
      Value: x.value,
      Version: 1,
      LastModifiedDate: Date.parse(x.lastModified) / 1000,
      ARN: `arn:aws:ssm:${call.region}::parameter${x.name}`,
      DataType: 'text',
    });
    switch (call.operation) {
      case 'GetParameter': {
        const x = visible(String(call.params.Name));
        if (!x) throw new AwsError(400, 'ParameterNotFound', '');
        return { Parameter: shape(x) };
      }
      case 'GetParameters': {
        const names = call.params.Names;
        if (!Array.isArray(names) || names.length < 1 || names.length > 10) {
          throw new AwsError(
            400,
            'ValidationException',
            `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10`,
          );
        }
        const found = names.map((n) => visible(String(n)));
        return {
          Parameters: found.filter((x) => x !== undefined).map(shape),
          InvalidParameters: names.filter((_, i) => found[i] === undefined),
        };
      }
      case 'GetParametersByPath': {
        const path = String(call.params.Path ?? '');
        const all = this.fleet.parameters
          .filter((x) => x.name.startsWith(path.endsWith('/') ? path : `${path}/`))
          .filter((x) => call.params.Recursive || !x.name.slice(path.length + 1).includes('/'))
          .filter((x) => visible(x.name));
        const { items, nextToken } = this.page(all, call.params.NextToken, call.params.MaxResults);
        return { Parameters: items.map(shape), ...(nextToken ? { NextToken: nextToken } : {}) };
      }
      default:
        throw new AwsError(400, 'InvalidAction', `The action ${call.operation} is not valid for this web service.`);
    }
  }

  private autoscaling(call: AwsCall): unknown {
    if (call.operation !== 'DescribeAutoScalingGroups') {
      throw new AwsError(400, 'InvalidAction', `The action ${call.operation} is not valid for this web service.`);
    }
    const wanted = Object.entries(call.params)
      .filter(([k]) => k.startsWith('AutoScalingGroupNames.member.'))
      .map(([, v]) => v);
    const groups = this.fleet.clusters
      .filter((c) => c.region === call.region)
      .flatMap((c) => c.nodegroups.map((ng) => this.world.asgOf(ng)))
      .filter((g) => wanted.length === 0 || wanted.includes(g.name));
    return { autoScalingGroups: groups };
  }
}

function describeUpdate(u: NodegroupUpdate): Record<string, unknown> {
  return {
    id: u.id,
    status: u.status,
    type: 'VersionUpdate',
    params: u.params,
    createdAt: u.createdAt / 1000,
    errors: u.errors,
  };
}

/** AWS's three wire formats for one result or error. */
export function encode(call: AwsCall, result: unknown, requestId: string): Reply {
  const base = { 'x-amzn-requestid': requestId };
  if (call.service === 'autoscaling') {
    const groups = (result as { autoScalingGroups: { name: string; min: number; max: number; desired: number }[] }).autoScalingGroups;
    const members = groups
      .map(
        (g) =>
          `<member><AutoScalingGroupName>${g.name}</AutoScalingGroupName><MinSize>${g.min}</MinSize><MaxSize>${g.max}</MaxSize><DesiredCapacity>${g.desired}</DesiredCapacity></member>`,
      )
      .join('');
    return {
      status: 200,
      headers: { ...base, 'content-type': 'text/xml' },
      body: `<DescribeAutoScalingGroupsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><DescribeAutoScalingGroupsResult><AutoScalingGroups>${members}</AutoScalingGroups></DescribeAutoScalingGroupsResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></DescribeAutoScalingGroupsResponse>`,
    };
  }
  const contentType = call.service === 'ssm' ? 'application/x-amz-json-1.1' : 'application/json';
  return { status: 200, headers: { ...base, 'content-type': contentType }, body: JSON.stringify(result) };
}

export function encodeError(call: AwsCall, error: AwsError, requestId: string): Reply {
  const base = { 'x-amzn-requestid': requestId };
  if (call.service === 'autoscaling' || call.service === 'unknown' && error.code === 'InvalidAction') {
    return {
      status: error.status,
      headers: { ...base, 'content-type': 'text/xml' },
      body: `<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type><Code>${error.code}</Code><Message>${xml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  }
  if (call.service === 'ssm' || call.service === 'unknown') {
    return {
      status: error.status,
      headers: { ...base, 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ __type: error.code, message: error.message }),
    };
  }
  return {
    status: error.status,
    headers: { ...base, 'content-type': 'application/json', 'x-amzn-errortype': error.code },
    body: JSON.stringify({ message: error.message }),
  };
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
