import { compareTrains, type Train } from './train.js';
import { formatDuration } from './duration.js';

/**
 * One node group as the staged rollout sees it (issue 12): its cluster's stage (an index into the
 * `stages` input), its AMI type, the train it runs and since when, and the updates to a train that
 * failed on it (EKS's update history, or the health gate's mark). All of it is AWS's state, so a
 * canary upgraded by hand counts as much as one the action upgraded.
 */
export interface StageMember {
  cluster: string;
  nodegroup: string;
  stage: number;
  amiType: string;
  train: Train | undefined;
  /** When it got onto the train it runs (its update's success, or its creation), ms. */
  since: number | null;
  failures: { train: string; updateId: string | null; at: number; what: string }[];
  /** The release it runs, and the update that put it there (for the evidence a proposal shows). */
  release?: string;
  sinceUpdateId?: string | null;
  /** Its update history could not be read: it holds every train back (its proof cannot be judged). */
  unreadable?: string;
}

export interface Proof {
  /** Whether any node group of this AMI type runs in an earlier stage: without one, the gate cannot apply. */
  applies: boolean;
  proven: boolean;
  /** When the last holder will have soaked long enough (null: something other than time holds it). */
  provenAt: number | null;
  /** `cluster/nodegroup: why`, for each earlier-stage node group that holds the train back. */
  holders: string[];
  /** Failed updates (or unhealthy marks) to this train in earlier stages: they stop it outright. */
  failures: (StageMember['failures'][number] & { cluster: string; nodegroup: string })[];
}

/**
 * Whether `train` is proven for node groups of `amiType` at `stage`: every node group of that type in
 * the earlier stages runs it or a newer one and has for at least `soakMs`, and none of them has a
 * failed update to it.
 */
export function proveTrain(members: readonly StageMember[], amiType: string, stage: number, train: Train, soakMs: number, now: number): Proof {
  const earlier = members.filter((m) => m.amiType === amiType && m.stage < stage);
  if (earlier.length === 0) return { applies: false, proven: true, provenAt: null, holders: [], failures: [] };
  const holders: string[] = [];
  let provenAt = 0;
  let timeOnly = true;
  for (const m of earlier) {
    const label = `${m.cluster}/${m.nodegroup}`;
    if (m.unreadable) {
      holders.push(`${label}: ${m.unreadable}`);
      timeOnly = false;
      continue;
    }
    const order = m.train ? compareTrains(m.train, train) : undefined;
    if (order === undefined || order < 0) {
      holders.push(`${label}: runs ${m.train?.id ?? 'an unknown train'}, not ${train.id} yet`);
      timeOnly = false;
      continue;
    }
    const since = m.since ?? now;
    if (now - since < soakMs)
      holders.push(`${label}: runs ${m.train!.id} since ${new Date(since).toISOString()}, proves it in ${formatDuration(since + soakMs - now)}`);
    provenAt = Math.max(provenAt, since + soakMs);
  }
  const failures = earlier.flatMap((m) => m.failures.filter((f) => f.train === train.id).map((f) => ({ ...f, cluster: m.cluster, nodegroup: m.nodegroup })));
  const proven = holders.length === 0 && failures.length === 0;
  return { applies: true, proven, provenAt: failures.length === 0 && timeOnly ? provenAt : null, holders, failures };
}

/** The newest of `candidates` that is proven at `stage` (candidates of one kind), with its proof. */
export function newestProven(
  members: readonly StageMember[],
  amiType: string,
  stage: number,
  candidates: readonly Train[],
  soakMs: number,
  now: number,
): { train: Train; proof: Proof } | undefined {
  const sorted = [...candidates].sort((a, b) => compareTrains(b, a) ?? 0);
  for (const train of sorted) {
    const proof = proveTrain(members, amiType, stage, train, soakMs, now);
    if (proof.proven) return { train, proof };
  }
  return undefined;
}
