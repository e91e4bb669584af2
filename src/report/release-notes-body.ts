import type { EntryReleaseNotes } from '../model/release-notes.js';
import { cell, fitMarkdown } from './markdown.js';

/*
 * The release notes' part of a pull request's body (issue 26): collapsed, so the table of node groups
 * stays the first thing a reviewer reads, and shortened first when the body nears GitHub's 65,536
 * characters (the table never is: ./proposal-body.ts gives the notes what the rest leaves).
 */

/** Text from a release body, safe in markdown: no HTML, one line. */
const plain = (text: string) => cell(text).replace(/\\\|/g, '|');

function entryLines(n: EntryReleaseNotes): string[] {
  const minor = n.kubernetesVersion ? `, Kubernetes ${plain(n.kubernetesVersion)}` : '';
  const head = `**${plain(n.name)}** (${n.what}, ${plain(n.amiType)}${minor}): ${plain(n.current)} → ${plain(n.target)}`;
  if (n.linkOnly) return [`${head}: [release notes](${n.releasesUrl})`, ''];
  if (n.unread) return [`${head}: the notes could not be read (${plain(n.unread)}); [all releases](${n.releasesUrl})`, ''];
  const lines = [`${head}, ${n.notes.length + n.notListed} release(s):`, ''];
  if (n.notListed > 0) lines.push(`- ${n.notListed} earlier release(s) not listed here: [all releases](${n.releasesUrl})`);
  for (const r of n.notes) {
    const components = r.components.map((c) => `${c.name} ${plain(c.version)}`).join(', ');
    const about = [components, r.missing ? plain(r.missing) : ''].filter(Boolean).join('; ');
    lines.push(`- [${r.tag}](${r.url})${about ? `: ${about}` : ''}`);
    for (const c of r.changes) lines.push(`  - ${plain(c)}`);
    if (r.moreChanges > 0) lines.push(`  - and ${r.moreChanges} more in [the release](${r.url})`);
  }
  lines.push('');
  return lines;
}

/**
 * The section, within `budget` characters: collapsed notes per node group and node class, or one line
 * when none could be read. Empty when there is nothing to say.
 */
export function releaseNotesSection(notes: readonly EntryReleaseNotes[], budget: number): string[] {
  if (notes.length === 0) return [];
  const read = notes.filter((n) => !n.unread);
  if (read.length === 0) {
    const reasons = [...new Set(notes.map((n) => n.unread as string))];
    const where = [...new Set(notes.map((n) => n.releasesUrl))].map((url) => `[${url.replace(/^https:\/\/(github\.com\/)?/, '')}](${url})`);
    return [`**Release notes:** could not be read (${reasons.map(plain).join('; ')}); they are at ${where.join(', ')}.`, ''];
  }
  const releases = read.reduce((sum, n) => sum + n.notes.length + n.notListed, 0);
  const count = releases > 0 ? `: ${releases} upstream release(s) between the current and target releases` : '';
  const open = `<details><summary>Release notes${count}</summary>`;
  const close = ['</details>', ''];
  const inner = ['', ...notes.flatMap(entryLines)].join('\n');
  const room = budget - open.length - close.join('\n').length - 2;
  if (room < 400) return ['**Release notes:** left out to keep this description within GitHub’s 65,536 characters; the links above lead to them.', ''];
  const fitted = fitMarkdown(inner, room, 'Release notes shortened to keep this description within GitHub’s 65,536 characters: the links lead to the rest.');
  return [open, fitted, ...close];
}
