import type { ClusterState } from '../model/fleet.js';
import type { PlanItem } from '../model/plan.js';
import type { PauseReport } from '../model/pause.js';
import type { CredentialOutlook } from '../model/settings.js';
import type { NodegroupUpgrade } from '../model/upgrade-report.js';
import type { UpgradeDeps } from '../effects/executor.js';
import type { FileReader } from '../repo/github.js';

export interface RunUpgradeDeps extends UpgradeDeps {
  readFile: FileReader;
  concurrency: number;
  /** What the AWS credentials can be counted on for. */
  credentials: CredentialOutlook;
}

/** What the upgrade will do, read and decided before anything changes (but the restore of stale pauses). */
export interface PlannedUpgrade {
  plan: PlanItem[];
  /** Clusters and node groups that could not be read: failed entries of the report. */
  errors: NodegroupUpgrade[];
  /** Stale pauses of earlier runs, restored (or, in a dry run, reported). */
  pauses: PauseReport[];
  warnings: string[];
  clusters: ClusterState[];
}
