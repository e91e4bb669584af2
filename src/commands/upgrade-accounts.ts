import type { Clients } from '../clients.js';
import type { AccountReport } from '../model/check-report.js';
import type { Settings } from '../model/settings.js';
import { upgradeEntry, type UpgradeReport } from '../model/upgrade-report.js';
import type { RunUpgradeDeps, PlannedUpgrade } from './upgrade-deps.js';
import { ACCOUNTS_AT_ONCE, eachAccount } from './accounts.js';
import { notFound } from '../decision/account-merge.js';
import type { CommandIo } from './io.js';

/** The upgrade's two halves (./upgrade.ts), handed in: that module calls this one. */
export interface UpgradeSteps {
  planUpgrade: (settings: Settings, deps: RunUpgradeDeps) => Promise<PlannedUpgrade>;
  executeUpgrade: (settings: Settings, deps: RunUpgradeDeps, planned: PlannedUpgrade) => Promise<UpgradeReport>;
}

/**
 * `command: upgrade` with `accounts`: every account's fleet, manifests (under
 * `<manifest-dir>/<account>`) and plan read first, side by side, so a manifest that does not validate
 * in any account stops the run before anything changes in any; then the accounts one after another,
 * each through its role, its pauses recorded with the account for the post step. An account whose
 * role cannot be assumed is a failed row of its own; the others go on.
 */
export async function upgradeAccounts(settings: Settings, clients: Clients, io: CommandIo, base: RunUpgradeDeps, steps: UpgradeSteps): Promise<UpgradeReport> {
  const passes = await eachAccount(settings, clients, io, ACCOUNTS_AT_ONCE, async (own, member, account) => {
    const at = (line: string) => `${account}: ${line}`;
    const deps: RunUpgradeDeps = {
      ...base,
      clientsFor: member.clientsFor,
      kubeFor: await member.kube(),
      log: (line) => base.log(at(line)),
      warn: (line) => base.warn(at(line)),
      recordPause: (cluster, pause) => base.recordPause({ ...cluster, account }, pause && { ...pause, account }),
    };
    return { own, deps, planned: await steps.planUpgrade(own, deps) };
  });
  const planned = passes.flatMap((p) => (p.error === null ? [p.result] : []));
  // A cluster named in `clusters` is looked for in every account: where EKS has no such cluster while
  // another account has it, that account's not-found row is dropped (as the check does).
  const found = new Set(planned.flatMap((p) => p.planned.clusters.filter((c) => !c.error).map((c) => `${c.region}/${c.name}`)));
  for (const p of planned) {
    const absent = (c: { region: string; name: string; error?: string }) => notFound(c.error) && found.has(`${c.region}/${c.name}`);
    const gone = new Set(p.planned.clusters.filter(absent).map((c) => `${c.region}/${c.name}`));
    p.planned.clusters = p.planned.clusters.filter((c) => !gone.has(`${c.region}/${c.name}`));
    p.planned.errors = p.planned.errors.filter((e) => !gone.has(`${e.region}/${e.cluster}`));
  }
  const failedAccounts = passes.flatMap((p) => (p.error !== null ? [p] : []));
  if (planned.every((p) => p.planned.clusters.length === 0) && failedAccounts.length === 0) {
    throw new Error(
      `no EKS clusters found in ${settings.regions.join(', ')} of accounts ${settings.accounts!.ids.join(', ')}: check the regions and accounts inputs`,
    );
  }
  const report: UpgradeReport = {
    command: 'upgrade',
    dryRun: settings.upgrade.dryRun,
    generatedAt: new Date(base.now()).toISOString(),
    ok: failedAccounts.length === 0,
    plan: [],
    nodegroups: [],
    autoscalers: [],
    pauses: [],
    warnings: [],
    manifestDir: settings.manifestDir,
    accounts: [],
  };
  for (const pass of passes) {
    const row: AccountReport = { account: pass.account, role: pass.role, clusters: 0, error: pass.error };
    report.accounts!.push(row);
    if (pass.error !== null) {
      const where = {
        cluster: `(account ${pass.account})`,
        region: settings.regions.join(', '),
        nodegroup: '(account)',
        amiType: null,
        current: null,
        target: null,
      };
      report.nodegroups.push({ ...upgradeEntry(where, 'failed', pass.error), account: pass.account });
      continue;
    }
    const { own, deps, planned: plan } = pass.result;
    row.clusters = plan.clusters.filter((c) => !c.error).length;
    const done = await steps.executeUpgrade(own, deps, plan);
    const mark = <T extends object>(rows: T[]) => rows.map((r) => ({ ...r, account: pass.account }));
    report.plan.push(...mark(done.plan));
    report.nodegroups.push(...mark(done.nodegroups));
    report.autoscalers.push(...mark(done.autoscalers));
    report.pauses.push(...mark(done.pauses));
    report.warnings.push(...done.warnings.map((w) => `account ${pass.account}: ${w}`));
    report.ok &&= done.ok;
  }
  return report;
}
