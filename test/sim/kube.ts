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

/** One cluster's Kubernetes API state. */
export class KubeState {
  nodes = new Map<string, KubeObject>();
  pods = new Map<string, KubeObject>();
  pdbs = new Map<string, KubeObject>();
  deployments = new Map<string, KubeObject>();
  /** Every mutating request, for tests: `PATCH apps/v1 deployments kube-system/cluster-autoscaler/scale`. */
  writes: { at: number; what: string; body: unknown }[] = [];

  static key(namespace: string | undefined, name: string): string {
    return namespace ? `${namespace}/${name}` : name;
  }

  /** Pods of a node, and the PodDisruptionBudgets that would block evicting each. */
  podsOn(node: string): KubeObject[] {
    return [...this.pods.values()].filter((p) => p.spec?.nodeName === node);
  }

  /** disruptionsAllowed as the disruption controller computes it, from the pods that match. */
  disruptionsAllowed(pdb: KubeObject): number {
    const selector = ((pdb.spec?.selector as { matchLabels?: Record<string, string> })?.matchLabels ?? {}) as Record<string, string>;
    const matching = [...this.pods.values()].filter(
      (p) => p.metadata.namespace === pdb.metadata.namespace && matches(p.metadata.labels ?? {}, selector),
    );
    const healthy = matching.filter((p) => (p.status as { phase?: string })?.phase === 'Running').length;
    const minAvailable = pdb.spec?.minAvailable as number | undefined;
    const maxUnavailable = pdb.spec?.maxUnavailable as number | undefined;
    if (minAvailable !== undefined) return Math.max(0, healthy - minAvailable);
    if (maxUnavailable !== undefined) return Math.max(0, maxUnavailable - (matching.length - healthy));
    return healthy;
  }

  /** The budgets whose selector matches this pod. */
  budgetsOf(pod: KubeObject): KubeObject[] {
    return [...this.pdbs.values()].filter((pdb) => {
      const selector = ((pdb.spec?.selector as { matchLabels?: Record<string, string> })?.matchLabels ?? {}) as Record<string, string>;
      return pdb.metadata.namespace === pod.metadata.namespace && matches(pod.metadata.labels ?? {}, selector);
    });
  }

  /** The budgets that forbid evicting this pod now. */
  blockingBudgets(pod: KubeObject): KubeObject[] {
    return [...this.pdbs.values()].filter((pdb) => {
      const selector = ((pdb.spec?.selector as { matchLabels?: Record<string, string> })?.matchLabels ?? {}) as Record<string, string>;
      return pdb.metadata.namespace === pod.metadata.namespace && matches(pod.metadata.labels ?? {}, selector) && this.disruptionsAllowed(pdb) === 0;
    });
  }

  /** The PDB objects with their status filled in, as the API serves them. */
  servedPdb(pdb: KubeObject): KubeObject {
    const allowed = this.disruptionsAllowed(pdb);
    return { ...pdb, status: { disruptionsAllowed: allowed, observedGeneration: 1 } };
  }
}

export function matches(labels: Record<string, string>, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** `a=b,c=d` or `a in (x)` is more than needed: equality selectors, as the action uses them. */
export function labelSelector(text: string | null): Record<string, string> {
  if (!text) return {};
  return Object.fromEntries(
    text
      .split(',')
      .filter(Boolean)
      .map((part) => {
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
export async function verifyToken(header: string | undefined, cluster: { name: string; region: string }, sessions: SessionLookup, now = Date.now()): Promise<TokenCheck> {
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

  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey: session.secretAccessKey, ...(session.sessionToken ? { sessionToken: session.sessionToken } : {}) }, region, service: 'sts', sha256: Sha256 });
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
