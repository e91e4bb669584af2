import { NEEDS_UPGRADE, STATUSES, type AccountReport, type CheckReport, type NodegroupStatus } from '../model/check-report.js';

/*
 * A check over many accounts (the `accounts` input) is one check per account, each through its own
 * role, merged here into one report: every row carries its account, the counts are the sums, and an
 * account that could not be read is a row of `accounts` with its reason, never the whole run's error.
 */

/** Marks every row of one account's report with the account, in place. */
export function inAccount(report: CheckReport, account: string): CheckReport {
  for (const rows of [report.clusters, report.nodegroups, report.pauses, report.proposals]) for (const row of rows) row.account = account;
  const at = (line: string) => `account ${account}: ${line}`;
  report.pausesUnchecked = report.pausesUnchecked.map(at);
  if (report.nodesUnchecked) report.nodesUnchecked = report.nodesUnchecked.map(at);
  if (report.nodeClassesUnchecked) report.nodeClassesUnchecked = report.nodeClassesUnchecked.map(at);
  if (report.warnings) report.warnings = report.warnings.map(at);
  return report;
}

/** Whether a cluster's read failed because EKS has no cluster of that name there (`describeError` of DescribeCluster's ResourceNotFoundException). */
export const notFound = (error: string | null | undefined): boolean => /^ResourceNotFoundException\b/.test(error ?? '');

/** One account's pass: its report, or why the account could not be read. */
export interface AccountCheck {
  account: string;
  role: string;
  report: CheckReport | null;
  error: string | null;
}

const byPlace = (a: { account?: string; region: string; cluster: string }, b: { account?: string; region: string; cluster: string }) =>
  (a.account ?? '').localeCompare(b.account ?? '') || a.region.localeCompare(b.region) || a.cluster.localeCompare(b.cluster);

/**
 * The accounts' reports as one, in the accounts' order of rows (account, region, cluster). A cluster
 * named in `clusters` is looked up in every account: where it does not exist (EKS's
 * ResourceNotFoundException) while another account has it, that account's not-found row is dropped;
 * a name found in no account keeps its errors.
 */
export function mergeAccountReports(passes: readonly AccountCheck[], generatedAt: string, regions: string[], minReleaseAge: string): CheckReport {
  const reports = passes.flatMap((p) => (p.report ? [p.report] : []));
  const found = new Set(reports.flatMap((r) => r.clusters.filter((c) => !c.error).map((c) => `${c.region}/${c.cluster}`)));
  const absentHere = (c: { region: string; cluster: string; error?: string | null }) => notFound(c.error) && found.has(`${c.region}/${c.cluster}`);
  const dropped = new Set(reports.flatMap((r) => r.clusters.filter(absentHere).map((c) => `${c.account}/${c.region}/${c.cluster}`)));
  const kept = <T extends { account?: string; region: string; cluster: string }>(rows: T[]) =>
    rows.filter((row) => !dropped.has(`${row.account}/${row.region}/${row.cluster}`));

  const nodegroups = kept(reports.flatMap((r) => r.nodegroups)).sort((a, b) => byPlace(a, b) || (a.nodegroup ?? '').localeCompare(b.nodegroup ?? ''));
  const clusters = kept(reports.flatMap((r) => r.clusters)).sort(byPlace);
  // A status is counted when any account counts it (each decides by the same rules), summed over the accounts' kept rows.
  const counted = new Set(reports.flatMap((r) => Object.keys(r.counts)));
  const counts = Object.fromEntries(STATUSES.filter((s) => counted.has(s)).map((s) => [s, 0])) as Record<NodegroupStatus, number>;
  for (const ng of nodegroups) counts[ng.status] = (counts[ng.status] ?? 0) + 1;
  const accounts: AccountReport[] = passes.map((p) => ({
    account: p.account,
    role: p.role,
    clusters: clusters.filter((c) => c.account === p.account && !c.error).length,
    error: p.error,
  }));
  const lists = (pick: (r: CheckReport) => string[] | undefined) => reports.flatMap((r) => pick(r) ?? []);
  const nodesUnchecked = lists((r) => r.nodesUnchecked);
  const nodeClassesUnchecked = lists((r) => r.nodeClassesUnchecked);
  const warnings = lists((r) => r.warnings);
  return {
    command: 'check',
    generatedAt,
    regions,
    minReleaseAge,
    drift: nodegroups.some((ng) => NEEDS_UPGRADE.has(ng.status)),
    counts,
    clusters,
    nodegroups,
    pauses: reports.flatMap((r) => r.pauses).sort(byPlace),
    pausesUnchecked: lists((r) => r.pausesUnchecked),
    nodesUnchecked,
    ...(nodeClassesUnchecked.length > 0 ? { nodeClassesUnchecked } : {}),
    proposals: reports.flatMap((r) => r.proposals),
    ...(warnings.length > 0 ? { warnings } : {}),
    accounts,
  };
}
