import type { ClusterState, LatestRelease, NodegroupState, ParameterRequest } from '../model/fleet.js';
import type { NodegroupDecision, NodegroupStatus } from '../model/check-report.js';
import type { NodeClassReport } from '../model/karpenter-objects.js';
import {
  aliasText,
  aliasVersionOf,
  compareAliasVersions,
  flavourText,
  parseAlias,
  recommendedParameter,
  requiredFlavours,
  selectorText,
  versionedImageParameter,
  type Alias,
  type Flavour,
} from './karpenter-alias.js';
import { kubernetesMinor } from './release.js';
import { formatDuration } from './duration.js';
import { endedReason, supportOf } from './support.js';
import type { DriftPolicy } from './drift.js';

/*
 * A Karpenter EC2NodeClass's status, pure: its alias compared with the newest release of its family
 * that is published for the cluster's minor and every architecture and variant its NodePools allow.
 */

/** Karpenter's own words on `@latest` (karpenter.sh docs, Tasks, "Managing AMIs"). */
export const LATEST_WARNING =
  'Karpenter heavily recommends against @latest in production: a faulty AMI may cause downtime; ' +
  'pin a version and roll it out in stages (karpenter.sh, "Managing AMIs")';

/** Not proposed yet: what a status that needs action says of the action. */
const NOT_PROPOSED = "proposed in the cluster's pull request (on-drift: pull-request), pinned in its manifest's nodeClasses";

interface Resolution {
  alias: Alias;
  minor: string;
  required: Flavour[];
  /** Each required flavour's newest release, as read (undefined: not read). */
  newest: { flavour: Flavour; parameter: string; found: LatestRelease | undefined }[];
  /** The newest version published for every required flavour's recommendation (the oldest of their newest), when all were read. */
  target?: { version: string; publishedAt?: Date };
}

/** The alias of a node class whose family the check compares (AL2023, Bottlerocket, AL2), with the cluster's minor; undefined otherwise. */
function aliasOf(ng: NodegroupState): { alias: Alias; minor: string } | undefined {
  const terms = ng.nodeClass?.terms ?? [];
  const alias = terms.length === 1 && terms[0]?.alias ? parseAlias(terms[0].alias) : undefined;
  const minor = ng.version ? kubernetesMinor(ng.version) : undefined;
  return alias && minor ? { alias, minor } : undefined;
}

function resolve(ng: NodegroupState, latest: (parameter: string) => LatestRelease | undefined): Resolution | undefined {
  const of = aliasOf(ng);
  if (!of || !recommendedParameter(of.alias.family, of.minor, { arch: 'x86_64', variant: 'standard' })) return undefined;
  const required = requiredFlavours(of.alias.family, ng.nodeClass?.nodePools ?? []);
  const newest = required.map((flavour) => {
    const parameter = recommendedParameter(of.alias.family, of.minor, flavour)!;
    return { flavour, parameter, found: latest(parameter) };
  });
  const versions = newest.map((n) =>
    n.found?.kind === 'found' ? { version: aliasVersionOf(of.alias.family, n.found.releaseVersion), at: n.found.publishedAt } : undefined,
  );
  let target: Resolution['target'];
  if (versions.length > 0 && versions.every((v) => v?.version)) {
    for (const v of versions) {
      const order = target ? compareAliasVersions(of.alias.family, v!.version!, target.version) : -1;
      if (order !== undefined && order < 0) target = { version: v!.version!, ...(v!.at ? { publishedAt: v!.at } : {}) };
    }
  }
  return { ...of, required, newest, ...(target ? { target } : {}) };
}

/** Round one: each required flavour's newest release, and the pinned version's image for each. */
export function nodeClassRequests(ng: NodegroupState): ParameterRequest[] {
  const of = aliasOf(ng);
  if (!of) return [];
  const r = resolve(ng, () => undefined);
  if (!r) return [];
  const requests: ParameterRequest[] = r.newest.map((n) => ({ parameter: n.parameter, format: 'release' }));
  if (of.alias.version !== 'latest') {
    for (const f of r.required) {
      const p = versionedImageParameter(of.alias.family, of.minor, of.alias.version, f);
      if (p) requests.push({ parameter: p, format: 'image-id' });
    }
  }
  // Bottlerocket's x86_64 standard and neuron images are one parameter.
  return [...new Map(requests.map((q) => [q.parameter, q])).values()];
}

/** Round two, once the newest releases are read: the target version's image for each required flavour, to confirm it exists for all. */
export function nodeClassConfirmRequests(ng: NodegroupState, latest: (parameter: string) => LatestRelease | undefined): ParameterRequest[] {
  const r = resolve(ng, latest);
  if (!r?.target || r.alias.version === 'latest' || r.target.version === r.alias.version) return [];
  const names = new Set(r.required.flatMap((f) => versionedImageParameter(r.alias.family, r.minor, r.target!.version, f) ?? []));
  return [...names].map((parameter) => ({ parameter, format: 'image-id' as const }));
}

/** The flavours whose versioned image parameter is missing for a version (Karpenter skips them). */
function missingFor(r: Resolution, version: string, latest: (parameter: string) => LatestRelease | undefined): { missing: Flavour[]; parameters: string[] } {
  const missing: Flavour[] = [];
  const parameters: string[] = [];
  for (const f of r.required) {
    const p = versionedImageParameter(r.alias.family, r.minor, version, f);
    if (p && latest(p)?.kind === 'missing') {
      missing.push(f);
      parameters.push(p);
    }
  }
  return { missing, parameters };
}

/** A node class's status and reason. */
export function classifyNodeClass(
  cluster: ClusterState,
  ng: NodegroupState,
  latest: (parameter: string) => LatestRelease | undefined,
  policy: DriftPolicy,
): NodegroupDecision {
  const nc = ng.nodeClass!;
  const resolvedIds = new Set(nc.amis.map((a) => a.id));
  const onOlderImage = nc.nodeClaims.filter((c) => c.imageId && !resolvedIds.has(c.imageId)).length;
  const parsed = aliasOf(ng);
  const r = resolve(ng, latest);
  const report: NodeClassReport = {
    selector: selectorText(nc.terms),
    resolved: nc.amis.map((a) => a.id),
    nodePools: nc.nodePools.map((p) => p.name),
    required: (r?.required ?? []).map(flavourText),
    missing: [],
    nodes: nc.nodeClaims.length,
    onOlderImage,
    targetAlias: null,
    budgets: nc.nodePools.map((p) => ({ nodePool: p.name, budgets: p.budgets })),
  };
  const notReady = nc.ready?.status === 'False' ? ` · ⚠️ Karpenter reports the node class not Ready${nc.ready.message ? ` (${nc.ready.message})` : ''}` : '';
  const unused = nc.nodePools.length === 0 ? ' · no NodePool uses it' : '';
  const nodesNote =
    (onOlderImage > 0
      ? ` · ${onOlderImage} of ${nc.nodeClaims.length} node(s) still on an older image than the class resolves (drifted, not yet replaced)`
      : '') +
    notReady +
    unused;
  const entry = (status: NodegroupStatus, reason: string, extra: { latest?: string; parameter?: string; publishedAt?: Date } = {}): NodegroupDecision => ({
    cluster: cluster.name,
    region: cluster.region,
    nodegroup: nc.name,
    amiType: parsed?.alias.family ?? nc.amiFamily,
    kubernetesVersion: ng.version ?? null,
    controlPlaneVersion: cluster.version ?? null,
    releaseVersion: parsed?.alias.version ?? null,
    latestReleaseVersion: extra.latest ?? null,
    latestReleasePublishedAt: extra.publishedAt?.toISOString() ?? null,
    latestReleaseParameter: extra.parameter ?? null,
    releaseNotesUrl: null,
    nodes: nc.nodeClaims.length,
    kind: 'karpenter',
    launchTemplate: null,
    imageId: null,
    imageName: null,
    latestImageId: null,
    unhealthy: null,
    inPlace: null,
    nodeClass: report,
    status,
    reason: `${reason}${status === 'error' ? '' : nodesNote}`,
  });

  if (ng.error) return entry('error', ng.error);
  const terms = nc.terms;
  if (terms.length === 0) return entry('unknown', 'no amiSelectorTerms');
  if (!terms.some((t) => t.alias)) {
    const images = nc.amis.length > 0 ? `resolves to ${nc.amis.map((a) => a.id).join(', ')}` : 'resolves to no image';
    return entry('custom', `selected by ${selectorText(terms)}: not compared with a published release; ${images}`);
  }
  const raw = terms.find((t) => t.alias)!.alias!;
  const alias = parseAlias(raw);
  if (!alias) return entry('unknown', `alias ${raw} is not family@version with a family Karpenter knows`);
  // AL2: AWS no longer publishes it (no AL2 AMI for Kubernetes 1.33 and later).
  const support = alias.family === 'al2' ? supportOf('AL2_x86_64', policy.now) : undefined;
  if (support?.kind === 'ended') return entry('unsupported', `${aliasText(alias)}: ${endedReason(support.eos)}`);
  if (alias.family.startsWith('windows')) {
    // Windows aliases take only `latest` (ec2nodeclass.go validation): the class moves with each release.
    return entry(
      'tracks-latest',
      `${aliasText(alias)} resolves today to ${nc.amis.map((a) => a.id).join(', ') || 'no image'}; Windows aliases cannot be pinned. ${LATEST_WARNING}`,
    );
  }
  if (!r) return entry('unknown', `Kubernetes version ${ng.version ?? '(none)'} does not parse`);

  for (const n of r.newest) {
    if (!n.found) return entry('error', `the newest release in ${n.parameter} was not read`);
    if (n.found.kind === 'error') return entry('error', `reading ${n.parameter}: ${n.found.message}`);
    if (n.found.kind !== 'found')
      return entry('unknown', `SSM parameter ${n.parameter} does not exist: no ${alias.family} ${flavourText(n.flavour)} release for Kubernetes ${r.minor}`);
  }
  const first = r.newest[0];
  const parameter = first?.parameter;
  if (!r.target)
    return entry('unknown', `the releases in ${r.newest.map((n) => n.parameter).join(', ')} do not parse`, { ...(parameter ? { parameter } : {}) });
  const target = r.target;
  const targetAlias = aliasText({ family: alias.family, version: target.version });
  const at = { latest: target.version, ...(parameter ? { parameter } : {}), ...(target.publishedAt ? { publishedAt: target.publishedAt } : {}) };
  const flavours = r.required.map(flavourText).join(', ');

  if (alias.version === 'latest') {
    return entry('tracks-latest', `${raw} resolves today to ${targetAlias} for Kubernetes ${r.minor} (${flavours}). ${LATEST_WARNING}`, at);
  }

  const pinned = missingFor(r, alias.version, latest);
  report.missing = pinned.missing.map(flavourText);
  if (pinned.missing.length === r.required.length) {
    report.targetAlias = targetAlias;
    return entry(
      'drift',
      `${raw} does not resolve for Kubernetes ${r.minor}: ${pinned.parameters.join(', ')} ${pinned.parameters.length === 1 ? 'does' : 'do'} not exist, ` +
        `so Karpenter fails the node class and launches no node from it (karpenter-provider-aws#8564): move to ${targetAlias}; ${NOT_PROPOSED}`,
      at,
    );
  }
  const skipped =
    pinned.missing.length > 0
      ? ` · ⚠️ ${raw} is not published for ${report.missing.join(', ')} at ${r.minor}: Karpenter skips it, so those nodes cannot launch from this class`
      : '';
  const order = compareAliasVersions(alias.family, alias.version, target.version);
  if (order === undefined) return entry('unknown', `${raw} and ${targetAlias} cannot be ordered`, at);
  if (order >= 0) {
    if (pinned.missing.length > 0) return entry('waiting', `${raw} is newer than what every flavour has (${targetAlias})${skipped}`, at);
    return entry('up-to-date', order === 0 ? `on the newest release for ${flavours}` : `ahead of the published recommendation ${targetAlias}`, at);
  }
  const age = target.publishedAt ? policy.now.getTime() - target.publishedAt.getTime() : undefined;
  if (age !== undefined && age < policy.minReleaseAgeMs) {
    return entry(
      'soaking',
      `${target.version} was published ${formatDuration(Math.max(0, age))} ago, under min-release-age ${formatDuration(policy.minReleaseAgeMs)}: ` +
        `drift in ${formatDuration(policy.minReleaseAgeMs - Math.max(0, age))}${skipped}`,
      at,
    );
  }
  const confirm = missingFor(r, target.version, latest);
  if (confirm.missing.length > 0) {
    return entry(
      'waiting',
      `${targetAlias} is not published for ${confirm.missing.map(flavourText).join(', ')} at Kubernetes ${r.minor} (${confirm.parameters.join(', ')}): ` +
        `not a version to move to yet${skipped}`,
      at,
    );
  }
  report.targetAlias = targetAlias;
  const published = age !== undefined ? ` (published ${formatDuration(age)} ago)` : '';
  return entry('drift', `${raw} → ${targetAlias}${published}, published for ${flavours}; ${NOT_PROPOSED}${skipped}`, at);
}
