import type { KubeObject, KubeState } from './kube.js';
import type { SimCluster } from './fleet.js';

/*
 * Karpenter's drift on the simulator's virtual clock, and the team's GitOps applying a merged
 * EC2NodeClass:
 * - GitOps (SimKarpenter.gitops) sets the class's alias `afterMinutes` after the cluster's first
 *   Kubernetes request, or never; Karpenter's AMI controller then re-resolves `status.amis`
 *   (aws/karpenter-provider-aws pkg/controllers/nodeclass/ami.go);
 * - a NodeClaim whose `status.imageID` is not among its class's `status.amis` is drifted
 *   (aws/karpenter-provider-aws pkg/cloudprovider/drift.go, isAMIDrifted);
 * - Karpenter's disruption controller replaces drifted nodes: "Pre-spin any replacement nodes needed
 *   ... and wait for them to become ready", then "Delete the node(s)" (aws/karpenter-provider-aws
 *   website/content/en/<version>/concepts/disruption.md, "Disruption Controller"): here a new NodeClaim and
 *   node on the class's image, then the old ones deleted, `replaceMinutes` for one replacement (not
 *   modelled without it). The controller is looked at every 10 seconds of virtual time (the
 *   simulator's step; Karpenter's own loop period is UNVERIFIED);
 * - at most as many at once as the NodePool's budgets allow: the most restrictive active budget whose
 *   reasons include Drifted (or name none), a percentage of the pool's nodes rounded up, a budget with a
 *   schedule active only for `duration` after the schedule fires, no budget at all 10% (kubernetes-sigs/karpenter
 *   pkg/apis/v1/nodepool.go, GetAllowedDisruptionsByReason, Budget.GetAllowedDisruptions and IsActive).
 *   Schedules here take the form `M H * * *` (UTC) only.
 */

const TICK_MS = 10_000;
const MINUTE = 60_000;

interface Replacement {
  claim: KubeObject;
  pool: string;
  doneAt: number;
}

interface DriftState {
  seededAt: number;
  tickedTo: number;
  applied: Set<string>;
  inFlight: Replacement[];
  made: number;
}

const states = new WeakMap<KubeState, DriftState>();

type Resolve = (alias: string) => { amis: { id: string; name: string; requirements: unknown[]; arch: string }[]; conditions: unknown[] };

/** The cluster's first Kubernetes request: GitOps's delays count from here. */
export function startDrift(kube: KubeState, now: number): void {
  if (!states.has(kube)) states.set(kube, { seededAt: now, tickedTo: now, applied: new Set(), inFlight: [], made: 0 });
}

const durationMs = (text: string | undefined): number => {
  let ms = 0;
  for (const [, n, unit] of (text ?? '').matchAll(/(\d+)(h|m|s)/g)) ms += Number(n) * (unit === 'h' ? 3_600_000 : unit === 'm' ? MINUTE : 1000);
  return ms;
};

/** Whether a `M H * * *` schedule fired within the last `duration` at `t`. */
function scheduleOpen(schedule: string, duration: string | undefined, t: number): boolean {
  const m = /^(\d+) (\d+) \* \* \*$/.exec(schedule.trim());
  if (!m) throw new Error(`simulator: budget schedule ${schedule} is not of the form "M H * * *"`);
  const day = new Date(t);
  let fired = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), Number(m[2]), Number(m[1]));
  if (fired > t) fired -= 86_400_000;
  return t - fired < durationMs(duration);
}

/** How many of a pool's nodes may be disrupted for drift at once at `t`. */
function allowed(pool: KubeObject, total: number, t: number): number {
  const spec = pool.spec as { disruption?: { budgets?: { nodes: string; schedule?: string; duration?: string; reasons?: string[] }[] } };
  const budgets = spec.disruption?.budgets ?? [{ nodes: '10%' }];
  let best = Number.POSITIVE_INFINITY;
  for (const b of budgets) {
    if (b.reasons && !b.reasons.includes('Drifted')) continue;
    if (b.schedule && !scheduleOpen(b.schedule, b.duration, t)) continue;
    const pct = /^(\d+)%$/.exec(b.nodes);
    best = Math.min(best, pct ? Math.ceil((Number(pct[1]) * total) / 100) : Number(b.nodes));
  }
  return best;
}

const imageOf = (c: KubeObject) => (c.status as { imageID?: string } | undefined)?.imageID;
const classOf = (c: KubeObject) => (c.spec as { nodeClassRef?: { name?: string } } | undefined)?.nodeClassRef?.name ?? '';
const poolOf = (c: KubeObject) => c.metadata.labels?.['karpenter.sh/nodepool'] ?? '';

/** Brings GitOps and Karpenter's drift up to `now`, in 10-second steps. */
export function advanceKarpenter(kube: KubeState, cluster: SimCluster, byPlural: Map<string, KubeObject[]>, now: number, resolve: Resolve): void {
  const state = states.get(kube);
  if (!state) return;
  const classes = byPlural.get('ec2nodeclasses')!;
  const pools = byPlural.get('nodepools')!;
  const claims = byPlural.get('nodeclaims')!;
  for (let t = state.tickedTo + TICK_MS; t <= now; t += TICK_MS) {
    state.tickedTo = t;
    // GitOps applies the merged alias; the AMI controller resolves it.
    for (const g of cluster.karpenter?.gitops ?? []) {
      if (g.afterMinutes === null || state.applied.has(g.nodeClass) || t < state.seededAt + g.afterMinutes * MINUTE) continue;
      state.applied.add(g.nodeClass);
      const nc = classes.find((c) => c.metadata.name === g.nodeClass);
      if (!nc) continue;
      const { amis, conditions } = resolve(g.alias);
      nc.spec = { ...nc.spec, amiSelectorTerms: [{ alias: g.alias }] };
      nc.status = { amis: amis.map(({ arch: _arch, ...a }) => a), conditions };
    }
    if (cluster.karpenter?.replaceMinutes === undefined) continue;
    // Replacements that are done: the old NodeClaim and node deleted (drained).
    for (const r of state.inFlight.filter((x) => x.doneAt <= t)) {
      state.inFlight.splice(state.inFlight.indexOf(r), 1);
      claims.splice(claims.indexOf(r.claim), 1);
      const oldNode = (r.claim.status as { nodeName?: string } | undefined)?.nodeName;
      if (oldNode) kube.nodes.delete(oldNode);
    }
    // New replacements, within each pool's budgets.
    for (const pool of pools) {
      const name = pool.metadata.name;
      const mine = claims.filter((c) => poolOf(c) === name);
      const ids = (c: KubeObject) =>
        new Set(((classes.find((k) => k.metadata.name === classOf(c))?.status as { amis?: { id: string }[] })?.amis ?? []).map((a) => a.id));
      const drifted = mine.filter((c) => ids(c).size > 0 && !ids(c).has(imageOf(c) ?? '') && !state.inFlight.some((r) => r.claim === c));
      const busy = state.inFlight.filter((r) => r.pool === name).length;
      // The pool's nodes, each one being replaced counted once (its replacement is not another node to budget for).
      let room = allowed(pool, mine.length - busy, t) - busy;
      for (const claim of drifted) {
        if (room-- <= 0) break;
        // The replacement first, on the class's image; the old one goes when the replacement is done.
        launch(kube, cluster, claims, classes, claim, t, name, ++state.made);
        state.inFlight.push({ claim, pool: name, doneAt: t + cluster.karpenter.replaceMinutes * MINUTE });
      }
    }
  }
}

/** A replacement NodeClaim and its node, Ready, on the image the class resolves for the old node's architecture. */
function launch(kube: KubeState, cluster: SimCluster, claims: KubeObject[], classes: KubeObject[], old: KubeObject, t: number, pool: string, n: number): void {
  const arch = old.metadata.labels?.['kubernetes.io/arch'] ?? 'amd64';
  const nc = classes.find((k) => k.metadata.name === classOf(old));
  const amis = ((nc?.status as { amis?: { id: string; requirements: { key: string; values?: string[] }[] }[] })?.amis ?? []).filter((a) =>
    a.requirements.some((q) => q.key === 'kubernetes.io/arch' && q.values?.includes(arch)),
  );
  const image = amis[0]?.id ?? imageOf(old);
  const name = `${pool}-r${n.toString(36).padStart(4, '0')}`;
  const node = `i-${name}.${cluster.region}.compute.internal`;
  const createdAt = new Date(t).toISOString();
  const labels = { ...old.metadata.labels };
  claims.push({
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodeClaim',
    metadata: { name, labels, creationTimestamp: createdAt },
    spec: old.spec,
    status: { imageID: image, nodeName: node, providerID: `aws:///${cluster.region}a/i-${name}` },
  });
  kube.nodes.set(node, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: node, labels, creationTimestamp: createdAt },
    spec: { providerID: `aws:///${cluster.region}a/i-${name}` },
    status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { osImage: 'Amazon Linux 2023' } },
  });
}
