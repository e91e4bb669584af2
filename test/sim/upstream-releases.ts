import { amazonLinuxReleases, bottlerocketReleases, type PublishedRelease } from './releases.js';

/*
 * The upstream projects' GitHub releases the pull request's release notes read (issue 26), served by
 * the simulated GitHub (./github.ts) at GITHUB_API_URL as github.com serves them.
 *
 * Tags from the fixtures (test/fixtures: awslabs/amazon-eks-ami's tags and release versions,
 * Bottlerocket's versions). The bodies copy the real structure: an amazon-eks-ami release body is what
 * its CHANGELOG.md entry holds (awslabs/amazon-eks-ami .github/workflows/update-changelog.yaml), e.g.
 * v20251209 and v20260714: "## What's Changed" bullets, `---`, `<h2>AMI Details</h2>`, and per
 * Kubernetes minor a `<details>` with the AMI names and release version, then a `<th>Package</th>`
 * table per family with `colspan` cells. A Bottlerocket body is shaped like its CHANGELOG.md section
 * (bottlerocket-os/bottlerocket CHANGELOG.md, v1.26.0). The kubelet versions are the fixtures' release
 * versions; containerd, runc and kernel versions are made up in the real shapes (a different one each
 * release, so a test can tell releases apart).
 *
 * GitHub's REST API: "List releases" pages with `per_page` (default 30, at most 100) and `page`, the
 * next page named in a `Link` header (docs.github.com, "Using pagination in the REST API"); its order is
 * not documented, so the simulator lists newest first except one old release re-created late, listed
 * first, as a release made after the fact is (Somsubhra/github-release-stats#41).
 */

export interface SimRelease {
  tag_name: string;
  name: string;
  body: string;
  draft: boolean;
  prerelease: boolean;
  created_at: string;
}

export const UPSTREAM_REPOS = ['awslabs/amazon-eks-ami', 'bottlerocket-os/bottlerocket'] as const;

/** What the upstream releases answer: normally, 404 (a GitHub Enterprise Server without them), or a rate limit. */
export type UpstreamFault = 'none' | 'not-found' | 'rate-limited';

const AL2023_ORDER = ['AL2023_x86_64_NVIDIA', 'AL2023_x86_64_NEURON', 'AL2023_x86_64_STANDARD', 'AL2023_ARM_64_NVIDIA', 'AL2023_ARM_64_STANDARD'];
const AL2_ORDER = ['AL2_x86_64', 'AL2_ARM_64', 'AL2_x86_64_GPU'];

const CHANGES = [
  'Update containerd to the latest Amazon Linux build',
  'Pin the AL2023 source AMI to the latest minimal release',
  'nodeadm: retry reading instance metadata on throttling',
  'Cache the pause image at build time',
  'Update runc to the latest Amazon Linux build',
  'Bump the NVIDIA driver to the latest 580 branch',
];

/** The made-up component versions of the `i`-th release (oldest first), per family. */
export function simComponents(i: number, minor: string) {
  const [, m] = minor.split('.').map(Number) as [number, number];
  const kernel =
    m >= 36
      ? ['kernel6.18', `6.18.${i}-69.138.amzn2023`]
      : m >= 33
        ? ['kernel6.12', `6.12.${40 + i}-82.121.amzn2023`]
        : ['kernel', `6.1.${100 + i}-180.294.amzn2023`];
  return {
    al2023: { containerd: `2.1.${Math.floor(i / 4)}-1.amzn2023.0.${(i % 4) + 1}`, runc: `1.3.${Math.floor(i / 10)}-1.amzn2023.0.${(i % 10) + 1}`, kernel },
    al2: { containerd: `1.7.${i % 30}-1.eks.amzn2.0.1`, runc: `1.2.${i % 10}-1.amzn2`, kernel: ['kernel', `5.10.${200 + i}-245.983.amzn2`] },
  };
}

function packageTable(columns: string[], rows: [string, string][]): string[] {
  return [
    '  <table>',
    '    <tr>',
    '      <th>Package</th>',
    ...columns.map((c) => `      <th>${c}</th>`),
    '    </tr>',
    ...rows.flatMap(([name, value]) => ['    <tr>', `      <td>${name}</td>`, `      <td colspan="${columns.length}">${value}</td>`, '    </tr>']),
    '  </table>',
  ];
}

function minorSection(tag: string, minor: string, rs: PublishedRelease[], i: number): string[] {
  const release = rs[0]!.releaseVersion;
  const types = new Set(rs.map((r) => r.amiType));
  const al2023 = AL2023_ORDER.filter((t) => types.has(t));
  const al2 = AL2_ORDER.filter((t) => types.has(t));
  const names = rs.map((r) => r.amiType);
  const c = simComponents(i, minor);
  const lines = [
    '<details>',
    `<summary><b>Kubernetes ${minor}</b></summary>`,
    '  <table>',
    '    <tr>',
    '      <th>AMI Names</th>',
    '      <th>Release version</th>',
    '      <th>Included artifacts</th>',
    ...names.flatMap((t, k) => [
      '    <tr>',
      `      <td>${amiName(t, minor, tag)}</td>`,
      ...(k === 0
        ? [
            `      <td rowspan="${names.length}">${release}</td>`,
            `      <td rowspan="${names.length}">s3://amazon-eks/${release.split('-')[0]}/${tag.slice(1, 5)}-${tag.slice(5, 7)}-01/</td>`,
          ]
        : []),
      '    </tr>',
    ]),
    '  </table>',
  ];
  if (al2.length > 0)
    lines.push(
      ...packageTable(al2, [
        ['amazon-ssm-agent', '3.3.3050.0-1.amzn2'],
        ['containerd', c.al2.containerd],
        [c.al2.kernel[0]!, c.al2.kernel[1]!],
        ['runc', c.al2.runc],
      ]),
    );
  if (al2023.length > 0)
    lines.push(
      ...packageTable(al2023, [
        ['amazon-ssm-agent', '3.3.4624.0-1.amzn2023'],
        ['containerd', c.al2023.containerd],
        [c.al2023.kernel[0]!, c.al2023.kernel[1]!],
        ['runc', c.al2023.runc],
      ]),
    );
  lines.push('</details>', '');
  return lines;
}

function amiName(amiType: string, minor: string, tag: string): string {
  const al2: Record<string, string> = { AL2_x86_64: 'amazon-eks-node', AL2_ARM_64: 'amazon-eks-arm64-node', AL2_x86_64_GPU: 'amazon-eks-gpu-node' };
  if (al2[amiType]) return `${al2[amiType]}-${minor}-${tag}`;
  const [, arch, variant] = /^AL2023_(x86_64|ARM_64)_(\w+)$/.exec(amiType) ?? [];
  return `amazon-eks-node-al2023-${arch === 'ARM_64' ? 'arm64' : 'x86_64'}-${(variant ?? '').toLowerCase()}-${minor}-${tag}`;
}

/** The `i`-th amazon-eks-ami release's body (oldest first), shaped like the real ones. */
export function amazonLinuxBody(tag: string, previous: string | undefined, i: number): string {
  const rs = amazonLinuxReleases().filter((r) => r.tag === tag);
  const minors = [...new Set(rs.map((r) => r.minor))].sort((a, b) => Number(b.split('.')[1]) - Number(a.split('.')[1]));
  return [
    "## What's Changed",
    `* ${CHANGES[i % CHANGES.length]} by @maintainer in https://github.com/awslabs/amazon-eks-ami/pull/${2400 + 2 * i}`,
    `* ${CHANGES[(i + 1) % CHANGES.length]} by @maintainer in https://github.com/awslabs/amazon-eks-ami/pull/${2401 + 2 * i}`,
    '',
    '',
    previous ? `**Full Changelog**: https://github.com/awslabs/amazon-eks-ami/compare/${previous}...${tag}` : '',
    '',
    '---',
    '',
    '<h2>AMI Details</h2>',
    '',
    ...minors.flatMap((m) =>
      minorSection(
        tag,
        m,
        rs.filter((r) => r.minor === m),
        i,
      ),
    ),
  ].join('\n');
}

/** A Bottlerocket release's body, shaped like its CHANGELOG.md section. */
export function bottlerocketBody(version: string, i: number): string {
  return [
    '## Release Highlights',
    `* Update NVIDIA driver to 535.${200 + i}.01 ([#${4200 + i}])`,
    '',
    '## Build Changes',
    '',
    '### OS Changes',
    `* Update bottlerocket-core-kit to ${i + 1}.0.0 ([#${4200 + i}])`,
    `* Update NVIDIA driver to 535.${200 + i}.01 ([#${4200 + i}])`,
    '',
    `[#${4200 + i}]: https://github.com/bottlerocket-os/bottlerocket/pull/${4200 + i}`,
  ].join('\n');
}

const cache = new Map<string, SimRelease[]>();

/** The releases of an upstream repository, in the order the simulated API lists them. */
export function upstreamReleases(repo: string): SimRelease[] | undefined {
  if (cache.has(repo)) return cache.get(repo);
  let oldestFirst: SimRelease[];
  if (repo === 'awslabs/amazon-eks-ami') {
    const tags = [...new Set(amazonLinuxReleases().map((r) => r.tag))].sort();
    oldestFirst = tags.map((tag, i) => ({
      tag_name: tag,
      name: `AMI Release ${tag}`,
      body: amazonLinuxBody(tag, tags[i - 1], i),
      draft: false,
      prerelease: false,
      created_at: `${tag.slice(1, 5)}-${tag.slice(5, 7)}-${tag.slice(7, 9)}T18:00:00Z`,
    }));
  } else if (repo === 'bottlerocket-os/bottlerocket') {
    oldestFirst = bottlerocketReleases().map((release, i) => {
      const version = release.split('-')[0]!;
      return {
        tag_name: `v${version}`,
        name: `v${version}`,
        body: bottlerocketBody(version, i),
        draft: false,
        prerelease: false,
        created_at: '2025-01-01T00:00:00Z',
      };
    });
  } else return undefined;
  const newestFirst = [...oldestFirst].reverse();
  // One old release re-created late: listed first, out of tag order.
  const late = newestFirst.splice(newestFirst.length - 3, 1);
  const listed = [...late, ...newestFirst];
  cache.set(repo, listed);
  return listed;
}
