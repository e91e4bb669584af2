import type { ClusterState, ImageSource, LatestRelease, NodegroupState, ParameterRequest } from '../model/fleet.js';
import { STATUSES, type NodegroupDecision, type NodegroupStatus } from '../model/check-report.js';
import { classifyByImage, imageRequests } from './image-drift.js';
import type { DriftPolicy } from './drift.js';

const STYLE = { what: 'self-managed group', amiTypeFromImage: true };
const rank = (s: NodegroupStatus) => STATUSES.indexOf(s);

/** A self-managed group's own template (or configuration), and each of its other sources, as a node group classifyByImage reads. */
const asNodegroup = (ng: NodegroupState, source: ImageSource): NodegroupState => ({
  ...ng,
  launchTemplate: source.launchTemplate,
  image: source.image,
  sources: undefined,
});

/** The SSM parameters of every image a self-managed group runs or launches: its template's, its instances', its override templates' (per architecture). */
export function selfManagedRequests(ng: NodegroupState): ParameterRequest[] {
  const all = [ng, ...(ng.sources ?? []).map((s) => asNodegroup(ng, s))].flatMap(imageRequests);
  return [...new Map(all.map((r) => [r.parameter, r])).values()];
}

/** How a source is named in a reason. */
function sourceName(source: ImageSource): string {
  const lt = source.launchTemplate;
  const from = lt
    ? `launch template ${lt.id || lt.name} version ${lt.version}`
    : source.image?.launchConfiguration
      ? `launch configuration ${source.image.launchConfiguration}`
      : `image ${source.image?.imageId ?? '(unknown)'}`;
  const types = source.instanceTypes.length > 0 ? ` (${source.instanceTypes.join(', ')})` : '';
  return source.role === 'override'
    ? `override ${from} for${types || ' its instance types'}`
    : `${source.instances} instance${source.instances === 1 ? '' : 's'}${types} from ${from}`;
}

/**
 * A self-managed group, judged by everything it runs and launches, not only by the template new
 * instances get: its own template (or configuration), the template version or configuration each
 * instance was launched from (a group whose template was bumped but never refreshed still runs the
 * older image), and each override template of a mixed instances policy on its own (an arm64 override
 * is compared with the arm64 release). The worst of them sets the status; the reason names what is
 * behind and how many instances. Instances on another image than a current template's are drift even
 * when that image is not AWS's. One unreadable source is this group's error, never the whole check's.
 */
export function classifySelfManaged(
  cluster: ClusterState,
  ng: NodegroupState,
  latest: (parameter: string) => LatestRelease | undefined,
  policy: DriftPolicy,
): NodegroupDecision {
  const own = classifyByImage(cluster, ng, latest, policy, STYLE);
  const ownImage = ng.image?.imageId;
  const parts = (ng.sources ?? [])
    // Instances on the very image the group's template names now are where they should be.
    .filter((s) => !(s.role === 'instances' && ownImage && s.image?.imageId === ownImage && !s.image.error))
    .map((source) => {
      const d = classifyByImage(cluster, asNodegroup(ng, source), latest, policy, STYLE);
      // Instances on an image other than the one the group's current template names (a private
      // image the group moved off, say) are behind whatever that image is.
      const stale = source.role === 'instances' && (d.status === 'custom' || d.status === 'unknown') && own.status === 'up-to-date';
      return { source, d, status: stale ? ('drift' as const) : d.status };
    });
  const worse = parts.filter((p) => rank(p.status) < rank(own.status) && p.status !== 'up-to-date');
  if (worse.length === 0) return own;

  const worst = worse.reduce((a, p) => (rank(p.status) < rank(a.status) ? p : a));
  const behind = worse.filter((p) => p.source.role === 'instances' && p.status !== 'error').reduce((n, p) => n + p.source.instances, 0);
  const total = ng.instanceCount ?? 0;
  const count = behind > 0 ? `${behind} of ${total} instance${total === 1 ? '' : 's'} on an older or other image: ` : '';
  const details = worse.map(
    (p) => `${sourceName(p.source)}: ${p.status === p.d.status ? p.d.reason : `runs ${p.d.imageName ?? p.d.imageId}, not the template's`}`,
  );
  const newInstances = `new instances get ${own.imageName ?? own.imageId ?? 'the template’s image'} (${own.status})`;
  const base =
    worst.status === worst.d.status ? worst.d : { ...own, imageId: worst.d.imageId, imageName: worst.d.imageName, releaseVersion: worst.d.releaseVersion };
  return { ...base, launchTemplate: own.launchTemplate, status: worst.status, reason: `${count}${details.join('; ')}; ${newInstances}` };
}
