import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  EKSClient,
  ListClustersCommand,
  ListNodegroupsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-eks';
import { GetParameterCommand, GetParametersByPathCommand, GetParametersCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { startSimulator, type Simulator } from '../sim/server.js';
import { exampleFleet } from '../sim/example-fleet.js';

/** The simulator's replies must parse with the real SDK clients: their models are the contract. */
describe('the simulator speaks the AWS wire protocols', () => {
  let sim: Simulator;
  let eks: EKSClient;
  let ssm: SSMClient;
  let asg: AutoScalingClient;

  beforeAll(async () => {
    sim = await startSimulator(exampleFleet(new Date('2026-11-21T00:00:00Z')));
    const config = {
      region: 'us-east-1',
      endpoint: sim.url,
      credentials: { accessKeyId: 'AKIASIMULATOR0000000', secretAccessKey: 'x' },
      maxAttempts: 1,
    };
    eks = new EKSClient(config);
    ssm = new SSMClient(config);
    asg = new AutoScalingClient(config);
  });
  afterAll(() => sim.close());

  it('EKS (REST-JSON): lists in small pages, describes clusters and node groups', async () => {
    const first = await eks.send(new ListClustersCommand({ maxResults: 1 }));
    expect(first.clusters).toEqual(['prod-payments']);
    expect(first.nextToken).toBeTruthy();
    const second = await eks.send(new ListClustersCommand({ nextToken: first.nextToken }));
    expect(second).toMatchObject({ clusters: ['prod-search'] });
    expect(second.nextToken).toBeUndefined();

    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'prod-payments' }));
    expect(cluster).toMatchObject({ name: 'prod-payments', version: '1.33', status: 'ACTIVE' });
    expect(cluster?.endpoint).toBe(`${sim.url}/k8s/us-east-1/prod-payments`);

    const page = await eks.send(new ListNodegroupsCommand({ clusterName: 'prod-payments' }));
    expect(page.nodegroups).toHaveLength(2);
    expect(page.nextToken).toBeTruthy();

    const { nodegroup } = await eks.send(new DescribeNodegroupCommand({ clusterName: 'prod-payments', nodegroupName: 'general' }));
    expect(nodegroup).toMatchObject({ amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: '1.33.12-20260610', status: 'ACTIVE' });
    expect(nodegroup?.scalingConfig?.desiredSize).toBe(6);
    expect(nodegroup?.createdAt).toBeInstanceOf(Date);
  });

  it('EKS errors arrive as typed SDK exceptions with their messages', async () => {
    const error = await eks.send(new DescribeClusterCommand({ name: 'ghost' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect((error as Error).message).toBe('No cluster found for name: ghost.');
    const regional = await new EKSClient({
      region: 'eu-west-1',
      endpoint: sim.url,
      credentials: { accessKeyId: 'AKIASIMULATOR0000000', secretAccessKey: 'x' },
      maxAttempts: 1,
    })
      .send(new DescribeClusterCommand({ name: 'prod-payments' }))
      .catch((e: unknown) => e);
    expect(regional).toBeInstanceOf(ResourceNotFoundException);
  });

  it('SSM (JSON 1.1): GetParameter, GetParameters with InvalidParameters, GetParametersByPath, ParameterNotFound', async () => {
    const name = '/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/recommended/release_version';
    const one = await ssm.send(new GetParameterCommand({ Name: name }));
    expect(one.Parameter).toMatchObject({ Name: name, Value: '1.33.13-20260714' });
    expect(one.Parameter?.LastModifiedDate).toEqual(new Date('2026-07-14T18:00:00Z'));

    const many = await ssm.send(new GetParametersCommand({ Names: [name, '/aws/service/none'] }));
    expect(many.Parameters?.map((p) => p.Name)).toEqual([name]);
    expect(many.InvalidParameters).toEqual(['/aws/service/none']);

    const byPath = await ssm.send(new GetParametersByPathCommand({ Path: '/aws/service/bottlerocket', Recursive: true }));
    expect(byPath.Parameters?.length).toBeGreaterThan(0);

    await expect(ssm.send(new GetParameterCommand({ Name: '/aws/service/none' }))).rejects.toBeInstanceOf(ParameterNotFound);
    await expect(ssm.send(new GetParametersCommand({ Names: Array.from({ length: 11 }, (_, i) => `/p${i}`) }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('Auto Scaling (query, XML): DescribeAutoScalingGroups', async () => {
    const out = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['eks-general-sim'] }));
    expect(out.AutoScalingGroups?.[0]).toMatchObject({ AutoScalingGroupName: 'eks-general-sim', DesiredCapacity: 6 });
  });

  it('answers injected throttling, server errors and access denied the way AWS does', async () => {
    sim.setFaults({ throttleRate: 1 });
    await expect(eks.send(new ListClustersCommand({}))).rejects.toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } });
    await expect(ssm.send(new GetParametersCommand({ Names: ['/x'] }))).rejects.toMatchObject({ name: 'ThrottlingException' });
    sim.setFaults({ serverErrorRate: 1 });
    await expect(eks.send(new ListClustersCommand({}))).rejects.toMatchObject({ name: 'ServerException', $metadata: { httpStatusCode: 500 } });
    sim.setFaults({ allow: ['eks:ListClusters'] });
    await expect(eks.send(new ListClustersCommand({}))).resolves.toBeDefined();
    await expect(ssm.send(new GetParametersCommand({ Names: ['/x'] }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('ssm:GetParameters'),
    });
    sim.setFaults({});
  });

  it('answers an unknown operation with an AWS-shaped error, never an HTML page', async () => {
    const res = await fetch(`${sim.url}/clusters/prod-payments/addons-nonsense/x`, {
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIASIMULATOR0000000/20261121/us-east-1/eks/aws4_request' },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(await res.json()).toEqual({ message: expect.stringContaining('No EKS operation matches') });
    const unsigned = await fetch(`${sim.url}/clusters`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
  });

  it('logs and counts every request by operation', () => {
    const counts = sim.counts();
    expect(counts['eks:ListClusters']).toBeGreaterThanOrEqual(2);
    expect(counts['ssm:GetParameters']).toBeGreaterThanOrEqual(2);
    expect(sim.log.some((l) => l.error === 'ResourceNotFoundException')).toBe(true);
  });
});
