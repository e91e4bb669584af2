import type { LiveGroup, ScalingActivity } from './asg.js';
import type { IncomingMessage } from 'node:http';
import type { FleetSpec, SimCluster, SimNodegroup, SimOptions, SimSelfManaged } from './fleet.js';
import type { SimImage, SimTemplate, SimTemplateVersion } from './images.js';
import { architectureOf, imageParameterOf, releaseImageOf } from './images.js';
import { historyOf, releasesOf } from './releases.js';
import { ParameterError } from './account-parameters.js';
import { createHash } from 'node:crypto';
import type { NodegroupUpdate, World } from './world.js';
import type { Identity } from './identity.js';
import { registerParameterLookup } from './karpenter.js';

/** A reply the HTTP layer writes as is. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One AWS request as the log and counters see it. */
export interface AwsCall {
  service: 'eks' | 'ssm' | 'autoscaling' | 'ec2' | 'sts' | 'unknown';
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
    const scope = signingScope(req)?.service;
    // AssumeRoleWithWebIdentity is sent unsigned (STS API reference: it needs no AWS credentials).
    const service = scope === 'autoscaling' || scope === 'ec2' || scope === 'sts' ? scope : form.Action === 'AssumeRoleWithWebIdentity' ? 'sts' : 'unknown';
    return { service, operation: form.Action ?? '', region, params: form };
  }
  return { service: 'eks', ...eksRoute(req.method ?? 'GET', url, body), region };
}

const EKS_ROUTES: [string, RegExp, string][] = [
  ['GET', /^\/clusters$/, 'ListClusters'],
  ['GET', /^\/cluster-versions$/, 'DescribeClusterVersions'],
  ['GET', /^\/clusters\/([^/]+)$/, 'DescribeCluster'],
  ['GET', /^\/clusters\/([^/]+)\/node-groups$/, 'ListNodegroups'],
  ['GET', /^\/clusters\/([^/]+)\/node-groups\/([^/]+)$/, 'DescribeNodegroup'],
  ['POST', /^\/clusters\/([^/]+)\/node-groups\/([^/]+)\/update-version$/, 'UpdateNodegroupVersion'],
  ['GET', /^\/clusters\/([^/]+)\/updates\/([^/]+)$/, 'DescribeUpdate'],
  ['GET', /^\/clusters\/([^/]+)\/updates$/, 'ListUpdates'],
  ['POST', /^\/tags\/([^/]+)$/, 'TagResource'],
  ['DELETE', /^\/tags\/([^/]+)$/, 'UntagResource'],
];

function eksRoute(method: string, url: URL, body: string): { operation: string; params: Record<string, unknown> } {
  for (const [m, pattern, operation] of EKS_ROUTES) {
    const match = pattern.exec(url.pathname);
    if (m !== method || !match) continue;
    const params: Record<string, unknown> = { ...Object.fromEntries(url.searchParams), ...(body ? (JSON.parse(body) as Record<string, unknown>) : {}) };
    if (url.searchParams.has('tagKeys')) params.tagKeys = url.searchParams.getAll('tagKeys');
    if (url.searchParams.has('clusterVersions')) params.clusterVersions = url.searchParams.getAll('clusterVersions');
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

/**
 * EKS's end of standard and extended support per Kubernetes version (EKS user guide, Kubernetes version
 * lifecycle: 14 months standard, then 12 months extended; dates as endoflife.date/amazon-eks lists them).
 */
export const EKS_VERSION_CALENDAR = [
  { version: '1.29', endOfStandardSupport: '2025-03-23', endOfExtendedSupport: '2026-03-23' },
  { version: '1.30', endOfStandardSupport: '2025-07-23', endOfExtendedSupport: '2026-07-23' },
  { version: '1.31', endOfStandardSupport: '2025-11-26', endOfExtendedSupport: '2026-11-26' },
  { version: '1.32', endOfStandardSupport: '2026-03-23', endOfExtendedSupport: '2027-03-23' },
  { version: '1.33', endOfStandardSupport: '2026-07-29', endOfExtendedSupport: '2027-07-29' },
  { version: '1.34', endOfStandardSupport: '2026-12-02', endOfExtendedSupport: '2027-12-02' },
  { version: '1.35', endOfStandardSupport: '2027-03-27', endOfExtendedSupport: '2028-03-27' },
];

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
    readonly identity: Identity,
    /** Whether the caller's IAM policy allows an action (`ec2:RunInstances`). */
    readonly allowed: (action: string) => boolean,
  ) {
    this.accountId = fleet.accountId ?? '123456789012';
    this.pageSize = options.pageSize ?? 2;
    // Karpenter resolves its aliases through this SSM (./karpenter.ts).
    registerParameterLookup(world, (region, name) => this.parameter(region, name));
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
      case 'ec2':
        return this.ec2(call);
      case 'sts':
        return this.sts(call);
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
      case 'DescribeClusterVersions': {
        // EKS API reference, DescribeClusterVersions: clusterVersions[] with endOfStandardSupportDate and
        // endOfExtendedSupportDate, paged by nextToken; `clusterVersions` narrows it to those versions.
        const wanted = Array.isArray(p.clusterVersions) ? p.clusterVersions.map(String) : undefined;
        const all = (this.fleet.clusterVersions ?? EKS_VERSION_CALENDAR).filter((v) => !wanted || wanted.includes(v.version));
        const { items, nextToken } = this.page(all, p.nextToken, p.maxResults);
        const at = (d: string) => Date.parse(`${d}T00:00:00Z`) / 1000;
        return {
          clusterVersions: items.map((v) => ({
            clusterVersion: v.version,
            clusterType: 'eks',
            endOfStandardSupportDate: at(v.endOfStandardSupport),
            endOfExtendedSupportDate: at(v.endOfExtendedSupport),
            versionStatus: Date.now() / 1000 < at(v.endOfStandardSupport) ? 'STANDARD_SUPPORT' : 'EXTENDED_SUPPORT',
          })),
          ...(nextToken ? { nextToken } : {}),
        };
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
            // EKS API reference, DescribeCluster: the Cluster object carries the cluster's `tags`.
            tags: { ...(c.tags ?? {}) },
            // EKS Auto Mode: computeConfig (EKS API reference, ComputeConfigResponse: enabled, nodePools, nodeRoleArn).
            ...(c.autoMode
              ? {
                  computeConfig: {
                    enabled: true,
                    nodePools: ['general-purpose', 'system'],
                    nodeRoleArn: `arn:aws:iam::${this.accountId}:role/AmazonEKSAutoNodeRole`,
                  },
                }
              : {}),
          },
        };
      }
      case 'ListNodegroups': {
        const c = this.cluster(call.region, p.name);
        const { items, nextToken } = this.page(
          c.nodegroups.map((n) => n.name),
          p.nextToken,
          p.maxResults,
        );
        return { nodegroups: items, ...(nextToken ? { nextToken } : {}) };
      }
      case 'DescribeNodegroup': {
        const c = this.cluster(call.region, p.name);
        return { nodegroup: this.describeNodegroup(c, this.nodegroup(c, p.sub)) };
      }
      case 'UpdateNodegroupVersion': {
        const c = this.cluster(call.region, p.name);
        const ng = this.nodegroup(c, p.sub);
        // "When upgrading managed node groups with Capacity Blocks, make sure that the desired size of
        // the node group is set to 0" (EKS user guide, Capacity Blocks for managed node groups). What
        // EKS answers otherwise is UNVERIFIED: modelled as a refusal.
        if (ng.capacityType === 'CAPACITY_BLOCK' && (ng.desiredSize ?? 2) > 0)
          throw new AwsError(400, 'InvalidRequestException', `Node group ${ng.name} uses a Capacity Block: set its desired size to 0 before updating it.`);
        if (ng.launchTemplate) {
          // EKS acts on the launch template as the caller (EKS user guide, launch templates: the caller
          // of UpdateNodegroupVersion needs ec2:RunInstances and ec2:CreateTags when the template has
          // tag specifications; re:Post: "You are not authorized to describe the launch template
          // version" without ec2:DescribeLaunchTemplateVersions). The second text is UNVERIFIED.
          if (!this.allowed('ec2:DescribeLaunchTemplateVersions'))
            throw new AwsError(400, 'InvalidRequestException', 'You are not authorized to describe the launch template version.');
          if (ng.launchTemplate.tagSpecifications && !(this.allowed('ec2:RunInstances') && this.allowed('ec2:CreateTags'))) {
            throw new AwsError(
              400,
              'InvalidRequestException',
              'You are not authorized to launch instances with this launch template. Encoded authorization failure message: sim',
            );
          }
        }
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
        // No documented order, and users see a random one (aws/containers-roadmap#1439): a fixed
        // shuffle (by a hash of each id), so pages agree with each other but not with time; or, as a
        // fault, oldest first (the newest last). Every update of the node group, ConfigUpdates too
        // (EKS API reference, ListUpdates: "the updates associated with an Amazon EKS resource").
        const shuffled = (id: string) => createHash('sha1').update(id).digest('hex');
        const mine = this.world.updates.filter((u) => u.cluster === c && (!p.nodegroupName || u.ng.name === p.nodegroupName));
        const ids =
          this.world.options.faults?.updatesListed === 'newest-last'
            ? [...mine].sort((a, b) => a.createdAt - b.createdAt).map((u) => u.id)
            : mine.map((u) => u.id).sort((a, b) => shuffled(a).localeCompare(shuffled(b)));
        const { items, nextToken } = this.page(ids, p.nextToken, p.maxResults);
        return { updateIds: items, ...(nextToken ? { nextToken } : {}) };
      }
      case 'TagResource':
      case 'UntagResource': {
        // A node group's ARN: arn:aws:eks:<region>:<account>:nodegroup/<cluster>/<name>/<uuid>.
        const m = /^arn:aws[\w-]*:eks:([^:]+):\d+:nodegroup\/([^/]+)\/([^/]+)\/[^/]+$/.exec(String(p.name));
        if (!m || m[1] !== call.region) throw new AwsError(400, 'BadRequestException', `Invalid resource ARN: ${String(p.name)}`);
        const ng = this.nodegroup(this.cluster(call.region, m[2]), m[3]);
        ng.tags ??= {};
        if (call.operation === 'UntagResource') {
          for (const k of (p.tagKeys as string[] | undefined) ?? []) delete ng.tags[k];
          return {};
        }
        // EKS's tag restrictions: at most 50 tags, keys of 128 and values of 256 characters, letters,
        // digits, spaces and + - = . _ : / @ (EKS API reference, TagResource; CloudFormation
        // AWS::EKS::* Tag: "basic restrictions").
        const tags = (p.tags ?? {}) as Record<string, string>;
        for (const [k, v] of Object.entries(tags)) {
          if (k.length > 128 || v.length > 256 || !/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u.test(`${k}${v}`))
            throw new AwsError(400, 'BadRequestException', `Tag ${k} does not satisfy the tag restrictions.`);
        }
        if (Object.keys({ ...ng.tags, ...tags }).length > 50) throw new AwsError(400, 'BadRequestException', 'A resource can have at most 50 tags.');
        Object.assign(ng.tags, tags);
        return {};
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
      capacityType: ng.capacityType ?? 'ON_DEMAND',
      scalingConfig: { minSize: ng.minSize ?? 1, maxSize: ng.maxSize ?? Math.max(desired, 3), desiredSize: desired },
      updateConfig: ng.updateConfig ?? { maxUnavailable: 1 },
      ...(ng.nodeRepair !== undefined ? { nodeRepairConfig: { enabled: ng.nodeRepair } } : {}),
      resources: { autoScalingGroups: [{ name: asg.name }] },
      subnets: ['subnet-0sim0000000000001', 'subnet-0sim0000000000002'],
      instanceTypes: ['m5.large'],
      ...(ng.launchTemplate ? { launchTemplate: { id: ng.launchTemplate.id, name: ng.launchTemplate.name, version: ng.launchTemplate.version } } : {}),
      health: { issues: [] },
      tags: { ...(ng.tags ?? {}) },
      // Nodegroup.createdAt: "The Unix epoch timestamp at object creation" (EKS API reference, Nodegroup).
      createdAt: this.world.createdAt(ng) / 1000,
    };
  }

  /** A parameter as SSM answers it in a region, or undefined. */
  private parameter(region: string, name: string) {
    // AWS publishes the AMI id next to each release (`.../recommended/image_id`, `.../latest/image_id`):
    // synthesized from the release parameter, with the id of that image in the asked region.
    const copied = (image: string) => !this.fleet.unpublished?.some((u) => u.image === image && u.regions.includes(region));
    const imageParameter = () => {
      for (const x of this.fleet.parameters) {
        const sibling = name.endsWith('/image_id') ? imageParameterOf(x.name, x.value) : undefined;
        if (sibling?.parameter === name && copied(sibling.name)) return { ...x, name, value: this.world.images.aws(region, sibling.name).id };
      }
      return undefined;
    };
    // A release's own image_id parameter exists where its image was copied, for a release AWS made:
    // one of the changelog's (test/fixtures) or one a recommended parameter names.
    const releaseImage = () => {
      const of = releaseImageOf(name);
      if (!of || !copied(of.name)) return undefined;
      const made = of.date
        ? releasesOf(of.amiType, of.minor).some((r) => r.tag === `v${of.date}`) || this.fleet.parameters.some((p) => p.value.endsWith(`-${of.date}`))
        : true;
      return made
        ? { name, value: this.world.images.aws(region, of.name).id, lastModified: this.world.images.aws(region, of.name).createdAt, regions: undefined }
        : undefined;
    };
    return [this.fleet.parameters.find((x) => x.name === name), imageParameter(), releaseImage()].find(
      (x) => x !== undefined && (!x.regions || x.regions.includes(region)),
    );
  }

  private ssm(call: AwsCall): unknown {
    const visible = (name: string) => this.parameter(call.region, name);
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
      case 'GetParameterHistory': {
        // Every value the parameter has held, one version each. For an Amazon Linux
        // recommended/release_version parameter: each release of its AMI type and minor up to the
        // current one (the changelog's, test/fixtures). Whether AWS answers this for its public
        // parameters is UNVERIFIED: faults.publicParameterHistory 'refused' models the other answer.
        const name = String(call.params.Name ?? '');
        const x = visible(name);
        if (!x) throw new AwsError(400, 'ParameterNotFound', '');
        if (this.world.options.faults?.publicParameterHistory === 'refused' && name.startsWith('/aws/service/')) {
          throw new AwsError(
            400,
            'AccessDeniedException',
            `User: arn:aws:sts::${this.accountId}:assumed-role/sim/sim is not authorized to perform: ssm:GetParameterHistory ` +
              `on resource: arn:aws:ssm:${call.region}::parameter${name}`,
          );
        }
        const values = historyOf(name, x.value, x.lastModified);
        const { items, nextToken } = this.page(values, call.params.NextToken, call.params.MaxResults);
        return {
          Parameters: items.map((v) => ({
            Name: name,
            Type: 'String',
            Value: v.value,
            Version: v.version,
            LastModifiedDate: Date.parse(v.lastModified) / 1000,
            DataType: 'text',
          })),
          ...(nextToken ? { NextToken: nextToken } : {}),
        };
      }
      case 'GetParametersByPath': {
        const path = String(call.params.Path ?? '');
        // MaxResults: 1 to 10 (SSM API reference, GetParametersByPath).
        if (call.params.MaxResults !== undefined && (Number(call.params.MaxResults) < 1 || Number(call.params.MaxResults) > 10)) {
          throw new AwsError(
            400,
            'ValidationException',
            `1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must be less than or equal to 10`,
          );
        }
        const all = this.fleet.parameters
          .filter((x) => x.name.startsWith(path.endsWith('/') ? path : `${path}/`))
          .filter((x) => call.params.Recursive || !x.name.slice(path.length + 1).includes('/'))
          .filter((x) => visible(x.name))
          .map(shape);
        // The account's own parameters (PutParameter), after AWS's public ones.
        const own = this.world.parameters.under(call.region, path, call.params.Recursive === true).map((p) => ({
          Name: p.name,
          Type: p.type,
          Value: p.value,
          Version: p.version,
          LastModifiedDate: p.lastModified / 1000,
          ARN: `arn:aws:ssm:${call.region}:${this.accountId}:parameter${p.name}`,
          DataType: 'text',
        }));
        const { items, nextToken } = this.page([...all, ...own], call.params.NextToken, call.params.MaxResults);
        return { Parameters: items, ...(nextToken ? { NextToken: nextToken } : {}) };
      }
      case 'PutParameter':
      case 'DeleteParameter': {
        try {
          if (call.operation === 'PutParameter') return this.world.parameters.put(call.region, call.params);
          this.world.parameters.delete(call.region, String(call.params.Name ?? ''));
          return {};
        } catch (error) {
          if (error instanceof ParameterError) throw new AwsError(400, error.code, error.message);
          throw error;
        }
      }
      default:
        throw new AwsError(400, 'InvalidAction', `The action ${call.operation} is not valid for this web service.`);
    }
  }

  /** The launch template a request names (by id or name, top-level or under LaunchTemplate.). */
  private launchTemplate(region: string, p: Record<string, unknown>): SimTemplate {
    const key = String(p.LaunchTemplateId ?? p['LaunchTemplate.LaunchTemplateId'] ?? p.LaunchTemplateName ?? p['LaunchTemplate.LaunchTemplateName'] ?? '');
    const t = this.world.images.findTemplate(region, key);
    if (!t) throw new AwsError(400, 'InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${key}, does not exist.`);
    return t;
  }

  /**
   * EC2: launch templates, images, and the pre-flight's RunInstances dry run, which answers
   * DryRunOperation when the caller may launch and UnauthorizedOperation when not (EC2 API reference,
   * DryRun). Tagging on launch needs ec2:CreateTags too (EC2 user guide, tag on create); modelled here
   * as evaluated by the dry run, which is UNVERIFIED: the action treats any other answer as a warning.
   */
  private ec2(call: AwsCall): unknown {
    const p = call.params;
    const list = (prefix: string) =>
      Object.entries(p)
        .filter(([k]) => k.startsWith(`${prefix}.`))
        .sort(([a], [b]) => Number(a.slice(prefix.length + 1)) - Number(b.slice(prefix.length + 1)))
        .map(([, v]) => String(v));
    const unauthorized = (action: string) =>
      new AwsError(
        403,
        'UnauthorizedOperation',
        `You are not authorized to perform this operation. User: arn:aws:sts::${this.accountId}:assumed-role/eks-ami-drift/gha ` +
          `is not authorized to perform: ${action} on resource: arn:aws:ec2:${call.region}:${this.accountId}:launch-template/* ` +
          `because no identity-based policy allows the ${action} action. Encoded authorization failure message: sim`,
      );
    switch (call.operation) {
      case 'DescribeLaunchTemplateVersions': {
        const t = this.launchTemplate(call.region, p);
        const wanted = list('LaunchTemplateVersion');
        const latest = t.versions.at(-1)!.number;
        const pick =
          wanted.length === 0
            ? t.versions
            : t.versions.filter((v) =>
                wanted.some((w) => w === String(v.number) || (w === '$Default' && v.number === t.defaultVersion) || (w === '$Latest' && v.number === latest)),
              );
        const missing = wanted.find((w) => !w.startsWith('$') && !t.versions.some((v) => String(v.number) === w));
        if (missing) throw new AwsError(400, 'InvalidLaunchTemplateId.VersionNotFound', `Could not find launch template version ${missing}.`);
        const { items, nextToken } = this.page(pick, p.NextToken, p.MaxResults);
        // ResolveAlias: "If true, and if a Systems Manager parameter is specified for ImageId, the AMI ID
        // is displayed in the response for imageId"; else the parameter as given (EC2 API reference,
        // DescribeLaunchTemplateVersions, ResponseLaunchTemplateData.ImageId). What EC2 answers for a
        // parameter that no longer exists is UNVERIFIED: modelled as the alias left unresolved.
        const resolve = (v: SimTemplateVersion): SimTemplateVersion => {
          const alias = v.imageId?.startsWith('resolve:ssm:') ? v.imageId.slice('resolve:ssm:'.length) : undefined;
          const value = alias && p.ResolveAlias === 'true' ? this.parameter(call.region, alias)?.value : undefined;
          return value ? { ...v, imageId: value } : v;
        };
        return {
          xml:
            '<DescribeLaunchTemplateVersionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>sim</requestId>' +
            `<launchTemplateVersionSet>${items.map((v) => templateVersionXml(t, resolve(v))).join('')}</launchTemplateVersionSet>` +
            `${nextToken ? `<nextToken>${nextToken}</nextToken>` : ''}</DescribeLaunchTemplateVersionsResponse>`,
        };
      }
      case 'CreateLaunchTemplateVersion': {
        const t = this.launchTemplate(call.region, p);
        if (p.DryRun === 'true') {
          if (!this.allowed('ec2:CreateLaunchTemplateVersion')) throw unauthorized('ec2:CreateLaunchTemplateVersion');
          throw new AwsError(412, 'DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
        }
        const source = p.SourceVersion === undefined ? undefined : t.versions.find((v) => String(v.number) === String(p.SourceVersion));
        if (p.SourceVersion !== undefined && !source)
          throw new AwsError(400, 'InvalidLaunchTemplateId.VersionNotFound', `Could not find launch template version ${String(p.SourceVersion)}.`);
        const imageId = p['LaunchTemplateData.ImageId'] as string | undefined;
        if (imageId && !this.world.images.images.has(imageId)) throw new AwsError(400, 'InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
        // SourceVersion copies the source's data; what is given overrides it (EC2 API reference).
        const version = {
          ...(source ?? { tagSpecifications: false, userData: '' }),
          number: t.versions.at(-1)!.number + 1,
          ...(imageId ? { imageId } : {}),
          ...(p.VersionDescription ? { description: String(p.VersionDescription) } : {}),
        };
        t.versions.push(version);
        this.world.images.created.push({ templateId: t.id, version: version.number, imageId: version.imageId ?? '', at: this.world.clock.now() });
        return {
          xml:
            '<CreateLaunchTemplateVersionResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>sim</requestId>' +
            `${templateVersionXml(t, version, 'launchTemplateVersion')}</CreateLaunchTemplateVersionResponse>`,
        };
      }
      // ModifyLaunchTemplate (EC2 API reference): `SetDefaultVersion` makes that version the default
      // ("the default version applies when a launch template version is not specified"); DryRun as for the others.
      case 'ModifyLaunchTemplate': {
        const t = this.launchTemplate(call.region, p);
        if (!this.allowed('ec2:ModifyLaunchTemplate')) throw unauthorized('ec2:ModifyLaunchTemplate');
        if (p.DryRun === 'true') throw new AwsError(412, 'DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
        const wanted = Number(p.SetDefaultVersion);
        if (p.SetDefaultVersion !== undefined && !t.versions.some((v) => v.number === wanted))
          throw new AwsError(400, 'InvalidLaunchTemplateId.VersionNotFound', `Could not find launch template version ${String(p.SetDefaultVersion)}.`);
        if (p.SetDefaultVersion !== undefined) t.defaultVersion = wanted;
        const latest = t.versions.at(-1)!.number;
        return {
          xml:
            '<ModifyLaunchTemplateResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>sim</requestId>' +
            `<launchTemplate><launchTemplateId>${t.id}</launchTemplateId><launchTemplateName>${t.name}</launchTemplateName>` +
            `<defaultVersionNumber>${t.defaultVersion}</defaultVersionNumber><latestVersionNumber>${latest}</latestVersionNumber></launchTemplate>` +
            '</ModifyLaunchTemplateResponse>',
        };
      }
      // DeleteLaunchTemplateVersions (EC2 API reference): per version, deleted or not with a response error;
      // "You can't delete the default version of a launch template" (EC2 user guide, delete a launch template
      // version). The error code for the default is UNVERIFIED: modelled as unexpectedError with that text.
      case 'DeleteLaunchTemplateVersions': {
        const t = this.launchTemplate(call.region, p);
        if (!this.allowed('ec2:DeleteLaunchTemplateVersions')) throw unauthorized('ec2:DeleteLaunchTemplateVersions');
        const ok: string[] = [];
        const failed: { version: string; code: string; message: string }[] = [];
        for (const w of list('LaunchTemplateVersion')) {
          const v = t.versions.find((x) => String(x.number) === w);
          if (!v) failed.push({ version: w, code: 'launchTemplateVersionDoesNotExist', message: 'The specified launch template version does not exist' });
          else if (v.number === t.defaultVersion)
            failed.push({ version: w, code: 'unexpectedError', message: "You can't delete the default version of a launch template" });
          else {
            t.versions.splice(t.versions.indexOf(v), 1);
            ok.push(w);
          }
        }
        const item = (v: string) =>
          `<launchTemplateId>${t.id}</launchTemplateId><launchTemplateName>${t.name}</launchTemplateName><versionNumber>${v}</versionNumber>`;
        return {
          xml:
            '<DeleteLaunchTemplateVersionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>sim</requestId>' +
            `<successfullyDeletedLaunchTemplateVersionSet>${ok.map((v) => `<item>${item(v)}</item>`).join('')}</successfullyDeletedLaunchTemplateVersionSet>` +
            `<unsuccessfullyDeletedLaunchTemplateVersionSet>${failed
              .map((f) => `<item>${item(f.version)}<responseError><code>${f.code}</code><message>${xml(f.message)}</message></responseError></item>`)
              .join('')}</unsuccessfullyDeletedLaunchTemplateVersionSet></DeleteLaunchTemplateVersionsResponse>`,
        };
      }
      case 'DescribeImages': {
        const ids = list('ImageId');
        const includeDeprecated = p.IncludeDeprecated === 'true';
        const includeDisabled = p.IncludeDisabled === 'true';
        const now = this.world.clock.now();
        const images = ids.map((id) => {
          // "InvalidAMIID.Malformed: The specified AMI ID is malformed" (EC2 API reference, error codes):
          // what a `resolve:ssm:` ImageId sent as is gets.
          if (!/^ami-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id)) throw new AwsError(400, 'InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`);
          const image = this.world.images.images.get(id);
          if (!image || image.region !== call.region) throw new AwsError(400, 'InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
          return image;
        });
        // Deprecated images are left out unless asked for, or owned by the caller (EC2 API reference, IncludeDeprecated).
        // A disabled image is private to its owner, and left out unless IncludeDisabled (EC2 API reference, DisableImage);
        // whether another account's id then fails or is left out is UNVERIFIED: modelled as left out.
        const shown = images
          .filter((i) => includeDeprecated || !i.deprecatedAt || Date.parse(i.deprecatedAt) > now || i.ownerId === this.accountId)
          .filter((i) => !i.disabled || (includeDisabled && i.ownerId === this.accountId));
        return {
          xml:
            '<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>sim</requestId>' +
            `<imagesSet>${shown.map(imageXml).join('')}</imagesSet></DescribeImagesResponse>`,
        };
      }
      case 'RunInstances': {
        if (p.DryRun !== 'true') throw new AwsError(400, 'UnsupportedOperation', 'The simulator launches no instances.');
        const t = this.launchTemplate(call.region, p);
        const wanted = String(p['LaunchTemplate.Version'] ?? t.defaultVersion);
        const v = t.versions.find((x) => String(x.number) === wanted) ?? t.versions.find((x) => x.number === t.defaultVersion)!;
        // Launching with an instance profile takes iam:PassRole for its role (IAM user guide, "Use an IAM role to grant
        // permissions to applications running on Amazon EC2 instances"); whether a dry run evaluates it is UNVERIFIED (modelled as it does).
        const missing = ['ec2:RunInstances', ...(v.tagSpecifications ? ['ec2:CreateTags'] : []), ...(v.instanceProfile ? ['iam:PassRole'] : [])].find(
          (a) => !this.allowed(a),
        );
        if (missing) {
          throw new AwsError(
            403,
            'UnauthorizedOperation',
            `You are not authorized to perform this operation. User: arn:aws:sts::${this.accountId}:assumed-role/eks-ami-drift/gha ` +
              `is not authorized to perform: ${missing} on resource: arn:aws:ec2:${call.region}:${this.accountId}:instance/* ` +
              `because no identity-based policy allows the ${missing} action. Encoded authorization failure message: sim`,
          );
        }
        throw new AwsError(412, 'DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
      }
      default:
        throw new AwsError(400, 'InvalidAction', `The action ${call.operation} is not valid for this web service.`);
    }
  }

  private sts(call: AwsCall): unknown {
    if (call.operation !== 'AssumeRoleWithWebIdentity')
      throw new AwsError(400, 'InvalidAction', `Could not find operation ${call.operation} for version 2011-06-15`);
    const s = this.identity.assumeRoleWithWebIdentity(call.params);
    return {
      xml:
        '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>' +
        `<Credentials><AccessKeyId>${s.accessKeyId}</AccessKeyId><SecretAccessKey>${xml(s.secretAccessKey)}</SecretAccessKey>` +
        `<SessionToken>${xml(s.sessionToken ?? '')}</SessionToken><Expiration>${new Date(s.expiresAt as number).toISOString()}</Expiration></Credentials>` +
        `<AssumedRoleUser><Arn>${s.roleArn.replace(':iam:', ':sts:').replace(':role/', ':assumed-role/')}/${xml(s.sessionName)}</Arn>` +
        `<AssumedRoleId>AROASIMULATOR:${xml(s.sessionName)}</AssumedRoleId></AssumedRoleUser><Audience>sts.amazonaws.com</Audience>` +
        `<Provider>arn:aws:iam::${this.accountId}:oidc-provider/token.actions.githubusercontent.com</Provider></AssumeRoleWithWebIdentityResult>` +
        '<ResponseMetadata><RequestId>sim</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>',
    };
  }

  /** Auto Scaling's calls on one live self-managed group (./asg.ts), or undefined when the call is not one of them. */
  private liveAutoscaling(call: AwsCall, members: (prefix: string) => string[]): unknown {
    const writes = [
      'SetDesiredCapacity',
      'UpdateAutoScalingGroup',
      'TerminateInstanceInAutoScalingGroup',
      'SuspendProcesses',
      'ResumeProcesses',
      'DescribeScalingActivities',
      'CreateOrUpdateTags',
      'DeleteTags',
      'DescribeInstanceRefreshes',
    ];
    if (!writes.includes(call.operation)) return undefined;
    let name = (call.params.AutoScalingGroupName ?? call.params['Tags.member.1.ResourceId']) as string | undefined;
    if (call.operation === 'TerminateInstanceInAutoScalingGroup') {
      const id = String(call.params.InstanceId);
      name = [...this.world.groups.values()].find((g) => g.spec.region === call.region && g.instances.some((i) => i.id === id))?.spec.name;
      if (!name) throw new AwsError(400, 'ValidationError', `Instance Id not found - No managed instance found for instance ID: ${id}`);
    }
    const group = name ? this.world.groupOf(call.region, name) : undefined;
    if (!group) throw new AwsError(400, 'ValidationError', `AutoScalingGroup name not found - ${name ?? 'null'}`);
    // A group created or updated with a launch template: Auto Scaling checks the caller's ec2:RunInstances, and
    // iam:PassRole for the instance profile the template names (a self-managed node's always does: the node role)
    // (Auto Scaling user guide, "Control Amazon EC2 launch template usage in Auto Scaling groups"; the troubleshooting
    // page's "You are not authorized to use launch template" names neither action).
    const template = Object.keys(call.params).find((k) => /^(LaunchTemplate\.|MixedInstancesPolicy\.LaunchTemplate\.)/.test(k));
    if (call.operation === 'UpdateAutoScalingGroup' && template && !(this.allowed('ec2:RunInstances') && this.allowed('iam:PassRole')))
      throw new AwsError(403, 'AccessDenied', `You are not authorized to use launch template: ${String(call.params[template])}`);
    return liveOperation(group, call, members, this.world.clock.now());
  }

  private autoscaling(call: AwsCall): unknown {
    const p = call.params;
    const members = (prefix: string) =>
      Object.entries(p)
        .filter(([k]) => k.startsWith(`${prefix}.member.`) && /^\d+$/.test(k.slice(prefix.length + 8)))
        .map(([, v]) => String(v));
    const live = this.liveAutoscaling(call, members);
    if (live) return live;
    const lcKey = (name: unknown) => `${call.region}/${String(name)}`;
    // CreateLaunchConfiguration (API reference): a name already taken is AlreadyExists; the fields are kept as sent.
    if (call.operation === 'CreateLaunchConfiguration') {
      if (this.world.options.faults?.noLaunchConfigurations)
        throw new AwsError(
          400,
          'UnsupportedOperation',
          'The Launch Configuration creation operation is not available in your account. ' +
            'Use launch templates to create configuration templates for your Auto Scaling groups.',
        );
      if (!this.allowed('autoscaling:CreateLaunchConfiguration'))
        throw new AwsError(403, 'AccessDenied', 'not authorized: autoscaling:CreateLaunchConfiguration');
      if (this.world.launchConfigurations.has(lcKey(p.LaunchConfigurationName)))
        throw new AwsError(400, 'AlreadyExists', `Launch Configuration by this name already exists - ${String(p.LaunchConfigurationName)}`);
      const image = String(p.ImageId ?? '');
      if (!this.world.images.images.has(image)) throw new AwsError(400, 'ValidationError', `The image id '[${image}]' does not exist`);
      const { Action: _a, Version: _v, ...fields } = p;
      this.world.launchConfigurations.set(lcKey(p.LaunchConfigurationName), Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])));
      return {
        xml:
          '<CreateLaunchConfigurationResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">' +
          '<ResponseMetadata><RequestId>sim</RequestId></ResponseMetadata></CreateLaunchConfigurationResponse>',
      };
    }
    // DeleteLaunchConfiguration: refused while a group uses it (ResourceInUse, API reference).
    if (call.operation === 'DeleteLaunchConfiguration') {
      const name = String(p.LaunchConfigurationName);
      if (!this.world.launchConfigurations.has(lcKey(name))) throw new AwsError(400, 'ValidationError', `Launch configuration name not found - ${name}`);
      if ([...this.world.groups.values()].some((g) => g.spec.region === call.region && g.launchConfiguration === name))
        throw new AwsError(400, 'ResourceInUse', `Cannot delete launch configuration ${name} because it is attached to AutoScalingGroup`);
      this.world.launchConfigurations.delete(lcKey(name));
      return {
        xml:
          '<DeleteLaunchConfigurationResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">' +
          '<ResponseMetadata><RequestId>sim</RequestId></ResponseMetadata></DeleteLaunchConfigurationResponse>',
      };
    }
    if (call.operation === 'DescribeLaunchConfigurations') {
      const names = members('LaunchConfigurationNames');
      if (names.length > 50) throw new AwsError(400, 'ValidationError', 'LaunchConfigurationNames: Member must have length less than or equal to 50');
      const configs = this.fleet.clusters
        .filter((c) => c.region === call.region)
        .flatMap((c) =>
          (c.selfManaged ?? [])
            .flatMap((g) => (g.launchConfiguration ? [g.launchConfiguration, ...(g.launchConfiguration.older ?? [])] : []))
            .map((lc) => ({ name: lc.name, imageId: this.world.images.resolve(c.region, lc.image).id })),
        )
        .filter((x) => names.length === 0 || names.includes(x.name))
        .filter((x) => !this.world.launchConfigurations.has(lcKey(x.name)));
      const live = [...this.world.launchConfigurations.entries()]
        .filter(([k, v]) => k.startsWith(`${call.region}/`) && (names.length === 0 || names.includes(v.LaunchConfigurationName ?? '')))
        .map(([, v]) => `<member>${queryXml(v)}</member>`)
        .join('');
      return {
        xml:
          '<DescribeLaunchConfigurationsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><DescribeLaunchConfigurationsResult>' +
          `<LaunchConfigurations>${configs
            .map(
              (x) =>
                `<member><LaunchConfigurationName>${x.name}</LaunchConfigurationName><ImageId>${x.imageId}</ImageId>` +
                '<InstanceType>m5.large</InstanceType></member>',
            )
            .join('')}${live}</LaunchConfigurations></DescribeLaunchConfigurationsResult>` +
          '<ResponseMetadata><RequestId>sim</RequestId></ResponseMetadata></DescribeLaunchConfigurationsResponse>',
      };
    }
    if (call.operation !== 'DescribeAutoScalingGroups') {
      throw new AwsError(400, 'InvalidAction', `The action ${call.operation} is not valid for this web service.`);
    }
    const wanted = members('AutoScalingGroupNames');
    // Filters (Auto Scaling API reference, Filter): tag-key, tag-value, tag:<key>; several filters AND.
    const filters: { name: string; values: string[] }[] = [];
    for (let i = 1; p[`Filters.member.${i}.Name`] !== undefined; i++)
      filters.push({ name: String(p[`Filters.member.${i}.Name`]), values: members(`Filters.member.${i}.Values`) });
    const groups: SimAsgView[] = this.fleet.clusters
      .filter((c) => c.region === call.region)
      .flatMap((c) => [
        // Managed node groups' own groups carry eks:nodegroup-name and eks:cluster-name (eks.md
        // section 11). Whether they also carry kubernetes.io/cluster/<name> is UNVERIFIED: modelled
        // as they do, the inconvenient answer, so the check must leave them out by the eks: tags.
        // EKS tags them for cluster-autoscaler's auto-discovery too ("automatically tagged for
        // auto-discovery by the Kubernetes Cluster Autoscaler", EKS user guide, managed node groups):
        // the two tags AWS's example manifest discovers by, whether or not cluster-autoscaler runs.
        ...c.nodegroups.map((ng) => ({
          ...this.world.asgOf(ng),
          tags: {
            'eks:cluster-name': c.name,
            'eks:nodegroup-name': ng.name,
            [`kubernetes.io/cluster/${c.name}`]: 'owned',
            'k8s.io/cluster-autoscaler/enabled': 'true',
            [`k8s.io/cluster-autoscaler/${c.name}`]: 'owned',
          },
        })),
        ...(c.selfManaged ?? []).map((g) => {
          const tags = { [`kubernetes.io/cluster/${c.name}`]: 'owned', Name: `${c.name}-${g.name}` };
          const group = this.world.groupOf(c.region, g.name);
          if (group)
            return {
              name: g.name,
              min: group.min,
              max: group.max,
              desired: group.desired,
              tags: { ...tags, ...Object.fromEntries(group.tags) },
              sourceXml: liveGroupXml(group),
            };
          return {
            name: g.name,
            min: 0,
            max: g.desiredSize + 2,
            desired: g.desiredSize,
            tags,
            sourceXml: asgSourceXml(g, (id) => this.world.images.templates.get(id)),
          };
        }),
      ])
      .filter((g) => wanted.length === 0 || wanted.includes(g.name))
      .filter((g) =>
        filters.every((f) =>
          f.name === 'tag-key'
            ? Object.keys(g.tags).some((k) => f.values.includes(k))
            : f.name === 'tag-value'
              ? Object.values(g.tags).some((v) => f.values.includes(v))
              : f.name.startsWith('tag:')
                ? f.values.includes(g.tags[f.name.slice(4)] ?? '\u0000')
                : false,
        ),
      );
    const { items, nextToken } = this.page(groups, p.NextToken, p.MaxRecords);
    return { autoScalingGroups: items, ...(nextToken ? { nextToken } : {}) };
  }
}

/**
 * Auto Scaling's write calls and DescribeScalingActivities on a live self-managed group (./asg.ts);
 * undefined for any other operation. Query protocol parameters as the API reference names them.
 */
function liveOperation(group: LiveGroup, call: AwsCall, members: (prefix: string) => string[], now: number): unknown {
  const p = call.params;
  const ok = (operation: string, inner = '') =>
    ({
      xml:
        `<${operation}Response xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">${inner}` +
        `<ResponseMetadata><RequestId>sim</RequestId></ResponseMetadata></${operation}Response>`,
    }) as const;
  const num = (k: string) => (p[k] === undefined ? undefined : Number(p[k]));
  switch (call.operation) {
    case 'SetDesiredCapacity':
      group.setDesired(num('DesiredCapacity') as number, now);
      return ok(call.operation);
    case 'UpdateAutoScalingGroup': {
      const id = p['LaunchTemplate.LaunchTemplateId'] as string | undefined;
      const name = p['LaunchTemplate.LaunchTemplateName'] as string | undefined;
      const template =
        id || name
          ? { id: id ?? group.template?.id ?? '', name: name ?? group.template?.name ?? '', version: String(p['LaunchTemplate.Version'] ?? '$Default') }
          : undefined;
      const lc = p.LaunchConfigurationName as string | undefined;
      // MixedInstancesPolicy.LaunchTemplate.{LaunchTemplateSpecification, Overrides.member.N.{InstanceType, LaunchTemplateSpecification}}.
      const spec = (prefix: string) => {
        const tid = p[`${prefix}.LaunchTemplateId`] as string | undefined;
        const tname = p[`${prefix}.LaunchTemplateName`] as string | undefined;
        const known = [group.mixed?.main, ...(group.mixed?.overrides ?? []).map((o) => o.template)].find((x) => x && (x.id === tid || x.name === tname));
        return tid || tname
          ? { id: tid ?? known?.id ?? '', name: tname ?? known?.name ?? '', version: String(p[`${prefix}.Version`] ?? '$Default'), both: !!(tid && tname) }
          : undefined;
      };
      const M = 'MixedInstancesPolicy.LaunchTemplate';
      const main = spec(`${M}.LaunchTemplateSpecification`);
      const overrides: { instanceType: string; template?: { id: string; name: string; version: string; both: boolean } }[] = [];
      for (let i = 1; p[`${M}.Overrides.member.${i}.InstanceType`] !== undefined; i++) {
        const o = spec(`${M}.Overrides.member.${i}.LaunchTemplateSpecification`);
        overrides.push({ instanceType: String(p[`${M}.Overrides.member.${i}.InstanceType`]), ...(o ? { template: o } : {}) });
      }
      if ([template, lc, main].filter(Boolean).length > 1)
        throw new AwsError(400, 'ValidationError', 'Only one of LaunchConfigurationName, LaunchTemplate, or MixedInstancesPolicy can be specified');
      const distribution = Object.entries(p).filter(([k]) => k.startsWith('MixedInstancesPolicy.InstancesDistribution.'));
      if (distribution.length > 0) group.instancesDistribution = Object.fromEntries(distribution.map(([k, v]) => [k.split('.').at(-1)!, String(v)]));
      // LaunchTemplateSpecification: "You must specify either a LaunchTemplateId or a LaunchTemplateName" (API reference); both is refused here (UNVERIFIED).
      for (const t of [main, ...overrides.map((o) => o.template)])
        if (t?.both) throw new AwsError(400, 'ValidationError', 'Specify either LaunchTemplateId or LaunchTemplateName, not both');
      group.update(
        {
          min: num('MinSize'),
          max: num('MaxSize'),
          desired: num('DesiredCapacity'),
          template,
          ...(main
            ? {
                mixed: {
                  main: { id: main.id, name: main.name, version: main.version },
                  overrides: overrides.map((o) => ({
                    instanceType: o.instanceType,
                    ...(o.template ? { template: { id: o.template.id, name: o.template.name, version: o.template.version } } : {}),
                  })),
                },
              }
            : {}),
          ...(lc ? { launchConfiguration: lc } : {}),
        },
        now,
      );
      return ok(call.operation);
    }
    case 'TerminateInstanceInAutoScalingGroup': {
      const decrement = p.ShouldDecrementDesiredCapacity;
      if (decrement !== 'true' && decrement !== 'false') throw new AwsError(400, 'ValidationError', 'ShouldDecrementDesiredCapacity is required');
      group.terminateInstance(String(p.InstanceId), decrement === 'true', now);
      const a = group.activities.at(-1)!;
      return ok(
        call.operation,
        `<TerminateInstanceInAutoScalingGroupResult><Activity>${activityXml(a, 'InProgress')}</Activity></TerminateInstanceInAutoScalingGroupResult>`,
      );
    }
    case 'SuspendProcesses':
      group.suspend(members('ScalingProcesses'), now);
      return ok(call.operation);
    case 'ResumeProcesses':
      group.resume(members('ScalingProcesses'), now);
      return ok(call.operation);
    // Tags on the group itself (Auto Scaling API reference, CreateOrUpdateTags: an existing key is overwritten;
    // DeleteTags: Tags.member.N with ResourceId, ResourceType and Key). Every member must name this group.
    case 'CreateOrUpdateTags':
    case 'DeleteTags': {
      // Tag restrictions (Auto Scaling user guide, "Tag Auto Scaling groups and instances"): 25 tags added or
      // removed a call, 50 a group. The error codes are UNVERIFIED (ValidationError, and the API reference's LimitExceeded).
      const count = Object.keys(p).filter((k) => /^Tags\.member\.\d+\.Key$/.test(k)).length;
      if (count > 25) throw new AwsError(400, 'ValidationError', `${count} tags in one call: at most 25 can be added or removed at once`);
      if (call.operation === 'CreateOrUpdateTags') {
        const keys = new Set(group.tags.keys());
        for (let i = 1; i <= count; i++) keys.add(String(p[`Tags.member.${i}.Key`]));
        // (+2: the cluster tag and Name, which DescribeAutoScalingGroups adds to the live group's own below)
        if (keys.size + 2 > 50)
          throw new AwsError(400, 'LimitExceeded', `The Auto Scaling group ${group.spec.name} would have ${keys.size + 2} tags: at most 50`);
      }
      for (let i = 1; p[`Tags.member.${i}.Key`] !== undefined; i++) {
        if (p[`Tags.member.${i}.ResourceId`] !== group.spec.name)
          throw new AwsError(400, 'ValidationError', `AutoScalingGroup name not found - ${String(p[`Tags.member.${i}.ResourceId`])}`);
        const key = String(p[`Tags.member.${i}.Key`]);
        if (call.operation === 'DeleteTags') group.tags.delete(key);
        else group.putTag(key, String(p[`Tags.member.${i}.Value`] ?? ''));
      }
      return ok(call.operation);
    }
    // The group's instance refreshes, newest first (API reference, DescribeInstanceRefreshes; InstanceRefresh.Status).
    case 'DescribeInstanceRefreshes': {
      const r = group.instanceRefresh;
      const members = r
        ? `<member><InstanceRefreshId>${r.id}</InstanceRefreshId><AutoScalingGroupName>${group.spec.name}</AutoScalingGroupName>` +
          `<Status>${r.status}</Status></member>`
        : '';
      return ok(call.operation, `<DescribeInstanceRefreshesResult><InstanceRefreshes>${members}</InstanceRefreshes></DescribeInstanceRefreshesResult>`);
    }
    case 'DescribeScalingActivities': {
      // Newest first (API reference, DescribeScalingActivities: "sorted by start time, latest first"; UNVERIFIED wording).
      const max = Math.min(100, num('MaxRecords') ?? 100);
      const all = [...group.activities].reverse();
      const start = p.NextToken === undefined ? 0 : Number(p.NextToken);
      const page = all.slice(start, start + max);
      const next = start + max < all.length ? `<NextToken>${start + max}</NextToken>` : '';
      const members = page.map((a) => `<member>${activityXml(a)}</member>`).join('');
      return ok(call.operation, `<DescribeScalingActivitiesResult><Activities>${members}</Activities>${next}</DescribeScalingActivitiesResult>`);
    }
    default:
      return undefined;
  }
}

/** Query API fields (`A.member.1.B`) as the XML the same API answers with (`<A><member><B>`). */
function queryXml(fields: Record<string, string>): string {
  type Tree = { [k: string]: Tree | string };
  const root: Tree = {};
  for (const [key, value] of Object.entries(fields)) {
    const parts = key.split('.').flatMap((k, i, all) => (k === 'member' ? [] : /^\d+$/.test(k) && all[i - 1] === 'member' ? [`member#${k}`] : [k]));
    let at = root;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Tree;
    at[parts.at(-1)!] = value;
  }
  const emit = (t: Tree): string =>
    Object.entries(t)
      .map(([k, v]) => {
        const tag = k.startsWith('member#') ? 'member' : k;
        return `<${tag}>${typeof v === 'string' ? xml(v) : emit(v)}</${tag}>`;
      })
      .join('');
  return emit(root);
}

function activityXml(a: ScalingActivity, status?: string): string {
  return (
    `<ActivityId>${a.id}</ActivityId><AutoScalingGroupName>${a.group}</AutoScalingGroupName><Description>${xml(a.description)}</Description>` +
    `<Cause>${xml(a.cause)}</Cause><StartTime>${new Date(a.start).toISOString()}</StartTime><EndTime>${new Date(a.end).toISOString()}</EndTime>` +
    `<StatusCode>${status ?? a.status}</StatusCode>${a.message ? `<StatusMessage>${xml(a.message)}</StatusMessage>` : ''}` +
    `<Progress>${status ? 0 : 100}</Progress>`
  );
}

/** A live group's launch template, instances (each with the version it was launched from) and suspended processes. */
function liveGroupXml(g: LiveGroup): string {
  const spec = (t: { id: string; name: string; version: string }) =>
    `<LaunchTemplateId>${t.id}</LaunchTemplateId><LaunchTemplateName>${t.name}</LaunchTemplateName><Version>${t.version}</Version>`;
  const instances = g.instances
    .map(
      (i) =>
        `<member><InstanceId>${i.id}</InstanceId><InstanceType>${i.instanceType}</InstanceType><AvailabilityZone>${i.az}</AvailabilityZone>` +
        `<LifecycleState>${i.lifecycle}</LifecycleState><HealthStatus>${i.health}</HealthStatus>` +
        `${i.template ? `<LaunchTemplate>${spec(i.template)}</LaunchTemplate>` : ''}` +
        `${i.launchConfiguration ? `<LaunchConfigurationName>${i.launchConfiguration}</LaunchConfigurationName>` : ''}` +
        `<ProtectedFromScaleIn>${i.protectedFromScaleIn}</ProtectedFromScaleIn></member>`,
    )
    .join('');
  const suspended = [...g.suspended]
    .map(([p, at]) => `<member><ProcessName>${p}</ProcessName><SuspensionReason>User suspended at ${new Date(at).toISOString()}</SuspensionReason></member>`)
    .join('');
  const mixed = g.mixed
    ? `<MixedInstancesPolicy><LaunchTemplate><LaunchTemplateSpecification>${spec(g.mixed.main)}</LaunchTemplateSpecification><Overrides>` +
      g.mixed.overrides
        .map(
          (o) =>
            `<member><InstanceType>${o.instanceType}</InstanceType>` +
            `${o.template ? `<LaunchTemplateSpecification>${spec(o.template)}</LaunchTemplateSpecification>` : ''}</member>`,
        )
        .join('') +
      `</Overrides></LaunchTemplate><InstancesDistribution>${Object.entries(g.instancesDistribution)
        .map(([k, v]) => `<${k}>${v}</${k}>`)
        .join('')}</InstancesDistribution></MixedInstancesPolicy>`
    : '';
  const source = g.template
    ? `<LaunchTemplate>${spec(g.template)}</LaunchTemplate>`
    : g.launchConfiguration
      ? `<LaunchConfigurationName>${g.launchConfiguration}</LaunchConfigurationName>`
      : mixed;
  return (
    `${source}<Instances>${instances}</Instances>` +
    `<AvailabilityZones>${g.spec.azs.map((az) => `<member>${az}</member>`).join('')}</AvailabilityZones><SuspendedProcesses>${suspended}</SuspendedProcesses>`
  );
}

interface SimAsgView {
  name: string;
  min: number;
  max: number;
  desired: number;
  tags: Record<string, string>;
  /** A self-managed group's launch template or configuration and instances, as XML. */
  sourceXml?: string;
}

function templateVersionXml(t: SimTemplate, v: SimTemplateVersion, element = 'item'): string {
  const tags = v.tagSpecifications
    ? '<tagSpecificationSet><item><resourceType>instance</resourceType>' +
      '<tagSet><item><key>team</key><value>platform</value></item></tagSet></item></tagSpecificationSet>'
    : '';
  const description = v.description ? `<versionDescription>${xml(v.description)}</versionDescription>` : '';
  const image = v.imageId ? `<imageId>${v.imageId}</imageId>` : '';
  return (
    `<${element}><launchTemplateId>${t.id}</launchTemplateId><launchTemplateName>${t.name}</launchTemplateName><versionNumber>${v.number}</versionNumber>` +
    `${description}<defaultVersion>${v.number === t.defaultVersion}</defaultVersion>` +
    `<launchTemplateData>${image}<userData>${v.userData}</userData>${tags}</launchTemplateData></${element}>`
  );
}

function imageXml(i: SimImage): string {
  const alias = i.ownerAlias ? `<imageOwnerAlias>${i.ownerAlias}</imageOwnerAlias>` : '';
  const deprecated = i.deprecatedAt ? `<deprecationTime>${i.deprecatedAt}</deprecationTime>` : '';
  return (
    `<item><imageId>${i.id}</imageId><name>${xml(i.name)}</name><imageOwnerId>${i.ownerId}</imageOwnerId>${alias}` +
    `<imageState>${i.disabled ? 'disabled' : 'available'}</imageState>` +
    `<isPublic>${i.ownerAlias === 'amazon'}</isPublic><creationDate>${i.createdAt}</creationDate>${deprecated}` +
    `<architecture>${architectureOf(i.name)}</architecture></item>`
  );
}

function describeUpdate(u: NodegroupUpdate): Record<string, unknown> {
  return {
    id: u.id,
    status: u.status,
    type: u.type,
    params: u.params,
    createdAt: u.createdAt / 1000,
    errors: u.errors,
  };
}

/**
 * Where a self-managed group's instances come from: a launch template (plain, or in a mixed instances
 * policy with its overrides) or a launch configuration; and its instances, each with the template
 * version or configuration it was launched from (Auto Scaling API reference, AutoScalingGroup.Instances,
 * Instance: LaunchTemplate {LaunchTemplateId, LaunchTemplateName, Version}, LaunchConfigurationName).
 * An instance records the version number it was launched from, also when the group names $Latest or
 * $Default: UNVERIFIED (the action reads an alias too).
 */
function asgSourceXml(g: SimSelfManaged, templates: (id: string) => SimTemplate | undefined): string {
  const specXml = (lt: { id: string; name: string; byName?: boolean }, version: string) =>
    `${lt.byName ? '' : `<LaunchTemplateId>${lt.id}</LaunchTemplateId>`}<LaunchTemplateName>${lt.name}</LaunchTemplateName><Version>${version}</Version>`;
  let source = '';
  if (g.launchTemplate) {
    const lt = g.launchTemplate;
    const spec = specXml(lt, lt.version);
    const overrides = (g.overrides ?? [])
      .map(
        (o) =>
          `<member><InstanceType>${o.instanceType}</InstanceType>` +
          (o.launchTemplate ? `<LaunchTemplateSpecification>${specXml(o.launchTemplate, o.launchTemplate.version)}</LaunchTemplateSpecification>` : '') +
          '</member>',
      )
      .join('');
    source = lt.mixed
      ? `<MixedInstancesPolicy><LaunchTemplate><LaunchTemplateSpecification>${spec}</LaunchTemplateSpecification>` +
        `${overrides ? `<Overrides>${overrides}</Overrides>` : ''}</LaunchTemplate></MixedInstancesPolicy>`
      : `<LaunchTemplate>${spec}</LaunchTemplate>`;
  } else if (g.launchConfiguration) source = `<LaunchConfigurationName>${g.launchConfiguration.name}</LaunchConfigurationName>`;
  const own = g.launchTemplate ? templates(g.launchTemplate.id) : undefined;
  const number = (version: string | undefined, t: SimTemplate | undefined) =>
    version === '$Latest'
      ? String(t?.versions.at(-1)?.number ?? 1)
      : version === '$Default' || version === undefined
        ? String(t?.defaultVersion ?? 1)
        : version;
  const groups = g.instances ?? [{ count: g.desiredSize }];
  let n = 0;
  const members = groups.flatMap((x) =>
    Array.from({ length: x.count }, () => {
      n++;
      const override = x.template ? g.overrides?.find((o) => o.launchTemplate?.id === x.template)?.launchTemplate : undefined;
      const from = override
        ? `<LaunchTemplate>${specXml(override, number(x.version ?? override.version, templates(override.id)))}</LaunchTemplate>`
        : x.launchConfiguration || (!g.launchTemplate && g.launchConfiguration)
          ? `<LaunchConfigurationName>${x.launchConfiguration ?? g.launchConfiguration!.name}</LaunchConfigurationName>`
          : g.launchTemplate
            ? `<LaunchTemplate>${specXml({ ...g.launchTemplate, byName: false }, number(x.version ?? g.launchTemplate.version, own))}</LaunchTemplate>`
            : '';
      const id = `i-${createHash('sha1').update(`${g.name}/${n}`).digest('hex').slice(0, 17)}`;
      return (
        `<member><InstanceId>${id}</InstanceId><InstanceType>${x.instanceType ?? 'm5.large'}</InstanceType><AvailabilityZone>us-east-1a</AvailabilityZone>` +
        `<LifecycleState>InService</LifecycleState><HealthStatus>Healthy</HealthStatus>${from}<ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>`
      );
    }),
  );
  return `${source}<Instances>${members.join('')}</Instances>`;
}

/** AWS's wire formats for one result or error. */
export function encode(call: AwsCall, result: unknown, requestId: string): Reply {
  const base = { 'x-amzn-requestid': requestId };
  if (call.service === 'ec2' || call.service === 'sts')
    return { status: 200, headers: { ...base, 'content-type': 'text/xml' }, body: (result as { xml: string }).xml };
  if (call.service === 'autoscaling') {
    if ('xml' in (result as object)) return { status: 200, headers: { ...base, 'content-type': 'text/xml' }, body: (result as { xml: string }).xml };
    const { autoScalingGroups: groups, nextToken } = result as { autoScalingGroups: SimAsgView[]; nextToken?: string };
    const tagXml = (g: SimAsgView, k: string, v: string) =>
      `<member><ResourceId>${g.name}</ResourceId><ResourceType>auto-scaling-group</ResourceType>` +
      `<Key>${xml(k)}</Key><Value>${xml(v)}</Value><PropagateAtLaunch>true</PropagateAtLaunch></member>`;
    const members = groups
      .map(
        (g) =>
          `<member><AutoScalingGroupName>${g.name}</AutoScalingGroupName><MinSize>${g.min}</MinSize><MaxSize>${g.max}</MaxSize>` +
          `<DesiredCapacity>${g.desired}</DesiredCapacity>${g.sourceXml ?? ''}` +
          `<Tags>${Object.entries(g.tags)
            .map(([k, v]) => tagXml(g, k, v))
            .join('')}</Tags></member>`,
      )
      .join('');
    return {
      status: 200,
      headers: { ...base, 'content-type': 'text/xml' },
      body:
        '<DescribeAutoScalingGroupsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><DescribeAutoScalingGroupsResult>' +
        `<AutoScalingGroups>${members}</AutoScalingGroups>${nextToken ? `<NextToken>${nextToken}</NextToken>` : ''}</DescribeAutoScalingGroupsResult>` +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></DescribeAutoScalingGroupsResponse>`,
    };
  }
  const contentType = call.service === 'ssm' ? 'application/x-amz-json-1.1' : 'application/json';
  return { status: 200, headers: { ...base, 'content-type': contentType }, body: JSON.stringify(result) };
}

export function encodeError(call: AwsCall, error: AwsError, requestId: string): Reply {
  const base = { 'x-amzn-requestid': requestId };
  if (call.service === 'ec2') {
    return {
      status: error.status,
      headers: { ...base, 'content-type': 'text/xml' },
      body:
        `<Response><Errors><Error><Code>${error.code}</Code><Message>${xml(error.message)}</Message></Error></Errors>` +
        `<RequestID>${requestId}</RequestID></Response>`,
    };
  }
  if (call.service === 'autoscaling' || call.service === 'sts' || (call.service === 'unknown' && error.code === 'InvalidAction')) {
    return {
      status: error.status,
      headers: { ...base, 'content-type': 'text/xml' },
      body:
        '<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">' +
        `<Error><Type>Sender</Type><Code>${error.code}</Code><Message>${xml(error.message)}</Message></Error>` +
        `<RequestId>${requestId}</RequestId></ErrorResponse>`,
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
