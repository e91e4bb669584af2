import type { RestoreResult } from '../model/pause.js';
import { renderPauses } from './check-summary.js';

/** The restore's job summary: how many pauses were restored, each pause, what could not be read. */
export function renderRestoreSummary(result: RestoreResult): string {
  const { pauses, problems, read } = result;
  const restored = pauses.filter((p) => p.outcome === 'restored').length;
  const headline =
    pauses.length === 0
      ? `✅ No cluster-autoscaler was paused in the ${read} cluster(s) read.`
      : `${restored} of ${pauses.length} paused cluster-autoscaler(s) restored.`;
  return ['## cluster-autoscaler restore', '', headline, '', ...renderPauses(pauses, problems)].join('\n');
}
