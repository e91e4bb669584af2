import { runAction, type ActionRun, type RunOptions } from './run-action.js';

/*
 * A workflow's fan-out job as GitHub runs it on a `matrix` output: `strategy.matrix:
 * ${{ fromJSON(needs.check.outputs.matrix) }}`, one job per entry, each running the action (dist/) with
 * the entry's values as its inputs. What GitHub does, and where it is said:
 *
 * - The job-level `if:` is evaluated before the strategy: a job whose `if` is false is skipped and its
 *   matrix never expanded. That is the known way around an empty matrix (dorny/paths-filter#66, the
 *   maintainer's answer; emqx/emqx#16727 fixes "matrix must define at least one vector" with it).
 * - An empty `include` with no other vector fails the run: "Matrix must define at least one vector"
 *   (actions/runner src/Sdk/WorkflowParser/Conversion/WorkflowTemplateConverter.cs).
 * - "A job matrix can generate a maximum of 256 jobs per workflow run" (github/docs
 *   data/reusables/github-actions/usage-matrix-limits.md): more fails the run.
 * - `matrix.<key>` of a key an entry does not have is null, and `a || b` gives b when a is falsy
 *   (GitHub docs, "Evaluate expressions in workflows and actions": operators; null is falsy), so
 *   `${{ matrix.clusters || matrix.cluster }}` serves both shapes of entry.
 * - Jobs run in parallel up to `max-parallel` (`jobs.<job_id>.strategy.max-parallel`).
 */

export const GITHUB_MATRIX_LIMIT = 256;

export type MatrixContext = Record<string, string | undefined>;

export interface FanOutJob {
  /** The job's `if:`, given the output as text ('' when the check job wrote none); absent: always runs. */
  if?: (output: string) => boolean;
  /** The action's `with:` for one entry, from its matrix context. */
  with: (matrix: MatrixContext) => Record<string, string>;
  /** The rest of each run's options (the simulator's environment). */
  run: Omit<RunOptions, 'inputs'>;
  /** `strategy.max-parallel`: runs at once (the test machine's cores bound it, not GitHub). */
  maxParallel?: number;
}

export type FanOutResult =
  | { outcome: 'skipped' }
  | { outcome: 'failed'; error: string }
  | { outcome: 'ran'; jobs: { matrix: MatrixContext; inputs: Record<string, string>; run: ActionRun }[] };

/** Expands `matrixOutput` as GitHub would and runs the action once per entry. */
export async function runMatrix(matrixOutput: string, job: FanOutJob): Promise<FanOutResult> {
  if (job.if && !job.if(matrixOutput)) return { outcome: 'skipped' };
  const matrix = JSON.parse(matrixOutput) as { include?: MatrixContext[] };
  const include = matrix.include ?? [];
  if (include.length === 0) return { outcome: 'failed', error: 'Matrix must define at least one vector' };
  if (include.length > GITHUB_MATRIX_LIMIT) {
    return { outcome: 'failed', error: `the matrix has ${include.length} jobs: GitHub generates at most ${GITHUB_MATRIX_LIMIT} per workflow run` };
  }
  const jobs: { matrix: MatrixContext; inputs: Record<string, string>; run: ActionRun }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < include.length) {
      const entry = include[next++]!;
      const inputs = job.with(entry);
      jobs.push({ matrix: entry, inputs, run: await runAction({ ...job.run, inputs }) });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, job.maxParallel ?? 4) }, worker));
  return { outcome: 'ran', jobs };
}

/** `${{ matrix.clusters || matrix.cluster }}`: a missing key is null, and `||` gives the right side for a falsy left. */
export const orElse = (...values: (string | undefined)[]): string => values.find((v) => v !== undefined && v !== '') ?? '';

/**
 * The fan-out job of docs/check.md in JavaScript: its `if:`
 * (`!cancelled() && fromJSON(needs.fleet.outputs.matrix || '{}').include[0] != null`: `||` gives '{}' for
 * an empty output, a missing property is null) and its `with:` (`regions: ${{ matrix.region }}`,
 * `clusters: ${{ matrix.clusters || matrix.cluster }}`).
 */
export const DOCS_GUARD = "${{ !cancelled() && fromJSON(needs.fleet.outputs.matrix || '{}').include[0] != null }}";
export const docsGuard = (output: string): boolean => (JSON.parse(output || '{}') as { include?: unknown[] }).include?.[0] != null;
export const docsInputs = (m: MatrixContext): Record<string, string> => ({ regions: m.region ?? '', clusters: orElse(m.clusters, m.cluster) });
