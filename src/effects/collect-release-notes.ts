import { proposedRelease, type NodegroupReport } from '../model/check-report.js';
import type { EntryReleaseNotes, ReleaseNote, UpstreamRelease } from '../model/release-notes.js';
import { MAX_RELEASES, parseRelease, releasesBetween, releasesPageUrl, releaseUrl, upstreamFor } from '../decision/release-range.js';
import { NotesUnreadable, type UpstreamReleases } from '../repo/upstream-releases.js';
import { isNodeClass, targetAlias } from './propose-node-classes.js';

/*
 * The release notes of a cluster's pull request (issue 26): for each drifted node group and node class,
 * the upstream releases after its current release up to its target, with component versions and
 * changes. Read through one UpstreamReleases per run (../repo/upstream-releases.ts: each release at most
 * once, a rate limit stops all reads); what cannot be read is said in a line, and nothing fails.
 */

/** The target a drifted entry moves to, as a release or alias version. */
function targetOf(e: NodegroupReport): string | null {
  if (!isNodeClass(e)) return proposedRelease(e);
  return targetAlias(e)?.split('@')[1] ?? null;
}

export async function releaseNotesFor(upstream: UpstreamReleases, drift: readonly NodegroupReport[]): Promise<EntryReleaseNotes[]> {
  const out: EntryReleaseNotes[] = [];
  // One entry at a time: the reads are paced by the cache (a repository is listed once), not raced.
  for (const e of drift) {
    const target = targetOf(e);
    if (!e.amiType || !e.releaseVersion || !target) continue;
    const source = upstreamFor(e.amiType, e.releaseVersion, target);
    if (!source) continue;
    const base = {
      name: e.nodegroup as string,
      what: isNodeClass(e) ? ('node class' as const) : ('node group' as const),
      amiType: e.amiType,
      kubernetesVersion: e.kubernetesVersion,
      current: e.releaseVersion,
      target,
      notes: [] as ReleaseNote[],
      notListed: 0,
    };
    if (source.family === 'windows') {
      out.push({ ...base, releasesUrl: source.url, linkOnly: true });
      continue;
    }
    const { family, owner, repo, currentTag, targetTag, columns } = source;
    const entry: EntryReleaseNotes = { ...base, releasesUrl: releasesPageUrl(owner, repo) };
    out.push(entry);
    try {
      let between = releasesBetween(family, await upstream.list(owner, repo), currentTag, targetTag);
      // A target just published may not be listed yet: read it by its tag (once, cached).
      if (!between.some((r) => r.tag === targetTag)) {
        const byTag = await upstream.byTag(owner, repo, targetTag);
        if (byTag) between = releasesBetween(family, [...between, byTag], currentTag, targetTag);
      }
      entry.notListed = Math.max(0, between.length - MAX_RELEASES);
      for (const r of between.slice(-MAX_RELEASES)) entry.notes.push(await noteOf(upstream, owner, repo, family, r, e.kubernetesVersion, columns));
      if (between.length === 0) entry.unread = `no release after ${currentTag} up to ${targetTag} is listed in ${owner}/${repo}`;
    } catch (error) {
      // Notes are a courtesy: whatever went wrong (a refusal, or a body this parser did not expect), the
      // pull request goes on with the links and a line saying why.
      entry.notes = [];
      entry.unread =
        error instanceof NotesUnreadable ? error.message : `the notes could not be read: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return out;
}

async function noteOf(
  upstream: UpstreamReleases,
  owner: string,
  repo: string,
  family: 'amazon-linux' | 'bottlerocket',
  listed: UpstreamRelease,
  minor: string | null,
  columns: string[],
): Promise<ReleaseNote> {
  // A listing carries the bodies; one without (null) is read by its tag.
  const body = listed.body ?? (await upstream.byTag(owner, repo, listed.tag))?.body ?? '';
  const parsed = parseRelease(family, body, listed.tag, minor, columns);
  return { tag: listed.tag, url: releaseUrl(owner, repo, listed.tag), ...parsed };
}
