import type { IncomingHttpHeaders } from 'node:http';
import type { Reply } from './aws.js';
import { KubeState, labelSelector, matches, verifyToken, type KubeObject, type SessionLookup } from './kube.js';
import type { World } from './world.js';
import type { SimCluster } from './fleet.js';
import { EvictionError } from './eviction.js';
import { karpenterObjects, resolveNodeClass, servesKarpenter } from './karpenter.js';

class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const json = (status: number, body: unknown): Reply => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

function status(e: KubeError): Reply {
  return json(e.code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.reason, code: e.code });
}

function list(kind: string, apiVersion: string, items: KubeObject[]): unknown {
  return { kind: `${kind}List`, apiVersion, metadata: { resourceVersion: '1' }, items };
}

/** RFC 6902 JSON Patch, the operations a client sends for scale and annotations. */
function jsonPatch(target: KubeObject, ops: { op: string; path: string; value?: unknown }[]): void {
  for (const { op, path, value } of ops) {
    const keys = path
      .split('/')
      .slice(1)
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop() as string;
    let parent = target as unknown as Record<string, unknown>;
    for (const k of keys) {
      if (parent[k] === undefined && op === 'add') parent[k] = {};
      parent = parent[k] as Record<string, unknown>;
      if (parent === undefined) throw new KubeError(422, 'Invalid', `the path ${path} does not exist`);
    }
    if (op === 'test' && JSON.stringify(parent[last]) !== JSON.stringify(value)) throw new KubeError(422, 'Invalid', `test failed at ${path}`);
    // RFC 6902 4.2 (remove) and 4.3 (replace): "The target location MUST exist for the operation to be successful."
    if ((op === 'replace' || op === 'remove') && !(last in parent)) throw new KubeError(422, 'Invalid', `the path ${path} does not exist`);
    if (op === 'add' || op === 'replace') parent[last] = value;
    if (op === 'remove') delete parent[last];
  }
}

/** RFC 7386 JSON Merge Patch (also what a strategic merge patch of plain fields does). */
function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (typeof v === 'object' && !Array.isArray(v) && typeof target[k] === 'object' && target[k] !== null) {
      mergePatch(target[k] as Record<string, unknown>, v as Record<string, unknown>);
    } else target[k] = v;
  }
}

function scaleOf(d: KubeObject): KubeObject {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: d.metadata.name, namespace: d.metadata.namespace, resourceVersion: String(d.metadata.resourceVersion ?? '1') },
    spec: { replicas: d.spec?.replicas },
    status: { replicas: d.status?.replicas ?? d.spec?.replicas, selector: 'app=cluster-autoscaler' },
  };
}

const ROUTES: [string, RegExp, string][] = [
  ['list nodes', /^\/api\/v1\/nodes$/, 'nodes'],
  ['nodes', /^\/api\/v1\/nodes\/([^/]+)$/, 'node'],
  ['pods/eviction', /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/, 'eviction'],
  ['pods', /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/, 'pod'],
  ['list pods', /^\/api\/v1\/pods$/, 'pods'],
  ['list pods', /^\/api\/v1\/namespaces\/([^/]+)\/pods$/, 'pods'],
  ['list poddisruptionbudgets', /^\/apis\/policy\/v1\/poddisruptionbudgets$/, 'pdbs'],
  ['list poddisruptionbudgets', /^\/apis\/policy\/v1\/namespaces\/([^/]+)\/poddisruptionbudgets$/, 'pdbs'],
  ['list deployments', /^\/apis\/apps\/v1\/deployments$/, 'deployments'],
  ['list deployments', /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments$/, 'deployments'],
  ['list replicasets', /^\/apis\/apps\/v1\/replicasets$/, 'replicasets'],
  ['list replicasets', /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/replicasets$/, 'replicasets'],
  ['list statefulsets', /^\/apis\/apps\/v1\/statefulsets$/, 'statefulsets'],
  ['list statefulsets', /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/statefulsets$/, 'statefulsets'],
  ['list daemonsets', /^\/apis\/apps\/v1\/daemonsets$/, 'daemonsets'],
  ['list daemonsets', /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/daemonsets$/, 'daemonsets'],
  ['list events', /^\/api\/v1\/events$/, 'events'],
  ['list events', /^\/api\/v1\/namespaces\/([^/]+)\/events$/, 'events'],
  ['deployments', /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/, 'deployment'],
  ['deployments/scale', /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)\/scale$/, 'scale'],
  // Karpenter's cluster-scoped custom resources (./karpenter.ts).
  ['list ec2nodeclasses', /^\/apis\/karpenter\.k8s\.aws\/v1\/ec2nodeclasses$/, 'ec2nodeclasses'],
  ['list nodepools', /^\/apis\/karpenter\.sh\/v1\/nodepools$/, 'nodepools'],
  ['list nodeclaims', /^\/apis\/karpenter\.sh\/v1\/nodeclaims$/, 'nodeclaims'],
  ['ec2nodeclasses', /^\/apis\/karpenter\.k8s\.aws\/v1\/ec2nodeclasses\/([^/]+)$/, 'ec2nodeclass'],
];

/**
 * GET and PATCH of one node: cordoning (`spec.unschedulable`) and taints. A JSON Patch
 * (application/json-patch+json, what @kubernetes/client-node sends by default), a JSON merge patch or a
 * strategic merge patch (Node's `spec.taints` has no patch merge key: the list is replaced whole,
 * kubernetes staging/src/k8s.io/api/core/v1/types.go NodeSpec). Every PATCH is in `kube.writes`.
 */
function nodeRequest(world: World, kube: KubeState, method: string, name: string, body: string, contentType: string): Reply {
  const node = kube.nodes.get(name);
  if (!node) throw new KubeError(404, 'NotFound', `nodes "${name}" not found`);
  if (method === 'GET') return json(200, node);
  if (method !== 'PATCH') throw new KubeError(405, 'MethodNotAllowed', `${method} is not supported`);
  const patch = JSON.parse(body || '{}') as unknown;
  const copy = structuredClone(node);
  if (contentType.includes('json-patch')) jsonPatch(copy, patch as { op: string; path: string; value?: unknown }[]);
  else if (contentType.includes('merge-patch')) mergePatch(copy, patch as Record<string, unknown>);
  else throw new KubeError(415, 'UnsupportedMediaType', `the content type ${contentType} is not supported`);
  copy.metadata.resourceVersion = String(Number(node.metadata.resourceVersion ?? 1) + 1);
  kube.nodes.set(name, copy);
  kube.writes.push({ at: world.clock.now(), what: `PATCH nodes ${name}`, body: patch });
  return json(200, copy);
}

/**
 * GET and PATCH (JSON Patch) of one EC2NodeClass: a new alias is resolved again at once, as Karpenter's
 * AMI controller does on the change (./karpenter.ts). Patches are in `kube.writes`.
 */
function nodeClassRequest(world: World, kube: KubeState, cluster: SimCluster, method: string, name: string, body: string, contentType: string): Reply {
  if (!cluster.karpenter) throw new KubeError(404, 'NotFound', `the server could not find the requested resource`);
  const classes = karpenterObjects(world, kube, cluster, world.clock.now()).get('ec2nodeclasses') ?? [];
  const nc = classes.find((c) => c.metadata.name === name);
  if (!nc) throw new KubeError(404, 'NotFound', `ec2nodeclasses.karpenter.k8s.aws "${name}" not found`);
  if (method === 'GET') return json(200, nc);
  if (method !== 'PATCH') throw new KubeError(405, 'MethodNotAllowed', `${method} is not supported`);
  if (!contentType.includes('json-patch')) throw new KubeError(415, 'UnsupportedMediaType', `the content type ${contentType} is not supported`);
  const patch = JSON.parse(body || '[]') as { op: string; path: string; value?: unknown }[];
  jsonPatch(nc, patch);
  resolveNodeClass(world, cluster, nc);
  kube.writes.push({ at: world.clock.now(), what: `PATCH ec2nodeclasses ${name}`, body: patch });
  return json(200, nc);
}

/**
 * A pod by name: GET; DELETE (graceful, no budget asked); and POST of its `eviction` subresource, a
 * policy/v1 Eviction naming the pod (./eviction.ts: 201, 429 TooManyRequests under a budget that allows
 * no disruption now, 500 under two budgets). Evictions and deletions are in `kube.writes`.
 */
function podRequest(world: World, cluster: SimCluster, kind: 'eviction' | 'pod', method: string, ns: string, name: string, body: string): Reply {
  const kube = world.kubeOf(cluster);
  const lifecycle = world.podLifecycle(cluster);
  const pod = kube.pods.get(KubeState.key(ns, name));
  if (kind === 'pod' && method === 'GET') {
    if (!pod) throw new KubeError(404, 'NotFound', `pods "${name}" not found`);
    return json(200, kube.servedPod(pod));
  }
  if (kind === 'pod' && method !== 'DELETE') throw new KubeError(405, 'MethodNotAllowed', `${method} is not supported`);
  if (kind === 'eviction' && method !== 'POST') throw new KubeError(405, 'MethodNotAllowed', `${method} is not supported`);
  if (kind === 'eviction') {
    const eviction = JSON.parse(body || '{}') as { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } };
    if (eviction.kind !== 'Eviction' || eviction.metadata?.name !== name) {
      throw new KubeError(400, 'BadRequest', `name in URL does not match name in Eviction object`);
    }
  }
  kube.writes.push({
    at: world.clock.now(),
    what: `${kind === 'eviction' ? 'POST pods/eviction' : 'DELETE pods'} ${ns}/${name}`,
    body: body ? JSON.parse(body) : null,
  });
  try {
    if (kind === 'eviction') lifecycle.evict(ns, name);
    else lifecycle.delete(ns, name);
  } catch (error) {
    if (!(error instanceof EvictionError)) throw error;
    return json(error.code, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: error.message,
      reason: error.reason,
      ...(error.causes.length ? { details: { causes: error.causes } } : {}),
      code: error.code,
    });
  }
  if (kind === 'pod') return json(200, kube.servedPod(pod!));
  return json(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

/**
 * One cluster's Kubernetes API at `/k8s/<region>/<cluster>`: nodes, pods, PodDisruptionBudgets,
 * deployments and their scale subresource, behind EKS's token check and, when the fleet names one,
 * an RBAC allow-list of `verb resource` rules.
 */
export async function handleKube(
  world: World,
  method: string,
  url: URL,
  body: string,
  headers: IncomingHttpHeaders,
  sessions: SessionLookup,
  now: number,
): Promise<Reply> {
  try {
    const [, , region, clusterName, ...rest] = url.pathname.split('/');
    const cluster = world.fleet.clusters.find((c) => c.region === region && c.name === clusterName);
    if (!cluster) throw new KubeError(404, 'NotFound', `no cluster ${region}/${clusterName}`);
    const token = await verifyToken(headers.authorization, cluster, sessions, now);
    if (!token.ok) throw new KubeError(401, 'Unauthorized', `Unauthorized: ${token.reason}`);
    const path = `/${rest.join('/')}`;
    const kube = world.kubeOf(cluster);
    // `kubectl auth can-i`: any authenticated user may create a SelfSubjectAccessReview (the default
    // ClusterRole system:basic-user; Kubernetes docs, "Authorization", Checking API access), answered
    // from the same rules the routes below enforce.
    if (method === 'POST' && path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
      const review = JSON.parse(body || '{}') as { spec?: { resourceAttributes?: { verb?: string; resource?: string; subresource?: string } } };
      const a = review.spec?.resourceAttributes ?? {};
      const rule = `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}`;
      const allow = world.options.faults?.kubeAllow;
      return json(201, { ...review, status: { allowed: !allow || allow.includes(rule) } });
    }
    // Karpenter's objects and the nodes of its NodeClaims, made once, with the images SSM resolves now.
    if (servesKarpenter(cluster)) karpenterObjects(world, kube, cluster, world.clock.now());
    const verb = method === 'GET' ? 'get' : method === 'PATCH' ? 'patch' : method === 'PUT' ? 'update' : method === 'POST' ? 'create' : method.toLowerCase();

    for (const [rule, pattern, kind] of ROUTES) {
      const m = pattern.exec(path);
      if (!m) continue;
      const clusterScoped = kind === 'nodes' || kind === 'node' || kind === 'ec2nodeclass';
      const ns = clusterScoped ? undefined : m[1];
      const name = clusterScoped ? m[1] : m[2];
      const rbac = rule.startsWith('list') || rule.startsWith('get') ? rule : `${verb} ${rule}`;
      const allow = world.options.faults?.kubeAllow;
      if (allow && !allow.includes(rbac)) {
        throw new KubeError(
          403,
          'Forbidden',
          `${rule.split(' ').pop()} is forbidden: User "eks-ami-drift" cannot ${rbac.split(' ')[0]} resource ` +
            `"${rbac.split(' ')[1]}"${ns ? ` in the namespace "${ns}"` : ''}`,
        );
      }
      const selector = labelSelector(url.searchParams.get('labelSelector'));
      const onNode = /spec\.nodeName=([^,]+)/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
      switch (kind) {
        case 'ec2nodeclasses':
        case 'nodepools':
        case 'nodeclaims': {
          // Authorization comes first (a 403 above even where the CRD is not installed); then a resource not served is 404.
          const served = kind === 'ec2nodeclasses' ? !!cluster.karpenter : servesKarpenter(cluster);
          if (!served) throw new KubeError(404, 'NotFound', `the server could not find the requested resource (${method} ${path})`);
          const [k, apiVersion] =
            kind === 'ec2nodeclasses' ? ['EC2NodeClass', 'karpenter.k8s.aws/v1'] : [kind === 'nodepools' ? 'NodePool' : 'NodeClaim', 'karpenter.sh/v1'];
          return json(200, list(k, apiVersion, karpenterObjects(world, kube, cluster, world.clock.now()).get(kind) ?? []));
        }
        case 'ec2nodeclass':
          return nodeClassRequest(world, kube, cluster, method, name as string, body, String(headers['content-type'] ?? ''));
        case 'node':
          return nodeRequest(world, kube, method, name as string, body, String(headers['content-type'] ?? ''));
        case 'eviction':
        case 'pod':
          return podRequest(world, cluster, kind, method, ns as string, name as string, body);
        case 'nodes': {
          return json(
            200,
            list(
              'Node',
              'v1',
              [...kube.nodes.values()].filter((n) => matches(n.metadata.labels ?? {}, selector)),
            ),
          );
        }
        case 'pods':
          return json(
            200,
            list(
              'Pod',
              'v1',
              [...kube.pods.values()]
                .filter((p) => (!ns || p.metadata.namespace === ns) && (!onNode || p.spec?.nodeName === onNode) && matches(p.metadata.labels ?? {}, selector))
                .map((p) => kube.servedPod(p)),
            ),
          );
        case 'pdbs':
          return json(
            200,
            list(
              'PodDisruptionBudget',
              'policy/v1',
              [...kube.pdbs.values()].filter((b) => !ns || b.metadata.namespace === ns).map((b) => kube.servedPdb(b)),
            ),
          );
        case 'deployments':
          return json(
            200,
            list(
              'Deployment',
              'apps/v1',
              [...kube.deployments.values()]
                .filter((d) => (!ns || d.metadata.namespace === ns) && matches(d.metadata.labels ?? {}, selector))
                .map((d) => kube.servedWorkload('Deployment', d)),
            ),
          );
        case 'replicasets':
        case 'statefulsets':
        case 'daemonsets': {
          const [map, k] =
            kind === 'replicasets'
              ? ([kube.replicasets, 'ReplicaSet'] as const)
              : kind === 'statefulsets'
                ? ([kube.statefulsets, 'StatefulSet'] as const)
                : ([kube.daemonsets, 'DaemonSet'] as const);
          return json(
            200,
            list(
              k,
              'apps/v1',
              [...map.values()]
                .filter((o) => (!ns || o.metadata.namespace === ns) && matches(o.metadata.labels ?? {}, selector))
                .map((o) => kube.servedWorkload(k, o)),
            ),
          );
        }
        case 'events': {
          const about = /involvedObject\.name=([^,]+)/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
          const limit = Number(url.searchParams.get('limit') ?? Infinity);
          const events = kube.events(ns).filter((e) => !about || (e as unknown as { involvedObject: { name: string } }).involvedObject.name === about);
          return json(200, list('Event', 'v1', events.slice(0, limit)));
        }
        case 'deployment':
        case 'scale': {
          const d = kube.deployments.get(KubeState.key(ns, name as string));
          if (!d) throw new KubeError(404, 'NotFound', `deployments.apps "${name}" not found`);
          if (method === 'GET') return json(200, kind === 'scale' ? scaleOf(d) : d);
          if (method !== 'PATCH' && method !== 'PUT') throw new KubeError(405, 'MethodNotAllowed', `${method} is not supported`);
          const patch = JSON.parse(body || '{}') as unknown;
          const replicasBefore = d.spec?.replicas;
          const contentType = String(headers['content-type'] ?? '');
          const target = kind === 'scale' ? scaleOf(d) : d;
          if (method === 'PUT') Object.assign(target, patch);
          else if (contentType.includes('json-patch')) jsonPatch(target, patch as { op: string; path: string; value?: unknown }[]);
          else if (contentType.includes('merge-patch') || contentType.includes('strategic-merge-patch')) mergePatch(target, patch as Record<string, unknown>);
          else throw new KubeError(415, 'UnsupportedMediaType', `the content type ${contentType} is not supported`);
          if (kind === 'scale') {
            const replicas = Number(target.spec?.replicas);
            if (!Number.isInteger(replicas) || replicas < 0) throw new KubeError(422, 'Invalid', 'spec.replicas must be a non-negative integer');
            d.spec = { ...d.spec, replicas };
          }
          d.status = { ...d.status, replicas: d.spec?.replicas, readyReplicas: d.spec?.replicas };
          d.metadata.resourceVersion = String(Number(d.metadata.resourceVersion ?? 1) + 1);
          // A non-apply write's field manager: the `fieldManager` parameter, else (UNVERIFIED exact form) one taken from the user agent.
          const manager = url.searchParams.get('fieldManager') ?? String(headers['user-agent'] ?? 'unknown').split('/')[0]!;
          kube.recordManager(d, manager, 'Update', d.spec?.replicas !== replicasBefore, world.clock.now());
          kube.changed(KubeState.key(ns, name as string));
          kube.writes.push({ at: world.clock.now(), what: `${method} ${rule} ${ns}/${name}`, body: patch });
          return json(200, kind === 'scale' ? scaleOf(d) : d);
        }
      }
    }
    throw new KubeError(404, 'NotFound', `the server could not find the requested resource (${method} ${path})`);
  } catch (error) {
    if (error instanceof KubeError) return status(error);
    return status(new KubeError(400, 'BadRequest', error instanceof Error ? error.message : String(error)));
  }
}
