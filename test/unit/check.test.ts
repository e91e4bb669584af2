import { describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  EKSClient,
  ListClustersCommand,
  ListNodegroupsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-eks';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { runCheck } from '../../src/commands/check.js';
import { settingsWith } from './settings.js';

const settings = settingsWith;

function fleet() {
  const eks = new EKSClient({ region: 'us-east-1' });
  const ssm = new SSMClient({ region: 'us-east-1' });
  // No self-managed groups: only the managed node groups' own, which the check leaves out.
  const autoscaling = new AutoScalingClient({ region: 'us-east-1' });
  const autoscalingMock = mockClient(autoscaling);
  autoscalingMock.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: 'eks-a-ng1',
        MinSize: 1,
        MaxSize: 3,
        DesiredCapacity: 2,
        DefaultCooldown: 300,
        AvailabilityZones: [],
        HealthCheckType: 'EC2',
        CreatedTime: new Date(),
        Tags: [
          { Key: 'eks:nodegroup-name', Value: 'a-ng1' },
          { Key: 'kubernetes.io/cluster/a', Value: 'owned' },
        ],
      },
    ],
  });
  return { eks, ssm, autoscaling, eksMock: mockClient(eks), ssmMock: mockClient(ssm), autoscalingMock };
}

const deps = (f: ReturnType<typeof fleet>) => ({
  clientsFor: () => ({ eks: f.eks, ssm: f.ssm, autoscaling: f.autoscaling, ec2: new EC2Client({ region: 'us-east-1' }) }),
  now: () => new Date('2026-11-21T00:00:00Z'),
  concurrency: 4,
});

describe('the fleet check against EKS and SSM', () => {
  it('follows ListClusters and ListNodegroups pages to the end', async () => {
    const f = fleet();
    f.eksMock
      .on(ListClustersCommand, {})
      .resolves({ clusters: ['a', 'b'], nextToken: 't1' })
      .on(ListClustersCommand, { nextToken: 't1' })
      .resolves({ clusters: ['c'] });
    f.eksMock.on(DescribeClusterCommand).resolves({ cluster: { version: '1.33' } });
    f.eksMock
      .on(ListNodegroupsCommand)
      .callsFake(({ clusterName, nextToken }) =>
        nextToken ? { nodegroups: [`${clusterName}-ng3`] } : { nodegroups: [`${clusterName}-ng1`, `${clusterName}-ng2`], nextToken: 'n1' },
      );
    f.eksMock.on(DescribeNodegroupCommand).callsFake(({ nodegroupName }: { nodegroupName: string }) => ({
      nodegroup: { nodegroupName, amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: '1.33.13-20260714' },
    }));
    f.ssmMock.on(GetParametersCommand).callsFake(({ Names }: { Names: string[] }) => ({
      Parameters: Names.map((Name) => ({ Name, Value: '1.33.13-20260714', LastModifiedDate: new Date('2026-07-14') })),
    }));

    const report = await runCheck(settings(), deps(f));
    expect(report.nodegroups.map((n) => `${n.cluster}/${n.nodegroup}`)).toEqual([
      'a/a-ng1',
      'a/a-ng2',
      'a/a-ng3',
      'b/b-ng1',
      'b/b-ng2',
      'b/b-ng3',
      'c/c-ng1',
      'c/c-ng2',
      'c/c-ng3',
    ]);
    expect(report.nodegroups.every((n) => n.status === 'up-to-date')).toBe(true);
    expect(f.eksMock.commandCalls(ListClustersCommand)).toHaveLength(2);
    expect(f.eksMock.commandCalls(ListNodegroupsCommand)).toHaveLength(6);
    expect(f.eksMock.commandCalls(DescribeNodegroupCommand)).toHaveLength(9);
    // nine node groups, one shared parameter: one call, one name
    expect(f.ssmMock.commandCalls(GetParametersCommand).map((c) => c.args[0].input.Names)).toEqual([
      ['/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/recommended/release_version'],
    ]);
  });

  it('reads each distinct parameter once, in GetParameters batches of at most 10', async () => {
    const f = fleet();
    // 25 node groups on 25 distinct (AMI type, minor) streams, plus 25 more sharing them
    const streams = ['AL2023_x86_64_STANDARD', 'AL2023_ARM_64_STANDARD', 'AL2023_x86_64_NVIDIA', 'BOTTLEROCKET_x86_64', 'BOTTLEROCKET_ARM_64'].flatMap(
      (amiType) => ['1.30', '1.31', '1.32', '1.33', '1.34'].map((version) => ({ amiType, version })),
    );
    const nodegroups = [...streams, ...streams].map((s, i) => ({ ...s, nodegroupName: `ng${i}`, releaseVersion: `${s.version}.1-20250101` }));
    f.eksMock.on(DescribeClusterCommand).resolves({ cluster: { version: '1.34' } });
    f.eksMock.on(ListNodegroupsCommand).resolves({ nodegroups: nodegroups.map((n) => n.nodegroupName) });
    f.eksMock.on(DescribeNodegroupCommand).callsFake(({ nodegroupName }) => ({ nodegroup: nodegroups.find((n) => n.nodegroupName === nodegroupName) }));
    f.ssmMock.on(GetParametersCommand).callsFake(({ Names }: { Names: string[] }) => ({ Parameters: [], InvalidParameters: Names }));

    const report = await runCheck(settings({ clusters: ['big'] }), deps(f));
    const calls = f.ssmMock.commandCalls(GetParametersCommand).map((c) => c.args[0].input.Names ?? []);
    expect(calls.map((names) => names.length).sort()).toEqual([10, 10, 5]);
    expect(new Set(calls.flat()).size).toBe(25);
    expect(f.eksMock.commandCalls(ListClustersCommand)).toHaveLength(0);
    expect(report.nodegroups).toHaveLength(50);
  });

  it('reports a cluster that does not exist as an error entry and still checks the others', async () => {
    const f = fleet();
    f.eksMock
      .on(DescribeClusterCommand, { name: 'ghost' })
      .rejects(new ResourceNotFoundException({ message: 'No cluster found for name: ghost.', $metadata: {} }))
      .on(DescribeClusterCommand, { name: 'prod' })
      .resolves({ cluster: { version: '1.33' } });
    f.eksMock.on(ListNodegroupsCommand).resolves({ nodegroups: ['general'] });
    f.eksMock.on(DescribeNodegroupCommand).resolves({
      nodegroup: { amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: '1.33.12-20260610' },
    });
    f.ssmMock.on(GetParametersCommand).callsFake(({ Names }: { Names: string[] }) => ({
      // a release's own image parameter (`.../image_id`) holds its AMI id, as AWS publishes it
      Parameters: Names.map((Name) => ({
        Name,
        Value: Name.endsWith('/image_id') ? 'ami-0abcdef1234567890' : '1.33.13-20260714',
        LastModifiedDate: new Date('2026-07-14'),
      })),
    }));

    const report = await runCheck(settings({ clusters: ['ghost', 'prod'] }), deps(f));
    expect(report.nodegroups).toEqual([
      expect.objectContaining({ cluster: 'ghost', nodegroup: null, status: 'error', reason: 'ResourceNotFoundException: No cluster found for name: ghost.' }),
      expect.objectContaining({ cluster: 'prod', nodegroup: 'general', status: 'drift' }),
    ]);
    expect(report.clusters.find((c) => c.cluster === 'ghost')?.error).toContain('No cluster found');
    expect(report.drift).toBe(true);
    expect(report.counts).toMatchObject({ error: 1, drift: 1, 'up-to-date': 0 });
  });

  it('filters node groups by name and reports a named node group that does not exist', async () => {
    const f = fleet();
    f.eksMock.on(DescribeClusterCommand).resolves({ cluster: { version: '1.33' } });
    f.eksMock.on(ListNodegroupsCommand).resolves({ nodegroups: ['general', 'gpu', 'batch'] });
    f.eksMock.on(DescribeNodegroupCommand).resolves({ nodegroup: { amiType: 'CUSTOM', version: '1.33', releaseVersion: 'ami-1' } });

    const report = await runCheck(settings({ clusters: ['prod'], nodegroups: ['gpu', 'typo'] }), deps(f));
    expect(report.nodegroups.map((n) => [n.nodegroup, n.status])).toEqual([
      ['gpu', 'custom'],
      ['typo', 'error'],
    ]);
    expect(report.nodegroups[1]?.reason).toBe('node group typo does not exist in cluster prod');
    expect(f.eksMock.commandCalls(DescribeNodegroupCommand)).toHaveLength(1);
    expect(f.ssmMock.commandCalls(GetParametersCommand)).toHaveLength(0);
  });

  it('keeps at most `concurrency` describe calls in flight', async () => {
    const f = fleet();
    let inFlight = 0;
    let most = 0;
    f.eksMock.on(DescribeClusterCommand).resolves({ cluster: { version: '1.33' } });
    f.eksMock.on(ListNodegroupsCommand).resolves({ nodegroups: Array.from({ length: 30 }, (_, i) => `ng${i}`) });
    f.eksMock.on(DescribeNodegroupCommand).callsFake(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { nodegroup: { amiType: 'CUSTOM', version: '1.33', releaseVersion: 'ami-1' } };
    });
    await runCheck(settings({ clusters: ['prod'] }), deps(f));
    expect(most).toBe(4);
  });

  it('lists a self-managed group tagged for clusters of two DescribeAutoScalingGroups batches once', async () => {
    // 60 clusters: tag keys go 50 to a call, so cluster-000 and cluster-055 are asked for in two calls,
    // and a group tagged for both is in both answers.
    const f = fleet();
    const names = Array.from({ length: 60 }, (_, i) => `cluster-${String(i).padStart(3, '0')}`);
    f.eksMock.on(ListClustersCommand).resolves({ clusters: names });
    f.eksMock.on(DescribeClusterCommand).resolves({ cluster: { version: '1.33' } });
    f.eksMock.on(ListNodegroupsCommand).resolves({ nodegroups: [] });
    const shared = {
      AutoScalingGroupName: 'shared-workers',
      MinSize: 1,
      MaxSize: 3,
      DesiredCapacity: 2,
      DefaultCooldown: 300,
      AvailabilityZones: [],
      HealthCheckType: 'EC2',
      CreatedTime: new Date(),
      LaunchConfigurationName: 'shared-lc',
      Tags: [
        { Key: 'kubernetes.io/cluster/cluster-000', Value: 'shared' },
        { Key: 'kubernetes.io/cluster/cluster-055', Value: 'shared' },
      ],
    };
    f.autoscalingMock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [shared] });
    const report = await runCheck(settings(), deps(f));
    expect(f.autoscalingMock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(2);
    expect(report.nodegroups.filter((n) => n.nodegroup === 'shared-workers').map((n) => n.cluster)).toEqual(['cluster-000']);
  });
});
