/*
 * The check's `matrix` output: what a later job's `strategy.matrix` fans out over, within GitHub's
 * limit. "A job matrix can generate a maximum of 256 jobs per workflow run. This limit also applies to
 * self-hosted runners." (GitHub docs, "Using a matrix for your jobs"; github/docs
 * data/reusables/github-actions/usage-matrix-limits.md). Past it the whole run fails, so the output
 * never has more entries than that.
 *
 * Up to the limit: one entry per cluster, `{cluster, region}`, the shape workflows already use. Past
 * it: each entry is a batch of clusters of one group (today a region), `{batch, region, clusters}`,
 * whose `region` and `clusters` are the action's own `regions` and `clusters` inputs. Batches are
 * balanced: within a group their sizes differ by at most one, and the groups share the entries in
 * proportion to their clusters (each group gets at least one). With `accounts`, a group is an account
 * and a region: a cluster's entry carries `account`, a batch's `accounts` (the action's `accounts`
 * input, one id), since two accounts may each have a cluster of one name in one region.
 */

/** GitHub's limit on the jobs of one matrix (see above). */
export const MATRIX_LIMIT = 256;

export interface MatrixCluster {
  cluster: string;
  region: string;
  account?: string;
}

/** One job per cluster: the shape of the output before batches, kept for up to MATRIX_LIMIT clusters. */
export interface ClusterEntry {
  cluster: string;
  region: string;
  /** With `accounts`: the cluster's account. */
  account?: string;
}

/** One job per batch: `batch` is "index/total" (1-based), `clusters` comma separated, all in `region` (and in `accounts`, one id, with `accounts`). */
export interface BatchEntry {
  batch: string;
  region: string;
  accounts?: string;
  clusters: string;
}

export type MatrixEntry = ClusterEntry | BatchEntry;

export interface Matrix {
  include: MatrixEntry[];
}

/**
 * The matrix for these clusters: one entry per cluster up to `limit`, else at most `limit` balanced
 * batches. Clusters named twice (same name and region) count once. Batches are deterministic: groups
 * and names in sorted order, so a rerun of the same fleet gives the same batches.
 */
export function fanOut(clusters: readonly MatrixCluster[], limit = MATRIX_LIMIT): Matrix {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`matrix limit must be a positive integer, got ${limit}`);
  const groups = groupClusters(clusters);
  const total = [...groups.values()].reduce((n, names) => n + names.length, 0);
  if (total <= limit) {
    // As before batches: the report's order, each cluster once.
    const seen = new Set<string>();
    const key = (c: MatrixCluster) => `${c.account ?? ''}/${c.region}/${c.cluster}`;
    const include = clusters.filter((c) => !seen.has(key(c)) && seen.add(key(c)));
    return { include: include.map((c) => ({ cluster: c.cluster, region: c.region, ...(c.account ? { account: c.account } : {}) })) };
  }
  const counts = allocate(
    [...groups.values()].map((names) => names.length),
    limit,
  );
  const batches: { account: string; region: string; names: string[] }[] = [];
  [...groups].forEach(([key, names], g) => {
    const [account = '', region = ''] = key.split(SEP);
    for (const slice of split(names, counts[g]!)) batches.push({ account, region, names: slice });
  });
  return {
    include: batches.map((b, i) => ({
      batch: `${i + 1}/${batches.length}`,
      region: b.region,
      ...(b.account ? { accounts: b.account } : {}),
      clusters: b.names.join(','),
    })),
  };
}

const SEP = '\u0000';

/** Clusters by account and region, the groups and names sorted, duplicates dropped. */
function groupClusters(clusters: readonly MatrixCluster[]): Map<string, string[]> {
  const byRegion = new Map<string, Set<string>>();
  for (const c of clusters) {
    const key = `${c.account ?? ''}${SEP}${c.region}`;
    const names = byRegion.get(key) ?? new Set<string>();
    names.add(c.cluster);
    byRegion.set(key, names);
  }
  return new Map([...byRegion.keys()].sort().map((region) => [region, [...byRegion.get(region)!].sort()]));
}

/**
 * How many batches each group gets, `limit` in all (when the clusters are more than `limit`): one each
 * first, then each further batch to the group whose batches are the largest now (the highest-averages
 * method), so batch sizes stay as even as they can across groups and the shares follow the sizes.
 */
export function allocate(sizes: readonly number[], limit: number): number[] {
  if (sizes.length > limit) {
    // Regions number a few dozen: only accounts × regions reach this.
    throw new Error(
      `${sizes.length} account and region pairs have clusters, more than GitHub's ${limit} jobs of a matrix (a batch holds one pair): ` +
        'split the accounts over more than one check job',
    );
  }
  const counts = sizes.map(() => 1);
  const cap = sizes.reduce((a, b) => a + b, 0);
  for (let seats = sizes.length; seats < Math.min(limit, cap); seats++) {
    let best = -1;
    for (let g = 0; g < sizes.length; g++) {
      if (counts[g]! >= sizes[g]!) continue;
      if (best < 0 || sizes[g]! / counts[g]! > sizes[best]! / counts[best]!) best = g;
    }
    counts[best] = counts[best]! + 1;
  }
  return counts;
}

/** `names` in `parts` contiguous slices whose sizes differ by at most one, the larger first. */
function split(names: readonly string[], parts: number): string[][] {
  const base = Math.floor(names.length / parts);
  const larger = names.length % parts;
  const slices: string[][] = [];
  let at = 0;
  for (let p = 0; p < parts; p++) {
    const size = base + (p < larger ? 1 : 0);
    slices.push(names.slice(at, at + size));
    at += size;
  }
  return slices;
}
