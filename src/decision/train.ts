import { parseRelease, suffixKind } from './release.js';

/**
 * A release train: one build of an AMI family, published for several Kubernetes minors at once.
 * - Amazon Linux (and Windows): the build date. amazon-eks-ami's release `v20260714` is published as
 *   `1.33.13-20260714`, `1.32.9-20260714`, ... (one Kubernetes patch per minor, the same date; the
 *   release data in ../shared/data/eks-optimized-ami-releases.csv, `release_tag` against
 *   `release_version`, and the AMI names `amazon-eks-node-al2023-x86_64-standard-1.33-v20260714`).
 * - Bottlerocket: the OS version. A managed node group's Bottlerocket release is `<OS version>-<commit>`
 *   (`1.41.0-<commit>`), the same for every aws-k8s-1.x variant of one Bottlerocket release
 *   (../shared/data/bottlerocket-releases.csv).
 * For staged rollouts (issue 12): "the same release" across minors is the same train.
 */
export interface Train {
  kind: 'build-date' | 'os-version';
  /** `v20260714`, or `v1.41.0` for Bottlerocket. */
  id: string;
  /** What orders trains of one kind: [YYYYMMDD], or [major, minor, patch]. */
  order: readonly number[];
}

/** The train of a release of a node group of `amiType`; `undefined` when its AMI type has none or it does not parse. */
export function trainOf(release: string, amiType: string | null | undefined): Train | undefined {
  const kind = suffixKind(amiType);
  // An Amazon Linux image's name gives its build as the tag (`...-1.33-v20260714`, ./eks-images.ts):
  // how a CUSTOM node group's image, and the image of its update's launch template version, name a train.
  const tag = /^v(\d{8})$/.exec(release.trim());
  if (tag && kind === 'date') return { kind: 'build-date', id: `v${tag[1]}`, order: [Number(tag[1])] };
  const parsed = parseRelease(release, amiType);
  if (!parsed) return undefined;
  if (kind === 'date' && parsed.date !== undefined) return { kind: 'build-date', id: `v${parsed.date}`, order: [parsed.date] };
  if (kind === 'commit') {
    const { major, minor, patch } = parsed.version;
    return { kind: 'os-version', id: `v${major}.${minor}.${patch}`, order: [major, minor, patch] };
  }
  return undefined;
}

/** Orders two trains of one kind (negative: `a` is older); trains of different kinds do not compare. */
export function compareTrains(a: Train, b: Train): number | undefined {
  if (a.kind !== b.kind) return undefined;
  for (let i = 0; i < Math.max(a.order.length, b.order.length); i++) {
    const d = (a.order[i] ?? 0) - (b.order[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Among releases known for one Kubernetes minor (published ones, ones node groups run), the one on `train`. */
export function releaseOnTrain(train: Train, amiType: string, releases: readonly string[]): string | undefined {
  return releases.find((r) => trainOf(r, amiType)?.id === train.id);
}
