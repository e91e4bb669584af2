/**
 * The tables of docs/performance.md, rendered from test/bench/results.json: `npm run bench` writes
 * both, so no figure in the document can drift from the command that measured it. Each table sits
 * between `<!-- bench:NAME -->` and `<!-- /bench -->`; test/unit/performance-doc.test.ts fails when
 * the text there differs from what results.json renders to.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Cell = string | number | null;
export type Row = Record<string, Cell>;

/** One measured table: what it is, when and with which command it was measured, its rows. */
export interface Section {
  title: string;
  /** The command that measured it (`npm run bench -- --only fleet --sizes 1,10,100`). */
  command: string;
  /** ISO date of the run. */
  date: string;
  node: string;
  cores: number;
  /** The section's wall time, in seconds. */
  tookSeconds: number;
  rows: Row[];
}

export interface Results {
  sections: Record<string, Section>;
}

export const RESULTS = fileURLToPath(new URL('./results.json', import.meta.url));
export const DOC = fileURLToPath(new URL('../../docs/performance.md', import.meta.url));

const cell = (v: Cell | undefined): string => (v === null || v === undefined ? '' : String(v).replace(/\|/g, '\\|'));

/** A section as Markdown: its table, then the line saying how and when it was measured. */
export function renderSection(s: Section): string {
  const columns = [...new Set(s.rows.flatMap((r) => Object.keys(r)))];
  const lines = [
    `| ${columns.map(cell).join(' | ')} |`,
    `|${columns.map(() => '---').join('|')}|`,
    ...s.rows.map((r) => `| ${columns.map((c) => cell(r[c])).join(' | ')} |`),
    '',
    `*${s.title}.* Measured by \`${s.command}\` on ${s.date.slice(0, 10)} (Node ${s.node.replace(/^v/, '')}, ${s.cores} cores; the section took ` +
      `${s.tookSeconds} s).`,
  ];
  return lines.join('\n');
}

/** A marked block: its name, and what stands between the markers (no other marker inside). */
const BLOCK = /<!-- bench:([a-z-]+) -->\n((?:(?!<!-- )[\s\S])*?)<!-- \/bench -->/g;

/** The marked blocks of a document: name → the text between the markers, without the last line break. */
export function blocks(doc: string): Map<string, string> {
  return new Map([...doc.matchAll(BLOCK)].map((m) => [m[1]!, m[2]!.replace(/\n$/, '')]));
}

/** The document with every marked block rendered from `results`; throws on a block with no section. */
export function renderDoc(doc: string, results: Results): string {
  return doc.replace(BLOCK, (_, name: string) => {
    const section = results.sections[name];
    if (!section) throw new Error(`docs/performance.md has a bench:${name} block, and results.json no section ${name}`);
    return `<!-- bench:${name} -->\n${renderSection(section)}\n<!-- /bench -->`;
  });
}

export function readResults(): Results {
  return JSON.parse(readFileSync(RESULTS, 'utf8')) as Results;
}

/** Rewrites docs/performance.md's tables from results.json. */
export function writeDoc(): void {
  const doc = readFileSync(DOC, 'utf8');
  writeFileSync(DOC, renderDoc(doc, readResults()));
}
