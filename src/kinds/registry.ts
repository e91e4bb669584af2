import type { ClusterState, LatestRelease, NodegroupState, NodeKindId, ParameterRequest } from '../model/fleet.js';
import type { NodegroupReport } from '../model/check-report.js';
import type { PlanItem } from '../model/plan.js';
import { withHealthMark, type DriftPolicy } from '../decision/drift.js';
import type { PlanInput } from '../decision/plan.js';
import type { NodeKind } from './node-kind.js';
import { managedImage } from './managed-image.js';
import { managedRelease } from './managed-release.js';
import { selfManaged } from './self-managed.js';
import { karpenterNodeClass } from './karpenter.js';
import { autoModePool } from './auto-mode.js';

/** Every node kind the action knows. A node group is of the first kind that matches it. */
export const NODE_KINDS: readonly NodeKind[] = [karpenterNodeClass, autoModePool, selfManaged, managedImage, managedRelease];

export function kindOf(ng: NodegroupState): NodeKind {
  const kind = NODE_KINDS.find((k) => k.matches(ng));
  if (!kind) throw new Error(`node group ${ng.name}: no node kind matches it`);
  return kind;
}

export function kindById(id: NodeKindId): NodeKind {
  const kind = NODE_KINDS.find((k) => k.id === id);
  if (!kind) throw new Error(`no node kind ${id}`);
  return kind;
}

/** A node group's check entry: its kind's decision, with its kind and pin key and the health gate's mark. */
export function classify(
  cluster: ClusterState,
  ng: NodegroupState,
  latest: (parameter: string) => LatestRelease | undefined,
  policy: DriftPolicy,
): NodegroupReport {
  const kind = kindOf(ng);
  const entry = { ...withHealthMark(cluster, ng, kind.classify(cluster, ng, latest, policy)), nodeKind: kind.id, pinKey: kind.pinKey };
  return ng.updateSettings && !ng.error ? { ...entry, updateSettings: ng.updateSettings } : entry;
}

/** A node group's line in the upgrade plan, as its kind decides it. */
export function planNodegroup(input: PlanInput): PlanItem {
  return kindOf(input.ng).plan(input);
}

/** The release a node group runs as the staged rollout counts it (none for kinds whose changes leave no history). */
export function runningRelease(ng: NodegroupState): { release: string; amiType: string } | undefined {
  return kindOf(ng).runningRelease(ng);
}

/** Whether a node group's AMI is named by id, so its template or configuration and image must be read. */
export const readsImage = (ng: NodegroupState): boolean => kindOf(ng).readsImage;

/** The SSM parameter holding a target release's own image in a region, as the node group's kind names it (undefined: none to read). */
export const targetImageParameter = (id: NodeKindId, amiType: string, minor: string, release: string): string | undefined =>
  kindById(id).targetImageParameter(amiType, minor, release);

/** The parameters a node group's kind reads once the first ones are read (a Karpenter alias's target, confirmed per flavour). */
export const confirmParameters = (ng: NodegroupState, latest: (parameter: string) => LatestRelease | undefined): ParameterRequest[] =>
  kindOf(ng).confirmParameters?.(ng, latest) ?? [];
