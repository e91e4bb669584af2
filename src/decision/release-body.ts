/*
 * Reading the upstream release bodies (issue 26): component versions and notable changes.
 *
 * Amazon Linux (awslabs/amazon-eks-ami): a release's GitHub body is what its CHANGELOG.md entry holds
 * (.github/workflows/update-changelog.yaml writes `# ${release.name}\n${release.body}` from
 * getReleaseByTag). As in the bodies of v20251209 and v20260714 there: the notes first ("## What's
 * Changed" bullets `* <title> by @<login> in https://github.com/awslabs/amazon-eks-ami/pull/<n>`, or a
 * `> **Note**` quote), then `---` and `<h2>AMI Details</h2>`, then one
 * `<details><summary><b>Kubernetes 1.32</b></summary>` per minor holding an HTML table of AMI names with
 * the release version (`<td rowspan="8">1.32.9-20251209</td>`, its Kubernetes binaries from
 * `s3://amazon-eks/1.32.9/...`: the kubelet's version is that patch version) and one table per
 * family whose header is `<th>Package</th>` then one `<th>` per AMI type (AL2_x86_64, AL2023_ARM_64_NVIDIA,
 * ...), each row `<td>containerd</td>` then cells spanning AMI types (`<td colspan="3">1.7.29-1.eks.amzn2.0.1</td>`,
 * `—` where a type has no such package). The kernel's row is `kernel`, `kernel6.12` or `kernel6.18`,
 * whichever has a value for the type.
 *
 * Bottlerocket (bottlerocket-os/bottlerocket): the body is shaped like the version's CHANGELOG.md
 * section (`## Release Highlights`, `## Build Changes`, `### OS Changes`, bullets ending in
 * `([#4264])` with the link definitions below); that the GitHub release body is that section is
 * UNVERIFIED, so any bullet list is read and a body without one gives the version alone.
 */

export interface ParsedRelease {
  components: { name: string; version: string }[];
  changes: string[];
  moreChanges: number;
  missing?: string;
}

/** At most this many bullet points a release, each at most this long. */
export const MAX_CHANGES = 8;
const MAX_CHANGE_CHARS = 160;

const stripTags = (html: string) =>
  html
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .trim();
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A bullet as people read it in a table of changes: one line, the pull request as `#n`, short. */
function trimChange(text: string): string {
  const t = text
    .replace(/\s+by @[\w[\]-]+ in https:\/\/github\.com\/[\w.-]+\/[\w.-]+\/pull\/(\d+)\s*$/, ' (#$1)')
    .replace(/\(\[#(\d+)\]\)/g, '(#$1)')
    .replace(/\[#(\d+)\](?!\()/g, '#$1')
    .replace(/\s+/g, ' ')
    .trim();
  return t.length > MAX_CHANGE_CHARS ? `${t.slice(0, MAX_CHANGE_CHARS - 1).trimEnd()}…` : t;
}

/** The bullet points (and quoted notes) of a markdown text, trimmed, without repeats. */
export function changesOf(markdown: string): { changes: string[]; moreChanges: number } {
  const all: string[] = [];
  for (const line of markdown.split(/\r?\n/)) {
    const bullet = /^\s{0,3}[*-]\s+(.+)$/.exec(line)?.[1];
    const quote = /^\s*>\s*(.+)$/.exec(line)?.[1];
    const text = bullet ?? (quote && !/^\*\*note\*\*$|^\[!\w+\]$/i.test(quote.trim()) ? quote : undefined);
    if (!text) continue;
    const change = trimChange(text);
    if (change && !all.includes(change)) all.push(change);
  }
  return { changes: all.slice(0, MAX_CHANGES), moreChanges: Math.max(0, all.length - MAX_CHANGES) };
}

/** The package tables of one Kubernetes section: package → AMI type → version. */
function packageTables(section: string): Map<string, Map<string, string>> {
  const packages = new Map<string, Map<string, string>>();
  for (const table of section.split(/<table[^>]*>/).slice(1)) {
    const rows = table.split(/<tr[^>]*>/).slice(1);
    const header = [...(rows[0] ?? '').matchAll(/<th[^>]*>([\s\S]*?)<\/th>/g)].map((m) => stripTags(m[1]!));
    if (header[0] !== 'Package') continue;
    const columns = header.slice(1);
    for (const row of rows.slice(1)) {
      const cells = [...row.matchAll(/<td([^>]*)>([\s\S]*?)<\/td>/g)];
      const name = cells[0] ? stripTags(cells[0][2]!) : '';
      if (!name) continue;
      const values = packages.get(name) ?? new Map<string, string>();
      let column = 0;
      for (const cell of cells.slice(1)) {
        const span = Number(/colspan="?(\d+)/.exec(cell[1]!)?.[1] ?? 1);
        const value = stripTags(cell[2]!);
        for (let i = 0; i < span && column < columns.length; i++, column++) if (value && value !== '—' && value !== '-') values.set(columns[column]!, value);
      }
      packages.set(name, values);
    }
  }
  return packages;
}

/**
 * An Amazon Linux release body read for one Kubernetes minor and the AMI types a node group (one) or
 * node class (its architectures) runs: kubelet, containerd, runc and kernel, and the notes' bullets.
 * Where the AMI types disagree the versions are joined with ` / ` in the order given.
 */
export function parseAmazonLinuxBody(body: string, minor: string, amiTypes: readonly string[]): ParsedRelease {
  const split = body.search(/^---\s*$|<h2>\s*AMI Details/m);
  const { changes, moreChanges } = changesOf(split >= 0 ? body.slice(0, split) : body);
  const section = new RegExp(`<summary>\\s*(?:<b>)?\\s*Kubernetes ${escapeRe(minor)}\\s*(?:</b>)?\\s*</summary>([\\s\\S]*?)</details>`).exec(body)?.[1];
  if (!section) return { components: [], changes, moreChanges, missing: `no table for Kubernetes ${minor} in this release` };
  const components: ParsedRelease['components'] = [];
  const kubelet = /<td[^>]*>\s*(\d+\.\d+\.\d+)-\d{8}\s*<\/td>/.exec(section)?.[1];
  if (kubelet) components.push({ name: 'kubelet', version: kubelet });
  const packages = packageTables(section);
  const pick = (match: (name: string) => boolean) => {
    const found = amiTypes.flatMap((t) => {
      const row = [...packages].find(([name, values]) => match(name) && values.has(t));
      return row ? [row[1].get(t)!] : [];
    });
    return [...new Set(found)].join(' / ');
  };
  for (const [label, match] of [
    ['containerd', (n: string) => n === 'containerd'],
    ['runc', (n: string) => n === 'runc'],
    ['kernel', (n: string) => /^kernel(\d+\.\d+)?$/.test(n)],
  ] as const) {
    const version = pick(match);
    if (version) components.push({ name: label, version });
  }
  const missing = components.length <= 1 && packages.size === 0 ? `no package table for Kubernetes ${minor} in this release` : undefined;
  return { components, changes, moreChanges, ...(missing ? { missing } : {}) };
}

/** A Bottlerocket release body: the OS version (from its tag) and the bullets. */
export function parseBottlerocketBody(body: string, tag: string): ParsedRelease {
  // The link definitions at the end (`[#4264]: https://...`) are not changes.
  const { changes, moreChanges } = changesOf(body.replace(/^\[#\d+\]:.*$/gm, ''));
  return { components: [{ name: 'Bottlerocket', version: tag.replace(/^v/, '') }], changes, moreChanges };
}
