import { describe, expect, it } from '@jest/globals';
import { generatedFleet } from '../sim/example-fleet.js';
import { startSimulator } from '../sim/server.js';
import type { Faults } from '../sim/fleet.js';
import { runAction } from '../sim/run-action.js';
import type { CheckReport } from '../../src/model/check-report.js';

/** The check's report from the bundled action, with a fault rate on every AWS operation. */
async function checkReport(faults: Faults | undefined) {
  const sim = await startSimulator(generatedFleet(2), { pageSize: 2, ...(faults ? { faults } : {}) });
  try {
    const run = await runAction({ inputs: { regions: 'us-east-1' }, env: { ...sim.env(), AWS_REGION: 'us-east-1' } });
    const report = JSON.parse(run.outputs.report ?? '{}') as CheckReport;
    const injected = sim.log.filter((l) => l.status >= 400).length;
    return { code: run.code, report: { ...report, generatedAt: '' }, injected, requests: sim.log.length };
  } finally {
    await sim.close();
  }
}

describe('reliability: AWS throttling and server errors', () => {
  // Seeded, so a failure can be replayed. The runs wait on the SDK's backoff, not the CPU: in parallel.
  const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

  it(`gives the fault-free report with 20% throttling and 5% server errors on every operation (${SEEDS.length} seeded runs)`, async () => {
    const clean = await checkReport(undefined);
    expect(clean.code).toBe(0);
    expect(clean.report.nodegroups).toHaveLength(10);
    const faulty = await Promise.all(SEEDS.map((seed) => checkReport({ throttleRate: 0.2, serverErrorRate: 0.05, seed })));
    for (const [i, run] of faulty.entries()) {
      expect([SEEDS[i], run.code]).toEqual([SEEDS[i], 0]);
      expect(run.report).toEqual(clean.report);
    }
    const injected = faulty.reduce((n, r) => n + r.injected, 0);
    const requests = faulty.reduce((n, r) => n + r.requests, 0);
    // the faults really happened: about a quarter of all requests
    expect(injected / requests).toBeGreaterThan(0.15);
  }, 120_000);
});
