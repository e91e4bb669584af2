import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parseAmazonLinuxBody, parseBottlerocketBody } from '../../src/decision/release-body.js';
import { releasesBetween, upstreamFor } from '../../src/decision/release-range.js';
import { releaseNotesSection } from '../../src/report/release-notes-body.js';
import { proposalBody } from '../../src/report/proposal-body.js';
import type { NodegroupReport } from '../../src/model/check-report.js';
import type { EntryReleaseNotes, UpstreamRelease } from '../../src/model/release-notes.js';
import { UpstreamReleases } from '../../src/repo/upstream-releases.js';
import { releaseNotesFor } from '../../src/effects/collect-release-notes.js';
import type { GitHub } from '../../src/repo/github.js';

/*
 * The pull request's release notes (docs/proposals.md, "Release notes"), read from real release
 * bodies: awslabs/amazon-eks-ami v20251209 (its notes and the Kubernetes 1.33 and 1.32 sections) and
 * v20260714 (its notes and the 1.36 section), as its CHANGELOG.md holds them, and Bottlerocket v1.26.0's
 * CHANGELOG.md section.
 */
const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
const v20251209 = fixture('amazon-eks-ami-release-v20251209.md');
const v20260714 = fixture('amazon-eks-ami-release-v20260714.md');
const bottlerocket = fixture('bottlerocket-release-v1.26.0.md');

describe('an Amazon Linux release body', () => {
  it("gives an AL2023 node group's kubelet, containerd, runc and kernel for its minor, and the release's note", () => {
    expect(parseAmazonLinuxBody(v20251209, '1.32', ['AL2023_x86_64_STANDARD'])).toEqual({
      components: [
        { name: 'kubelet', version: '1.32.9' },
        { name: 'containerd', version: '2.1.5-1.amzn2023.0.1' },
        { name: 'runc', version: '1.3.3-2.amzn2023.0.1' },
        { name: 'kernel', version: '6.1.158-180.294.amzn2023' },
      ],
      changes: ['There are no changes to the AMI template in this release.'],
      moreChanges: 0,
    });
  });

  it("reads AL2's own table, and the kernel row a type fills (kernel6.12 for AL2023 arm64 NVIDIA on 1.32)", () => {
    expect(parseAmazonLinuxBody(v20251209, '1.32', ['AL2_x86_64']).components).toEqual([
      { name: 'kubelet', version: '1.32.9' },
      { name: 'containerd', version: '1.7.29-1.eks.amzn2.0.1' },
      { name: 'runc', version: '1.2.8-1.amzn2' },
      { name: 'kernel', version: '5.10.245-245.983.amzn2' },
    ]);
    expect(parseAmazonLinuxBody(v20251209, '1.32', ['AL2023_ARM_64_NVIDIA']).components.find((c) => c.name === 'kernel')).toEqual({
      name: 'kernel',
      version: '6.12.58-82.121.amzn2023',
    });
  });

  it('reads both architectures of a node class (one version where they agree), for the minor asked for', () => {
    const columns = upstreamFor('al2023', 'v20251120', 'v20251209');
    expect(columns).toMatchObject({ family: 'amazon-linux', owner: 'awslabs', repo: 'amazon-eks-ami', currentTag: 'v20251120', targetTag: 'v20251209' });
    expect(parseAmazonLinuxBody(v20251209, '1.33', ['AL2023_x86_64_STANDARD', 'AL2023_ARM_64_STANDARD']).components).toEqual([
      { name: 'kubelet', version: '1.33.5' },
      { name: 'containerd', version: '2.1.5-1.amzn2023.0.1' },
      { name: 'runc', version: '1.3.3-2.amzn2023.0.1' },
      { name: 'kernel', version: '6.12.58-82.121.amzn2023' },
    ]);
  });

  it('says so when the release has no table for the minor', () => {
    expect(parseAmazonLinuxBody(v20251209, '1.35', ['AL2023_x86_64_STANDARD'])).toMatchObject({
      components: [],
      missing: 'no table for Kubernetes 1.35 in this release',
    });
  });

  it("trims the What's Changed bullets to one line naming the pull request, and reads kernel6.18 on 1.36", () => {
    expect(parseAmazonLinuxBody(v20260714, '1.36', ['AL2023_ARM_64_STANDARD'])).toEqual({
      components: [
        { name: 'kubelet', version: '1.36.2' },
        { name: 'containerd', version: '2.2.4-1.amzn2023.0.3' },
        { name: 'runc', version: '1.3.5-1.amzn2023.0.2' },
        { name: 'kernel', version: '6.18.36-69.138.amzn2023' },
      ],
      changes: [
        'fix: pin python3 to pre-CVE version to fix moto pkgutil crash in e2e tests (#2760)',
        'Revert "Pin AL2023 source AMI to 2023.12.20260611.0 (#2757)" (#2766)',
      ],
      moreChanges: 0,
    });
  });
});

describe('a Bottlerocket release body', () => {
  it('gives the OS version and its bullets once each, the link definitions left out', () => {
    expect(parseBottlerocketBody(bottlerocket, 'v1.26.0')).toEqual({
      components: [{ name: 'Bottlerocket', version: '1.26.0' }],
      changes: [
        'Update NVIDIA driver to 535.216.01 (#4254)',
        'Move kmod-5.10-nvidia tesla package for aws-ecs-1-nvidia variant from branch R470 to R535 (#4251)',
        'Update bottlerocket-core-kit to 3.1.0 (#4254, #4251)',
        'Update twoliter to 0.5.0 (#4251)',
        'Update bottlerocket-sdk to 0.46 (#4251)',
        'Standardize RPM release fields for RPM packages (#4244)',
        'Add link to bootstrap-commands documentation (#4247)',
      ],
      moreChanges: 0,
    });
  });
});

describe('the releases between the current and the target', () => {
  const r = (tag: string, extra: Partial<UpstreamRelease> = {}): UpstreamRelease => ({ tag, body: '', draft: false, prerelease: false, ...extra });

  it('are those after the current up to the target, by tag whatever order GitHub lists them in, without drafts or other tags', () => {
    const listed = [r('v20260618'), r('v20260505'), r('v20260714'), r('v20260610', { draft: true }), r('v20260625'), r('v20260409'), r('nodeadm/v1.0')];
    expect(releasesBetween('amazon-linux', listed, 'v20260505', 'v20260625').map((x) => x.tag)).toEqual(['v20260618', 'v20260625']);
  });

  it('order Bottlerocket versions as numbers (1.9.2 before 1.26.0), from node group releases with their commit', () => {
    const source = upstreamFor('BOTTLEROCKET_x86_64', '1.9.2-aa11bb22', '1.26.0-85f0d68c');
    expect(source).toMatchObject({ family: 'bottlerocket', owner: 'bottlerocket-os', repo: 'bottlerocket', currentTag: 'v1.9.2', targetTag: 'v1.26.0' });
    const listed = [r('v1.26.0'), r('v1.10.0'), r('v1.9.2'), r('v1.24.1'), r('v1.9.10')];
    expect(releasesBetween('bottlerocket', listed, 'v1.9.2', 'v1.26.0').map((x) => x.tag)).toEqual(['v1.9.10', 'v1.10.0', 'v1.24.1', 'v1.26.0']);
  });

  it('are a link only for Windows, and none for a custom AMI', () => {
    expect(upstreamFor('WINDOWS_CORE_2022_x86_64', '1.33-2026.05.13', '1.33-2026.06.10')).toEqual({
      family: 'windows',
      url: 'https://docs.aws.amazon.com/eks/latest/userguide/eks-ami-versions-windows.html',
    });
    expect(upstreamFor('CUSTOM', 'ami-1', 'ami-2')).toBeUndefined();
  });
});

const notesOf = (name: string, changes: number, releases = 3): EntryReleaseNotes => ({
  name,
  what: 'node group',
  amiType: 'AL2023_x86_64_STANDARD',
  kubernetesVersion: '1.33',
  current: '1.33.11-20260505',
  target: '1.33.13-20260625',
  releasesUrl: 'https://github.com/awslabs/amazon-eks-ami/releases',
  notListed: 0,
  notes: Array.from({ length: releases }, (_, i) => ({
    tag: `v202606${10 + i}`,
    url: `https://github.com/awslabs/amazon-eks-ami/releases/tag/v202606${10 + i}`,
    components: [{ name: 'kubelet', version: '1.33.12' }],
    changes: Array.from({ length: changes }, (_, k) => `change ${k} ${'x'.repeat(140)}`),
    moreChanges: 0,
  })),
});

describe('the release notes section', () => {
  it('is collapsed, one line per release with its components and a line per change', () => {
    const lines = releaseNotesSection([notesOf('general', 1, 1)], 60_000);
    expect(lines).toEqual([
      '<details><summary>Release notes: 1 upstream release(s) between the current and target releases</summary>',
      [
        '',
        '**general** (node group, AL2023_x86_64_STANDARD, Kubernetes 1.33): 1.33.11-20260505 → 1.33.13-20260625, 1 release(s):',
        '',
        '- [v20260610](https://github.com/awslabs/amazon-eks-ami/releases/tag/v20260610): kubelet 1.33.12',
        `  - change 0 ${'x'.repeat(140)}`,
        '',
      ].join('\n'),
      '</details>',
      '',
    ]);
  });

  it('is one line saying why when no notes could be read', () => {
    const unread = { ...notesOf('general', 0, 0), unread: 'GitHub’s rate limit was reached' };
    expect(releaseNotesSection([unread, { ...unread, name: 'spot' }], 60_000)).toEqual([
      '**Release notes:** could not be read (GitHub’s rate limit was reached); ' +
        'they are at [awslabs/amazon-eks-ami/releases](https://github.com/awslabs/amazon-eks-ami/releases).',
      '',
    ]);
  });

  it("is shortened first: a body with huge notes stays within GitHub's 65,536 characters and keeps every row of the table", () => {
    const entries = Array.from({ length: 40 }, (_, i) => ({
      cluster: 'prod',
      region: 'us-east-1',
      nodegroup: `ng-${i}`,
      nodeKind: 'managed-release',
      pinKey: 'releaseVersion',
      amiType: 'AL2023_x86_64_STANDARD',
      kubernetesVersion: '1.33',
      releaseVersion: '1.33.11-20260505',
      latestReleaseVersion: '1.33.13-20260625',
      latestReleasePublishedAt: '2026-06-25T18:00:00.000Z',
      releaseNotesUrl: 'https://github.com/awslabs/amazon-eks-ami/releases/tag/v20260625',
      nodes: 3,
      status: 'drift',
      reason: '',
    })) as unknown as NodegroupReport[];
    const notes = entries.map((e) => notesOf(e.nodegroup as string, 8, 20));
    const body = proposalBody('pr', 'us-east-1', 'prod', entries, 'm.yaml', undefined, undefined, notes);
    expect(body.length).toBeLessThanOrEqual(65_536);
    for (let i = 0; i < 40; i++) expect(body).toContain(`| ng-${i} | AL2023_x86_64_STANDARD | 1.33 | 1.33.11-20260505 |`);
    expect(body).toContain('Release notes shortened to keep this description within GitHub’s 65,536 characters: the links lead to the rest.');
    expect(body).toContain('</details>');
    expect(body).toContain('**What merging does.**');
  });
});

describe('the notes of a cluster, read once a run', () => {
  // A GitHub client with the two calls the reader makes, counting them (the action's is Octokit's).
  const fakeGitHub = (answer: (route: string) => unknown[]) => {
    const calls: string[] = [];
    const listReleases = (p: { owner: string; repo: string }) => `${p.owner}/${p.repo}`;
    const github = {
      request: { endpoint: { DEFAULTS: { baseUrl: 'https://api.github.com' } } },
      rest: { repos: { listReleases, getReleaseByTag: async () => Promise.reject(Object.assign(new Error('Not Found'), { status: 404 })) } },
      paginate: async (route: typeof listReleases, params: { owner: string; repo: string }, map: (r: { data: unknown[] }) => unknown[]) => {
        calls.push(route(params));
        return map({ data: answer(route(params)) });
      },
    };
    return { github: github as unknown as GitHub, calls };
  };
  const release = (tag: string, body: string) => ({ tag_name: tag, body, draft: false, prerelease: false });
  const nodeClass = {
    nodegroup: 'default',
    pinKey: 'alias',
    amiType: 'al2023',
    kubernetesVersion: '1.32',
    releaseVersion: 'v20251120',
    latestReleaseVersion: 'v20251209',
    status: 'drift',
    nodeClass: { targetAlias: 'al2023@v20251209' },
  } as unknown as NodegroupReport;
  const windows = {
    nodegroup: 'win',
    pinKey: 'releaseVersion',
    amiType: 'WINDOWS_CORE_2022_x86_64',
    kubernetesVersion: '1.32',
    releaseVersion: '1.32-2025.11.12',
    latestReleaseVersion: '1.32-2025.12.10',
    status: 'drift',
  } as unknown as NodegroupReport;

  it("gives a node class its family's release, both architectures, and Windows a link; a repository listed once for every cluster", async () => {
    const { github, calls } = fakeGitHub(() => [release('v20251209', v20251209), release('v20251120', '')]);
    const upstream = new UpstreamReleases(github);
    const first = await releaseNotesFor(upstream, [nodeClass, windows]);
    await releaseNotesFor(upstream, [nodeClass]);
    expect(calls).toEqual(['awslabs/amazon-eks-ami']);
    expect(first.map((n) => [n.name, n.what, n.notes.map((x) => [x.tag, x.components.map((c) => `${c.name} ${c.version}`).join(', ')]), !!n.linkOnly])).toEqual(
      [
        [
          'default',
          'node class',
          [['v20251209', 'kubelet 1.32.9, containerd 2.1.5-1.amzn2023.0.1, runc 1.3.3-2.amzn2023.0.1, kernel 6.1.158-180.294.amzn2023']],
          false,
        ],
        ['win', 'node group', [], true],
      ],
    );
  });

  it('reads a target the listing lacks by its tag, once for every node class that moves to it', async () => {
    const { github, calls } = fakeGitHub(() => [release('v20251120', '')]);
    const byTag: string[] = [];
    (github.rest.repos as unknown as { getReleaseByTag: unknown }).getReleaseByTag = async (p: { tag: string }) => {
      byTag.push(p.tag);
      return { data: release(p.tag, v20251209) };
    };
    const upstream = new UpstreamReleases(github);
    const notes = await releaseNotesFor(upstream, [nodeClass, { ...nodeClass, nodegroup: 'batch' }]);
    expect([calls, byTag]).toEqual([['awslabs/amazon-eks-ami'], ['v20251209']]);
    expect(notes.map((n) => n.notes.map((x) => x.components[0]))).toEqual([[{ name: 'kubelet', version: '1.32.9' }], [{ name: 'kubelet', version: '1.32.9' }]]);
  });

  it('stops reading at a rate limit, for every repository after it, and says why', async () => {
    const { github, calls } = fakeGitHub(() => {
      throw Object.assign(new Error('API rate limit exceeded'), { status: 429, response: { headers: {}, data: { message: 'API rate limit exceeded' } } });
    });
    const upstream = new UpstreamReleases(github);
    const bottlerocket = {
      ...nodeClass,
      nodegroup: 'br',
      amiType: 'bottlerocket',
      releaseVersion: 'v1.24.1',
      nodeClass: { targetAlias: 'bottlerocket@v1.26.0' },
    };
    const notes = await releaseNotesFor(upstream, [nodeClass, bottlerocket as NodegroupReport]);
    expect(calls).toEqual(['awslabs/amazon-eks-ami']);
    expect(notes.map((n) => n.unread)).toEqual([
      "GitHub's rate limit was reached (HTTP 429) at https://api.github.com; not asked again in this run",
      "GitHub's rate limit was reached (HTTP 429) at https://api.github.com; not asked again in this run",
    ]);
  });

  it('a body the parser cannot read gives the links and a line saying so, never a failed pull request', async () => {
    // A body GitHub would not send (a number): the parser throws, the notes are left out, nothing fails.
    const { github } = fakeGitHub(() => [release('v20251209', 12345 as unknown as string), release('v20251120', '')]);
    const notes = await releaseNotesFor(new UpstreamReleases(github), [nodeClass]);
    expect(notes.map((n) => [n.notes, n.releasesUrl])).toEqual([[[], 'https://github.com/awslabs/amazon-eks-ami/releases']]);
    expect(notes[0]!.unread).toMatch(/^the notes could not be read: /);
  });
});
