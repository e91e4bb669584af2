/** What the demos print: the step log and the job summary as a terminal can show them. */
import type { ActionRun } from './run-action.js';

const tty = process.stdout.isTTY;
export const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
export const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
export const heading = (s: string) => console.log(`\n${bold(`━━ ${s} `.padEnd(100, '━'))}`);

/** The step log as the Actions UI shows it: commands to the runner hidden, groups flattened. */
export function log(run: ActionRun): string {
  return run.stdout
    .split('\n')
    .filter((l) => !/^::(add-mask|group|endgroup|save-state|set-output)/.test(l))
    .map((l) => l.replace(/^::(error|warning)::/, (_, k: string) => `${k.toUpperCase()}: `))
    .join('\n')
    .trim();
}

/** A job summary as a terminal can show it: the HTML GitHub renders, reduced to text. */
export function asText(markdown: string): string {
  return markdown
    .replace(/<\/?details( open)?>\n?/g, '')
    .replace(/<summary>(.*)<\/summary>/g, '\n#### $1')
    .replace(/<!--.*?-->\n?/g, '')
    .replace(/<\/?b>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
