/*
 * The schedules of Karpenter's disruption budgets: a five-field cron expression (minute, hour, day of
 * month, month, day of week) or a macro (`@daily`…), in UTC. Karpenter parses them with
 * robfig/cron's standard parser (kubernetes-sigs/karpenter pkg/apis/v1/nodepool.go, Budget.IsActive:
 * "cron.ParseStandard"), and a budget with a schedule is active from each time the schedule fires for
 * its `duration` ("IsActive ... walks back in time the time.Duration associated with the crontab, and
 * checks if the next time the schedule will hit is before the current time").
 */

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
const NAMES: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6 };
Object.assign(NAMES, { jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 });

const value = (text: string): number => (text.toLowerCase() in NAMES ? NAMES[text.toLowerCase()]! : Number(text));

/** The values one field allows, or undefined when it does not parse. */
function field(text: string, min: number, max: number): Set<number> | undefined {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') [lo, hi] = [min, max];
    else if (range.includes('-')) [lo, hi] = range.split('-').map(value) as [number, number];
    else [lo, hi] = [value(range), stepText === undefined ? value(range) : max];
    if (![lo, hi, step].every(Number.isInteger) || step < 1 || lo < min || hi > max || lo > hi) return undefined;
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/** A parsed schedule: whether it fires in a given UTC minute. Undefined when it does not parse. */
export function parseCron(schedule: string): ((ms: number) => boolean) | undefined {
  const text = MACROS[schedule.trim().toLowerCase()] ?? schedule.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5) return undefined;
  const [minute, hour, dom, month, dow] = [
    field(parts[0]!, 0, 59),
    field(parts[1]!, 0, 23),
    field(parts[2]!, 1, 31),
    field(parts[3]!, 1, 12),
    field(parts[4]!.replace(/\b7\b/g, '0'), 0, 6),
  ];
  if (!minute || !hour || !dom || !month || !dow) return undefined;
  // Standard cron: when both day fields are restricted, either matches.
  const anyDom = parts[2] === '*' || parts[2] === '?';
  const anyDow = parts[4] === '*' || parts[4] === '?';
  return (ms) => {
    const d = new Date(ms);
    const days = anyDom || anyDow ? dom.has(d.getUTCDate()) && dow.has(d.getUTCDay()) : dom.has(d.getUTCDate()) || dow.has(d.getUTCDay());
    return minute.has(d.getUTCMinutes()) && hour.has(d.getUTCHours()) && month.has(d.getUTCMonth() + 1) && days;
  };
}

const MINUTE = 60_000;

/**
 * Whether a schedule's window is open at `now`: it fired within the last `durationMs`; and when it
 * closes (the last firing plus the duration). Undefined when the schedule does not parse.
 */
export function windowAt(schedule: string, durationMs: number, now: number): { open: boolean; closesAt?: number } | undefined {
  const fires = parseCron(schedule);
  if (!fires) return undefined;
  const start = Math.floor(now / MINUTE) * MINUTE;
  for (let t = start; t > now - durationMs; t -= MINUTE) {
    if (fires(t)) return { open: true, closesAt: t + durationMs };
  }
  return { open: false };
}
