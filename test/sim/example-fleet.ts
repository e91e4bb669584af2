import type { FleetSpec } from './fleet.js';
import { amazonLinuxParameters, bottlerocketParameter, releasesOf } from './releases.js';
import { awsImageName } from './images.js';

function release(amiType: string, minor: string, fromNewest: number): string {
  const all = releasesOf(amiType, minor);
  const r = all[all.length - 1 - fromNewest];
  if (!r) throw new Error(`no ${amiType} ${minor} release ${fromNewest} back in the fixture`);
  return r.releaseVersion;
}

/**
 * The built-in example fleet of `npm run demo`: three clusters in two regions with what a real fleet
 * has, on real release data: Amazon Linux 2023 behind and current, Bottlerocket with a release still
 * soaking, an AL2 node group on 1.33 (no AMI: migrate), a node group behind its control plane, a
 * launch template naming AWS's AMI by id (CUSTOM), and self-managed Auto Scaling groups: one on AWS's
 * current image through a launch configuration, one on a deprecated private image.
 */
export function exampleFleet(now = new Date()): FleetSpec {
  const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000).toISOString();
  return {
    clusters: [
      {
        name: 'prod-payments',
        region: 'us-east-1',
        version: '1.33',
        nodegroups: [
          { name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: release('AL2023_x86_64_STANDARD', '1.33', 3), desiredSize: 6 },
          { name: 'gpu', amiType: 'AL2023_x86_64_NVIDIA', version: '1.33', releaseVersion: release('AL2023_x86_64_NVIDIA', '1.33', 0), desiredSize: 2 },
          { name: 'legacy', amiType: 'AL2_x86_64', version: '1.33', releaseVersion: '1.32.9-20251209', desiredSize: 3 },
        ],
        selfManaged: [
          {
            name: 'prod-payments-batch',
            desiredSize: 2,
            launchConfiguration: {
              name: 'prod-payments-batch-v7',
              image: { aws: awsImageName('AL2023_x86_64_STANDARD', '1.33', release('AL2023_x86_64_STANDARD', '1.33', 0)) },
            },
          },
        ],
      },
      {
        name: 'prod-search',
        region: 'us-east-1',
        version: '1.32',
        nodegroups: [
          { name: 'system', amiType: 'BOTTLEROCKET_x86_64', version: '1.32', releaseVersion: '1.26.0-85f0d68c', desiredSize: 3 },
          {
            name: 'indexers',
            amiType: 'AL2023_ARM_64_STANDARD',
            version: '1.31',
            releaseVersion: release('AL2023_ARM_64_STANDARD', '1.31', 1),
            desiredSize: 4,
          },
          {
            name: 'bespoke',
            amiType: 'CUSTOM',
            version: '1.32',
            releaseVersion: '(its image id)',
            desiredSize: 2,
            launchTemplate: {
              id: 'lt-0bespoke000000001',
              name: 'prod-search-bespoke',
              version: '3',
              image: { aws: awsImageName('AL2023_x86_64_STANDARD', '1.32', release('AL2023_x86_64_STANDARD', '1.32', 2)) },
            },
          },
        ],
        selfManaged: [
          {
            name: 'prod-search-ingress',
            desiredSize: 3,
            launchTemplate: {
              id: 'lt-0ingress00000001',
              name: 'prod-search-ingress',
              version: '$Latest',
              mixed: true,
              image: { private: 'ingress-hardened-2026.05', createdAt: hoursAgo(24 * 200), deprecatedAt: hoursAgo(24 * 20) },
            },
          },
        ],
      },
      {
        name: 'staging',
        region: 'eu-west-1',
        version: '1.34',
        nodegroups: [
          { name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.34', releaseVersion: release('AL2023_x86_64_STANDARD', '1.34', 0), desiredSize: 2 },
          { name: 'arm', amiType: 'BOTTLEROCKET_ARM_64', version: '1.34', releaseVersion: '1.26.0-85f0d68c', desiredSize: 2 },
        ],
      },
    ],
    parameters: [
      ...amazonLinuxParameters(),
      bottlerocketParameter('1.32', 'x86_64', '1.34.0-18d04e52', hoursAgo(24 * 9)),
      // Published 20 hours ago: with min-release-age 36h it soaks rather than drifts.
      bottlerocketParameter('1.34', 'arm64', '1.34.0-18d04e52', hoursAgo(20)),
    ],
  };
}

const MIXED: [string, string][] = [
  ['AL2023_x86_64_STANDARD', '1.33'],
  ['AL2023_ARM_64_STANDARD', '1.32'],
  ['AL2023_x86_64_NVIDIA', '1.33'],
  ['AL2_x86_64', '1.32'],
  ['BOTTLEROCKET_x86_64', '1.33'],
];

/**
 * A fleet of `clusters` clusters with 5 node groups each, mixed AMI types and Kubernetes versions,
 * every other node group one release behind: the shape of the scale tests and benchmarks.
 */
export function generatedFleet(clusters: number, region = 'us-east-1'): FleetSpec {
  return {
    clusters: Array.from({ length: clusters }, (_, c) => ({
      name: `cluster-${String(c).padStart(3, '0')}`,
      region,
      version: '1.33',
      nodegroups: MIXED.map(([amiType, minor], i) => ({
        name: `ng-${i}`,
        amiType,
        version: minor,
        releaseVersion: amiType.startsWith('BOTTLEROCKET') ? '1.26.0-85f0d68c' : release(amiType, minor, (c + i) % 2),
        desiredSize: 3,
      })),
    })),
    parameters: [...amazonLinuxParameters(), bottlerocketParameter('1.33', 'x86_64', '1.34.0-18d04e52', '2026-11-01T00:00:00Z')],
  };
}

/** `n` clusters per region, named `<region>-cluster-000`..., one node group each: the fan-out tests' fleet (node groups only cost time there). */
export function regionalFleet(perRegion: Record<string, number>): FleetSpec {
  const specs = Object.entries(perRegion).map(([region, n]) => {
    const f = generatedFleet(n, region);
    return { ...f, clusters: f.clusters.map((c) => ({ ...c, name: `${region}-${c.name}`, nodegroups: c.nodegroups.slice(0, 1) })) };
  });
  return { clusters: specs.flatMap((s) => s.clusters), parameters: specs[0]?.parameters ?? [] };
}
