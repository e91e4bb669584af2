import type { Clients } from '../clients.js';
import type { CheckReport } from '../model/check-report.js';
import type { Settings } from '../model/settings.js';
import { mergeAccountReports, type AccountCheck } from '../decision/account-merge.js';
import { ACCOUNTS_AT_ONCE, bufferedIo, eachAccount, forAccount } from './accounts.js';
import type { CommandIo } from './io.js';

/** What the check of one account is (./check.ts), handed in: that module calls this one. */
export interface OneAccountCheck {
  checkAccount: (settings: Settings, clients: Clients, io: CommandIo, unreachable: Map<string, string>) => Promise<CheckReport>;
  proposeFor: (
    report: CheckReport,
    settings: Settings,
    clients: Clients,
    io: CommandIo,
    unreachable: ReadonlyMap<string, string>,
  ) => Promise<CheckReport['proposals']>;
  checkFailure: (report: CheckReport, settings: Pick<Settings, 'regions' | 'failOnDrift'>) => string | null;
}

/**
 * `command: check` with `accounts`: every account checked through its role, side by side, into one
 * report whose rows carry their account; then, with `on-drift`, each account's proposals with its
 * manifests under `<manifest-dir>/<account>`, one account after another.
 */
export async function checkAccounts(
  settings: Settings,
  clients: Clients,
  io: CommandIo,
  { checkAccount, proposeFor, checkFailure }: OneAccountCheck,
): Promise<{ report: CheckReport; failure: string | null }> {
  const generatedAt = new Date().toISOString();
  const unreachable = new Map<string, Map<string, string>>();
  const ids = settings.accounts!.ids;
  io.log(`Checking ${ids.length} account(s): ${ids.join(', ')}, ${Math.min(ACCOUNTS_AT_ONCE, ids.length)} at a time`);
  // Each account's lines print as one group when it is done, one group after another: the runner's
  // groups do not nest, an inner ::group:: ends the outer one's folding (actions/toolkit#1001, actions/runner#802).
  let printed = Promise.resolve();
  const passes = await eachAccount(settings, clients, io, ACCOUNTS_AT_ONCE, async (accountSettings, member, account) => {
    const here = new Map<string, string>();
    unreachable.set(account, here);
    const out = bufferedIo(io);
    const report = await checkAccount(accountSettings, member, out.io, here);
    printed = printed.then(() => out.flush(`Account ${account}: ${report.clusters.length} cluster(s), ${report.nodegroups.length} row(s)`));
    await printed;
    return report;
  });
  const report = mergeAccountReports(
    passes.map((p): AccountCheck => ({ account: p.account, role: p.role, report: p.error === null ? p.result : null, error: p.error })),
    generatedAt,
    settings.regions,
    settings.minReleaseAge.text,
  );
  // Proposals one account after another: each cluster's pull request is its own, and GitHub's limits are the repository's.
  for (const pass of passes) {
    if (pass.error !== null) continue;
    const own = {
      ...report,
      clusters: report.clusters.filter((c) => c.account === pass.account),
      nodegroups: report.nodegroups.filter((n) => n.account === pass.account),
    };
    const proposals = await proposeFor(own, forAccount(settings, pass.account), pass.clients, io, unreachable.get(pass.account) ?? new Map());
    for (const p of proposals) report.proposals.push({ ...p, account: pass.account });
  }
  return { report, failure: checkFailure(report, settings) };
}
