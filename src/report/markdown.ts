/** A markdown table cell: no pipes, no HTML, no line breaks from AWS or GitHub messages; `—` when empty. */
export function cell(text: string | number | null | undefined): string {
  if (text === null || text === undefined || text === '') return '—';
  return String(text).replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, ' ');
}

/**
 * GitHub's size limits (../shared/reference/eks.md section 10): a step's job summary at most 1 MiB;
 * an issue or pull request body, or a comment, at most 65,536 characters; a job output at most 1 MB.
 * The budgets keep a margin below each.
 */
export const SUMMARY_BUDGET_BYTES = 1024 * 1024 - 16 * 1024;
export const BODY_BUDGET_CHARS = 65_536 - 1_536;
export const OUTPUT_BUDGET_BYTES = 1_000_000 - 50_000;

/**
 * Cuts a markdown text at a line boundary so that it stays within `limit` (counted by `measure`),
 * and ends it with a visible note saying so. Unchanged when it fits.
 */
export function fitMarkdown(text: string, limit: number, note: string, measure: (t: string) => number = (t) => t.length): string {
  if (measure(text) <= limit) return text;
  const tail = `\n\n> [!NOTE]\n> ${note}\n`;
  const lines = text.split('\n');
  let kept = lines.length;
  // Binary search for the longest prefix of whole lines that fits with the note.
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(lines.slice(0, mid).join('\n') + tail) <= limit) lo = mid;
    else hi = mid - 1;
  }
  kept = lo;
  return lines.slice(0, kept).join('\n') + tail;
}

export const bytes = (t: string) => Buffer.byteLength(t, 'utf8');
