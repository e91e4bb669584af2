import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/** A Kubernetes object as the simulator keeps it: plain JSON, the API's own shape. */
export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

/**
 * What a simulated pod does, kept beside the pod (never served): when it became or becomes ready
 * (`null`: never), whether its container crash-loops, and since when it runs where it is.
 */
export interface PodLife {
  startedAt: number;
  readyAt: number | null;
  crashLoop: boolean;
  /** Never ready, on any node: a pod of an already degraded workload. */
  degraded: boolean;
  /** The readiness probe failure or start error its events tell. */
  failure?: string;
}

/** A workload the simulator runs pods for: its kind, and the node group its pods are placed on. */
export interface SimWorkloadRef {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  namespace: string;
  name: string;
  nodegroup: string;
}

/**
 * How often a crash-looping container restarts, on average: the kubelet restarts it with an
 * exponential back-off (10 s, 20 s, 40 s, ...) capped at five minutes, and the waiting reason meanwhile
 * is CrashLoopBackOff (Kubernetes docs, "Pod Lifecycle": container restarts).
 */
export const CRASH_RESTART_MS = 2 * 60_000;

/** One managedFields entry, as the API server keeps them (meta/v1 ManagedFieldsEntry). */
export interface ManagedEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  fieldsType: 'FieldsV1';
  fieldsV1: { 'f:spec'?: Record<string, unknown>; [k: string]: unknown };
  time: string;
}

/**
 * A GitOps controller keeping one Deployment's spec.replicas at Git's value: once a write moves it, the
 * controller sets it back `afterMs` later (Argo CD's self-heal retries 5 s after the last sync by default,
 * argo-cd docs/user-guide/auto_sync.md; Flux at its next reconciliation), with its own managedFields entry.
 * Applied lazily, at the first request after it is due, dated when it was due.
 */
export interface GitOpsActor {
  key: string;
  manager: string;
  operation: ManagedEntry['operation'];
  replicas: number;
  afterMs: number | null;
  dueAt: number | null;
  /** Each revert: when it happened (virtual), and the wall-clock time it was applied at. */
  reverts: { at: number; realAt: number }[];
}

/** A managedFields time: RFC 3339 to the second, as the API server writes it. */
export function managedTime(at: number): string {
  return new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** One cluster's Kubernetes API state. */
export class KubeState {
  /** GitOps controllers, by the `namespace/name` of the Deployment each keeps. */
  gitops = new Map<string, GitOpsActor>();

  /**
   * A write's managedFields: the manager's entry (by manager and operation) is dated now, and when the
   * write changed spec.replicas it takes the field from every other manager: "whenever a field's value
   * does change, ownership moves from its current manager to the manager making the change" (Kubernetes
   * docs, Server-Side Apply, Field management).
   */
  recordManager(d: KubeObject, manager: string, operation: ManagedEntry['operation'], replicasChanged: boolean, at: number): void {
    const entries = ((d.metadata.managedFields as ManagedEntry[] | undefined) ??= []);
    let entry = entries.find((e) => e.manager === manager && e.operation === operation);
    if (!entry) {
      entry = { manager, operation, apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: {}, time: managedTime(at) };
      entries.push(entry);
    }
    entry.time = managedTime(at);
    if (!replicasChanged) return;
    for (const e of entries) if (e !== entry && e.fieldsV1['f:spec']) delete e.fieldsV1['f:spec']['f:replicas'];
    entry.fieldsV1['f:spec'] = { ...entry.fieldsV1['f:spec'], 'f:replicas': {} };
  }

  /** After a write to a Deployment: a GitOps controller keeping it schedules its revert. */
  changed(key: string): void {
    const actor = this.gitops.get(key);
    const d = this.deployments.get(key);
    if (!actor || !d || actor.afterMs === null || actor.dueAt !== null) return;
    if (Number(d.spec?.replicas ?? 1) !== actor.replicas) actor.dueAt = this.now() + actor.afterMs;
  }

  /** The reverts that are due: spec.replicas back to Git's value, by the controller, dated when due. */
  reconcileGitOps(): void {
    for (const actor of this.gitops.values()) {
      const d = this.deployments.get(actor.key);
      if (!d || actor.dueAt === null || actor.dueAt > this.now()) continue;
      const at = actor.dueAt;
      actor.dueAt = null;
      if (Number(d.spec?.replicas ?? 1) === actor.replicas) continue;
      d.spec = { ...d.spec, replicas: actor.replicas };
      d.status = { ...d.status, replicas: actor.replicas, readyReplicas: actor.replicas };
      d.metadata.resourceVersion = String(Number(d.metadata.resourceVersion ?? 1) + 1);
      this.recordManager(d, actor.manager, actor.operation, true, at);
      actor.reverts.push({ at, realAt: Date.now() });
    }
  }

  nodes = new Map<string, KubeObject>();
  pods = new Map<string, KubeObject>();
  pdbs = new Map<string, KubeObject>();
  deployments = new Map<string, KubeObject>();
  replicasets = new Map<string, KubeObject>();
  statefulsets = new Map<string, KubeObject>();
  daemonsets = new Map<string, KubeObject>();
  /** Per pod key: what the pod does (the served status is computed from it at the virtual now). */
  lives = new Map<string, PodLife>();
  /** The workloads whose status is computed from their pods. */
  workloads: SimWorkloadRef[] = [];

  constructor(readonly now: () => number = Date.now) {}
  /** Every mutating request, for tests: `PATCH apps/v1 deployments kube-system/cluster-autoscaler/scale`. */
  writes: { at: number; what: string; body: unknown }[] = [];

  static key(namespace: string | undefined, name: string): string {
    return namespace ? `${namespace}/${name}` : name;
  }

  /** Pods of a node. */
  podsOn(node: string): KubeObject[] {
    return [...this.pods.values()].filter((p) => p.spec?.nodeName === node);
  }

  /**
   * Whether a budget's selector matches a pod (policy/v1): a budget without a selector matches no pod,
   * an empty `matchLabels` every pod of its namespace (the simulated budgets select by labels only).
   */
  private covers(pdb: KubeObject, pod: KubeObject): boolean {
    const selector = pdb.spec?.selector as { matchLabels?: Record<string, string> } | undefined;
    return !!selector && pdb.metadata.namespace === pod.metadata.namespace && matches(pod.metadata.labels ?? {}, selector.matchLabels ?? {});
  }

  /**
   * A budget's status as the disruption controller writes it (kubernetes pkg/controller/disruption):
   * the pods it covers are expected, the Ready ones healthy; minAvailable is the healthy count it
   * desires, maxUnavailable desires all but that many (neither: none); disruptionsAllowed is the healthy surplus.
   */
  budgetStatus(pdb: KubeObject): { currentHealthy: number; desiredHealthy: number; expectedPods: number; disruptionsAllowed: number } {
    const covered = [...this.pods.values()].filter((p) => this.covers(pdb, p));
    const currentHealthy = covered.filter((p) => this.isReady(p)).length;
    const minAvailable = pdb.spec?.minAvailable as number | undefined;
    const maxUnavailable = pdb.spec?.maxUnavailable as number | undefined;
    const desiredHealthy = minAvailable ?? (maxUnavailable !== undefined ? Math.max(0, covered.length - maxUnavailable) : 0);
    return { currentHealthy, desiredHealthy, expectedPods: covered.length, disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy) };
  }

  /** The budgets whose selector matches this pod. */
  budgetsOf(pod: KubeObject): KubeObject[] {
    return [...this.pdbs.values()].filter((pdb) => this.covers(pdb, pod));
  }

  /**
   * What the eviction API answers for this pod now, `undefined` when it evicts it: the rules of
   * kubernetes pkg/registry/core/pod/storage/eviction.go `EvictionREST.Create`, as src/decision/
   * disruption.ts evictionRefusal applies them. A pod not placed (Pending) is evicted without looking at
   * budgets (`canIgnorePDB`); one under more than one budget is refused (HTTP 500); an unready one is
   * evicted under `unhealthyPodEvictionPolicy: AlwaysAllow`, or when its budget has currentHealthy >=
   * desiredHealthy > 0; otherwise its budget must allow a disruption (`checkAndDecrement`, else 429).
   */
  evictionRefusal(pod: KubeObject): string | undefined {
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (!pod.spec?.nodeName || pod.metadata.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed') return undefined;
    const budgets = this.budgetsOf(pod);
    if (budgets.length > 1) return 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.';
    const [pdb] = budgets;
    if (!pdb) return undefined;
    const status = this.budgetStatus(pdb);
    if (!this.isReady(pod)) {
      if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return undefined;
      if (status.currentHealthy >= status.desiredHealthy && status.desiredHealthy > 0) return undefined;
    }
    return status.disruptionsAllowed > 0 ? undefined : "Cannot evict pod as it would violate the pod's disruption budget.";
  }

  /** Whether a pod is Ready now: placed, not crash-looping, past its start-up time. */
  isReady(pod: KubeObject): boolean {
    const life = this.lives.get(KubeState.key(pod.metadata.namespace, pod.metadata.name));
    // A pod being deleted is no longer counted healthy (kubernetes pkg/controller/disruption countHealthyPods).
    if (!pod.spec?.nodeName || pod.metadata.deletionTimestamp) return false;
    if (!life) return (pod.status as { phase?: string })?.phase === 'Running';
    return !life.degraded && !life.crashLoop && life.readyAt !== null && this.now() >= life.readyAt;
  }

  /** A pod as the API serves it: phase, Ready condition and container statuses at the virtual now. */
  servedPod(pod: KubeObject): KubeObject {
    const life = this.lives.get(KubeState.key(pod.metadata.namespace, pod.metadata.name));
    if (!life) return pod;
    const now = this.now();
    const ready = this.isReady(pod);
    const restarts = life.crashLoop ? 1 + Math.floor((now - life.startedAt) / CRASH_RESTART_MS) : 0;
    const started = new Date(life.startedAt).toISOString();
    return {
      ...pod,
      status: {
        phase: pod.spec?.nodeName ? 'Running' : 'Pending',
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', ...(ready ? {} : { reason: 'ContainersNotReady' }) }],
        containerStatuses: [
          {
            name: 'app',
            image: 'registry.example/app:1',
            ready,
            restartCount: restarts,
            started: !life.crashLoop,
            state: life.crashLoop
              ? { waiting: { reason: 'CrashLoopBackOff', message: `back-off 5m0s restarting failed container=app pod=${pod.metadata.name}` } }
              : { running: { startedAt: started } },
            lastState: life.crashLoop ? { terminated: { reason: 'Error', exitCode: 1, finishedAt: new Date(now).toISOString() } } : {},
          },
        ],
      },
    };
  }

  /**
   * Warning events of a namespace's pods, as the kubelet records them (`BackOff` for a restarting
   * container, `Unhealthy` for a failing probe: kubernetes pkg/kubelet/events). The API selects them by
   * `involvedObject.name`, a field selector core/v1 events support.
   */
  events(namespace: string | undefined): KubeObject[] {
    const out: KubeObject[] = [];
    for (const pod of this.pods.values()) {
      if (namespace && pod.metadata.namespace !== namespace) continue;
      const life = this.lives.get(KubeState.key(pod.metadata.namespace, pod.metadata.name));
      if (!life || this.isReady(pod) || (!life.crashLoop && !life.failure)) continue;
      const [reason, message] = life.crashLoop
        ? ['BackOff', 'Back-off restarting failed container app in pod']
        : ['Unhealthy', life.failure ?? 'Readiness probe failed'];
      out.push({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${pod.metadata.name}.sim`, namespace: pod.metadata.namespace },
        involvedObject: { kind: 'Pod', name: pod.metadata.name, namespace: pod.metadata.namespace },
        reason,
        message: `${message} ${pod.metadata.name}_${pod.metadata.namespace}`,
        type: 'Warning',
        count: Math.max(1, Math.floor((this.now() - life.startedAt) / 30_000)),
        lastTimestamp: new Date(this.now()).toISOString(),
      } as unknown as KubeObject);
    }
    return out;
  }

  /** The pods a workload owns (directly, or through its ReplicaSet). */
  podsOf(w: Pick<SimWorkloadRef, 'kind' | 'namespace' | 'name'>): KubeObject[] {
    const owners = new Set([w.name]);
    if (w.kind === 'Deployment') {
      for (const rs of this.replicasets.values()) {
        const owner = (rs.metadata.ownerReferences as { kind: string; name: string }[] | undefined)?.[0];
        if (rs.metadata.namespace === w.namespace && owner?.kind === 'Deployment' && owner.name === w.name) owners.add(rs.metadata.name);
      }
    }
    const kind = w.kind === 'Deployment' ? 'ReplicaSet' : w.kind;
    return [...this.pods.values()].filter((p) => {
      const owner = (p.metadata.ownerReferences as { kind: string; name: string }[] | undefined)?.[0];
      return p.metadata.namespace === w.namespace && owner?.kind === kind && owners.has(owner.name);
    });
  }

  /** A workload (or ReplicaSet) as the API serves it: its status counted from its pods now. */
  servedWorkload(kind: SimWorkloadRef['kind'] | 'ReplicaSet', o: KubeObject): KubeObject {
    const ref = this.workloads.find((w) => w.kind === kind && w.namespace === o.metadata.namespace && w.name === o.metadata.name);
    if (!ref && kind !== 'ReplicaSet') return o;
    const pods =
      kind === 'ReplicaSet'
        ? [...this.pods.values()].filter((p) => (p.metadata.ownerReferences as { name: string }[] | undefined)?.[0]?.name === o.metadata.name)
        : this.podsOf(ref!);
    const ready = pods.filter((p) => this.isReady(p)).length;
    if (kind === 'DaemonSet') {
      const nodes = [...this.nodes.values()].filter((n) => n.metadata.labels?.['eks.amazonaws.com/nodegroup'] === ref!.nodegroup).length;
      return {
        ...o,
        status: {
          desiredNumberScheduled: nodes,
          currentNumberScheduled: pods.length,
          numberReady: ready,
          numberAvailable: ready,
          updatedNumberScheduled: pods.length,
          observedGeneration: 1,
        },
      };
    }
    return {
      ...o,
      status: {
        replicas: pods.length,
        readyReplicas: ready,
        availableReplicas: ready,
        updatedReplicas: pods.length,
        currentReplicas: pods.length,
        observedGeneration: 1,
      },
    };
  }

  /** The PDB objects with their status filled in, as the API serves them. */
  servedPdb(pdb: KubeObject): KubeObject {
    return { ...pdb, status: { ...this.budgetStatus(pdb), observedGeneration: 1 } };
  }
}

/** A selector's requirements: a value to equal, or null for "the label exists". */
export function matches(labels: Record<string, string>, selector: Record<string, string | null>): boolean {
  return Object.entries(selector).every(([k, v]) => (v === null ? k in labels : labels[k] === v));
}

/**
 * `a=b,c=d` (equality) and a bare `a` (existence: every object with the label a, whatever its value;
 * Kubernetes "Labels and Selectors", set-based requirements), as the action uses them; `a in (x)` and
 * `!a` are more than needed.
 */
export function labelSelector(text: string | null): Record<string, string | null> {
  if (!text) return {};
  return Object.fromEntries(
    text
      .split(',')
      .filter(Boolean)
      .map((part) => {
        if (!/=/.test(part)) return [part.trim(), null];
        const [k = '', v = ''] = part.split(/==?/);
        return [k.trim(), v.trim()];
      }),
  );
}

export interface TokenCheck {
  ok: boolean;
  reason?: string;
}

/** The credentials STS knows, by access key: what GetCallerIdentity would accept. */
export type SessionLookup = (accessKeyId: string) => { secretAccessKey: string; sessionToken?: string; expiresAt: number | null } | undefined;

/**
 * The STS domain of a region's partition, as aws-iam-authenticator's verifier has it
 * (pkg/endpoints/partitions.go GetSTSPartitionDomain): China's regions are `amazonaws.com.cn`. The
 * simulated regions are commercial or China.
 */
function stsDomain(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/**
 * Checks a bearer token the way EKS (aws-iam-authenticator) does: `k8s-aws-v1.` + base64url of a
 * presigned STS GetCallerIdentity URL for `sts.<region>.<partition domain>` (pkg/token/token.go
 * verifySTSHostnameFormat), dated within 15 minutes, whose signed headers include `x-k8s-aws-id`,
 * whose signature is valid for this cluster's name in that header, and whose credentials STS still
 * accepts now (the authenticator calls STS with the URL: an expired session fails).
 */
export async function verifyToken(
  header: string | undefined,
  cluster: { name: string; region: string },
  sessions: SessionLookup,
  now = Date.now(),
): Promise<TokenCheck> {
  const prefix = 'Bearer k8s-aws-v1.';
  if (!header?.startsWith(prefix)) return { ok: false, reason: 'no k8s-aws-v1 bearer token' };
  let url: URL;
  try {
    url = new URL(Buffer.from(header.slice(prefix.length), 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'the token is not a base64url URL' };
  }
  const q = url.searchParams;
  const host = `sts.${cluster.region}.${stsDomain(cluster.region)}`;
  if (url.hostname !== host) return { ok: false, reason: `unexpected host ${url.hostname} (expected ${host})` };
  if (q.get('Action') !== 'GetCallerIdentity' || q.get('Version') !== '2011-06-15') return { ok: false, reason: 'not a GetCallerIdentity request' };
  const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signedHeaders.includes('x-k8s-aws-id')) return { ok: false, reason: 'x-k8s-aws-id is not a signed header' };
  const date = q.get('X-Amz-Date') ?? '';
  const signedAt = Date.parse(date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!Number.isFinite(signedAt)) return { ok: false, reason: 'no X-Amz-Date' };
  if (now - signedAt > 15 * 60_000) return { ok: false, reason: 'the token has expired' };
  const credential = q.get('X-Amz-Credential') ?? '';
  const [accessKeyId = '', , region = 'us-east-1'] = credential.split('/');
  const session = sessions(accessKeyId);
  if (!session) return { ok: false, reason: 'unknown access key' };
  if ((session.sessionToken ?? null) !== q.get('X-Amz-Security-Token')) return { ok: false, reason: 'the session token does not match' };
  if (session.expiresAt !== null && session.expiresAt <= now) return { ok: false, reason: 'the security token included in the request is expired' };

  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: session.secretAccessKey, ...(session.sessionToken ? { sessionToken: session.sessionToken } : {}) },
    region,
    service: 'sts',
    sha256: Sha256,
  });
  const query: Record<string, string> = {};
  for (const [k, v] of q) if (k.startsWith('X-Amz-') === false) query[k] = v;
  const expected = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname: url.hostname,
      path: '/',
      query,
      headers: { host: url.hostname, 'x-k8s-aws-id': cluster.name },
    }),
    { signingDate: new Date(signedAt), expiresIn: Number(q.get('X-Amz-Expires') ?? 60) },
  );
  if (expected.query?.['X-Amz-Signature'] !== q.get('X-Amz-Signature')) {
    return { ok: false, reason: `the signature does not match cluster ${cluster.name}` };
  }
  return { ok: true };
}
