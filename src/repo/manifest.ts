import { Document, YAMLMap, isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { kubernetesMinor, parseRelease, suffixKind } from '../decision/release.js';
import type { Manifest, PinnedRelease } from '../model/plan.js';
import type { PinKey } from '../model/fleet.js';
import { nodeClassesValue, parseNodeClassPins, setNodeClassAliases } from './node-class-pins.js';

/** What the manifest's validation knows of a node group: its AMI type (how a release reads) and its kind's pin key. */
export interface PinnedGroup {
  amiType?: string;
  /** The manifest key its kind pins it by (../kinds/node-kind.ts pinKey); unknown: read from the entry. */
  pinKey?: PinKey | null;
}

/** A manifest that does not validate: names the file and the line. */
export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${file}:${line}: ${problem}`);
    this.name = 'ManifestError';
  }
}

export function manifestPath(dir: string, region: string, cluster: string): string {
  return `${dir}/${region}/${cluster}.yaml`;
}

const TOP_KEYS = ['cluster', 'region', 'nodegroups', 'nodeClasses'];
const NODEGROUP_KEYS = ['kubernetesVersion', 'releaseVersion', 'imageId'];
const IMAGE_ID = /^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

function header(cluster: string, region: string): string {
  return [
    ` eks-ami-drift: the pinned AMI release of each managed node group of EKS cluster ${cluster} (${region}).`,
    ' Merging a change to this file upgrades those node groups: eks-ami-drift pauses cluster-autoscaler,',
    ' runs the EKS rolling update to the release pinned here, and restores cluster-autoscaler.',
    ' Keys: cluster, region, nodegroups.<name>.kubernetesVersion ("1.33"), nodegroups.<name>.releaseVersion,',
    ' or nodegroups.<name>.imageId for a node group whose launch template names its AMI (CUSTOM);',
    ' nodeClasses.<EC2NodeClass>.alias ("al2023@v20250505") and optionally .file (the EC2NodeClass manifest, bumped too):',
    " Karpenter replaces those nodes through drift, within the NodePools' disruption budgets.",
  ].join('\n');
}

/** A new manifest file's text, with its header comment. */
export function renderManifest(manifest: Manifest): string {
  const doc = new Document({
    cluster: manifest.cluster,
    region: manifest.region,
    nodegroups: Object.fromEntries(
      Object.entries(manifest.nodegroups)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, pin]) => [
          name,
          pin.imageId
            ? { kubernetesVersion: pin.kubernetesVersion, imageId: pin.imageId }
            : { kubernetesVersion: pin.kubernetesVersion, releaseVersion: pin.releaseVersion },
        ]),
    ),
    ...(manifest.nodeClasses && Object.keys(manifest.nodeClasses).length > 0 ? { nodeClasses: nodeClassesValue(manifest.nodeClasses) } : {}),
  });
  doc.commentBefore = header(manifest.cluster, manifest.region);
  for (const [name, pin] of Object.entries(manifest.nodegroups)) noteImage(doc, name, pin);
  forceQuotedVersions(doc);
  return doc.toString({ lineWidth: 0 });
}

/**
 * Changes the pins of some node groups in an existing manifest's text, keeping everything else a
 * person wrote (comments, order, other node groups) as it is.
 */
export function updateManifest(text: string, pins: Record<string, PinnedRelease>, nodeClassAliases: Readonly<Record<string, string>> = {}): string {
  const doc = parseDocument(text);
  setNodeClassAliases(doc, nodeClassAliases);
  for (const [name, pin] of Object.entries(pins)) {
    doc.setIn(['nodegroups', name, 'kubernetesVersion'], pin.kubernetesVersion);
    if (pin.imageId) {
      doc.setIn(['nodegroups', name, 'imageId'], pin.imageId);
      noteImage(doc, name, pin);
    } else {
      doc.setIn(['nodegroups', name, 'releaseVersion'], pin.releaseVersion);
    }
  }
  forceQuotedVersions(doc);
  return doc.toString({ lineWidth: 0 });
}

/** The comment that says which release an image id is, on the same line. */
function noteImage(doc: Document, name: string, pin: PinnedRelease): void {
  const node = doc.getIn(['nodegroups', name, 'imageId'], true);
  if (pin.imageId && pin.imageNote && isScalar(node)) node.comment = ` ${pin.imageNote}`;
}

/** `1.30` unquoted is the number 1.3 in YAML: Kubernetes versions are always written quoted. */
function forceQuotedVersions(doc: Document): void {
  const nodegroups = doc.get('nodegroups', true);
  if (!isMap(nodegroups)) return;
  for (const item of nodegroups.items) {
    if (!isMap(item.value)) continue;
    const version = item.value.get('kubernetesVersion', true);
    if (isScalar(version)) version.type = 'QUOTE_DOUBLE';
  }
}

/**
 * Reads and validates a manifest: an unknown key, a malformed version or release, a file that names
 * another cluster, or a node group not in `existing` (when given) is a ManifestError naming the line.
 * A node group is pinned by its kind's pin key (`kinds`, when known: an image id for one whose AMI its
 * launch template names); a release is read by its AMI type: an Amazon Linux or Windows release must be
 * of the pinned Kubernetes version; a Bottlerocket release names the OS version.
 */
export function parseManifest(
  file: string,
  text: string,
  expect: { cluster: string; region: string },
  existing?: readonly string[],
  kinds: Readonly<Record<string, PinnedGroup | undefined>> = {},
  nodeClassNames?: readonly string[],
): Manifest {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const lineOf = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : 1);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ManifestError(file, e.linePos?.[0]?.line ?? 1, `not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root)) throw new ManifestError(file, lineOf(root), 'expected a mapping with keys cluster, region, nodegroups');

  const values: Record<string, Node | null> = {};
  for (const item of root.items) {
    const key = isScalar(item.key) ? String(item.key.value) : '';
    if (!TOP_KEYS.includes(key)) throw new ManifestError(file, lineOf(item.key), `unknown key ${JSON.stringify(key)} (expected ${TOP_KEYS.join(', ')})`);
    values[key] = item.value;
  }
  const text_ = (key: string): string => {
    const node = values[key];
    if (!isScalar(node) || typeof node.value !== 'string' || !node.value) {
      throw new ManifestError(file, lineOf(node ?? root), `${key}: expected a string`);
    }
    return node.value;
  };
  const cluster = text_('cluster');
  if (cluster !== expect.cluster)
    throw new ManifestError(file, lineOf(values.cluster), `cluster is ${JSON.stringify(cluster)} but the file is for ${expect.cluster}`);
  const region = text_('region');
  if (region !== expect.region)
    throw new ManifestError(file, lineOf(values.region), `region is ${JSON.stringify(region)} but the file is under ${expect.region}/`);

  let nodeClasses: Manifest['nodeClasses'];
  if (values.nodeClasses !== undefined) {
    const read = parseNodeClassPins(values.nodeClasses, lineOf, nodeClassNames);
    if ('problem' in read) throw new ManifestError(file, read.line, read.problem);
    nodeClasses = read.pins;
  }
  // A cluster whose nodes are all Karpenter's may pin node classes alone.
  const groups = values.nodegroups === undefined && nodeClasses ? new YAMLMap() : values.nodegroups;
  if (!isMap(groups))
    throw new ManifestError(file, lineOf(groups ?? root), 'nodegroups: expected a mapping of node group name to kubernetesVersion and releaseVersion');
  const nodegroups: Record<string, PinnedRelease> = {};
  for (const item of groups.items) {
    const name = isScalar(item.key) ? String(item.key.value) : '';
    const at = lineOf(item.key as Node);
    if (existing && !existing.includes(name)) {
      throw new ManifestError(file, at, `node group ${JSON.stringify(name)} does not exist in cluster ${cluster} (it has ${existing.join(', ') || 'none'})`);
    }
    if (!isMap(item.value)) throw new ManifestError(file, at, `${name}: expected kubernetesVersion and releaseVersion`);
    const pin: Partial<PinnedRelease> = {};
    const lineOfField: Record<string, number> = {};
    for (const field of item.value.items) {
      const key = isScalar(field.key) ? String(field.key.value) : '';
      const fieldLine = lineOf(field.key as Node);
      lineOfField[key] = fieldLine;
      if (!NODEGROUP_KEYS.includes(key))
        throw new ManifestError(file, fieldLine, `unknown key ${JSON.stringify(key)} in node group ${name} (expected ${NODEGROUP_KEYS.join(', ')})`);
      const value = isScalar(field.value) ? field.value.value : undefined;
      if (typeof value !== 'string') {
        const hint =
          typeof value === 'number'
            ? ` (unquoted ${value} is a number in YAML: write "${field.value && isScalar(field.value) ? (field.value.source ?? value) : value}")`
            : '';
        throw new ManifestError(file, fieldLine, `${name}.${key}: expected a quoted string${hint}`);
      }
      (pin as Record<string, string>)[key] = value;
    }
    if (!pin.kubernetesVersion || !/^\d+\.\d+$/.test(pin.kubernetesVersion)) {
      throw new ManifestError(
        file,
        lineOfField.kubernetesVersion ?? at,
        `${name}.kubernetesVersion: expected a Kubernetes minor such as "1.33", got ${JSON.stringify(pin.kubernetesVersion ?? null)}`,
      );
    }
    const { amiType, pinKey } = kinds[name] ?? {};
    // A node group whose AMI its launch template names (CUSTOM, or self-managed) is pinned by image id,
    // every other one by release (EKS refuses a releaseVersion for CUSTOM, and ignores an image for the
    // others): its kind says which. Unknown, the entry does.
    if (pinKey === 'imageId' || (pinKey === undefined && pin.imageId !== undefined)) {
      if (pin.releaseVersion !== undefined)
        throw new ManifestError(
          file,
          lineOfField.releaseVersion ?? at,
          `${name}: its AMI is named by its launch template${amiType === 'CUSTOM' ? ' (CUSTOM)' : ''}: pin it with imageId, not releaseVersion`,
        );
      if (!pin.imageId || !IMAGE_ID.test(pin.imageId)) {
        throw new ManifestError(
          file,
          lineOfField.imageId ?? at,
          `${name}.imageId: ${JSON.stringify(pin.imageId ?? null)} is not an AMI id (expected the form ami-0123456789abcdef0)`,
        );
      }
      nodegroups[name] = { kubernetesVersion: pin.kubernetesVersion, imageId: pin.imageId, line: lineOfField.imageId ?? at };
      continue;
    }
    if (pin.imageId !== undefined)
      throw new ManifestError(
        file,
        lineOfField.imageId ?? at,
        `${name}: imageId is only for a node group whose launch template names its AMI (CUSTOM or self-managed); ${name} is ${amiType}: pin releaseVersion`,
      );
    if (!pin.releaseVersion || !parseRelease(pin.releaseVersion, amiType)) {
      throw new ManifestError(
        file,
        lineOfField.releaseVersion ?? at,
        `${name}.releaseVersion: ${JSON.stringify(pin.releaseVersion ?? null)} is not a release version (expected the form 1.33.13-20260714)`,
      );
    }
    // Amazon Linux and Windows releases carry their Kubernetes version; Bottlerocket's carry the OS
    // version, which is unrelated.
    if (suffixKind(amiType) === 'date' && kubernetesMinor(pin.releaseVersion) !== pin.kubernetesVersion) {
      throw new ManifestError(file, lineOfField.releaseVersion ?? at, `${name}: release ${pin.releaseVersion} is not for Kubernetes ${pin.kubernetesVersion}`);
    }
    nodegroups[name] = { ...(pin as PinnedRelease), line: lineOfField.releaseVersion ?? at };
  }
  return { cluster, region, nodegroups, ...(nodeClasses ? { nodeClasses } : {}) };
}
