const UNIT_MS = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;

/** The accepted form, for error messages. */
export const DURATION_FORM = '0, or a number with a unit ms, s, m, h, d or w, alone or combined (for example 36h, 7d, 1d12h)';

/** Parses `0`, `90s`, `36h`, `7d`, `1d12h`, `2w` into milliseconds; `undefined` when malformed. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  if (!/^(\d+(ms|[wdhms]))+$/.test(s)) return undefined;
  let total = 0;
  for (const [, n, unit] of s.matchAll(/(\d+)(ms|[wdhms])/g)) total += Number(n) * UNIT_MS[unit as Unit];
  return Number.isSafeInteger(total) ? total : undefined;
}

/** `2d 3h`, `45m`, `12s`: the two largest units, for people. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return ms > 0 ? `${Math.round(ms)}ms` : '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    rest -= n * UNIT_MS[unit];
    if (n > 0 || parts.length > 0) parts.push(`${n}${unit}`);
    if (parts.length === 2) break;
  }
  return parts.filter((p) => !p.startsWith('0')).join(' ') || '0s';
}
