import type { V1Deployment, V1ManagedFieldsEntry } from '@kubernetes/client-node';

/*
 * Who keeps cluster-autoscaler's Deployment as Git says, and whether their self-heal undoes a pause.
 * Read from the marks each tool puts on what it applies (sources checked December 2026):
 * - Argo CD tracks by the annotation `argocd.argoproj.io/tracking-id: <app>:<group>/<kind>:<namespace>/<name>`
 *   (the default since 3.0) or by the label `app.kubernetes.io/instance: <app>` (the default of 2.x)
 *   (argo-cd docs/user-guide/resource_tracking.md, release-2.9 and release-3.3). Helm charts set that same
 *   label to their release's name, so the label alone proves nothing: it counts only on a Deployment that
 *   `kubectl apply` wrote (Argo CD's default client-side apply leaves `kubectl.kubernetes.io/last-applied-configuration`,
 *   argo-cd docs/user-guide/sync-options.md, Server-Side Apply) and Helm did not install (no `meta.helm.sh/release-name`).
 *   With `selfHeal: true` it syncs again "when the live cluster's state deviates from the state defined in Git",
 *   5 seconds after the last attempt by default (docs/user-guide/auto_sync.md). The fix: `ignoreDifferences` on
 *   `/spec/replicas` with the sync option `RespectIgnoreDifferences=true`, without which the sync still applies
 *   the replicas of Git (docs/user-guide/sync-options.md, "Respect ignore differences configs").
 * - Flux's kustomize-controller labels what it applies `kustomize.toolkit.fluxcd.io/name` and `/namespace`
 *   (its Kustomization; fluxcd/kustomize-controller internal/controller/kustomization_controller.go,
 *   SetOwnerLabels with the group kustomize.toolkit.fluxcd.io) and corrects drift at every reconciliation
 *   (`.spec.interval`) by server-side apply. The fix: `.spec.ignore` with paths `["/spec/replicas"]` and a
 *   target (docs/spec/v1/kustomizations.md, Ignore Rules), or the annotation `kustomize.toolkit.fluxcd.io/ssa:
 *   IfNotPresent` (or `Ignore`) on the Deployment, with which it is no longer applied once it exists
 *   (same page, Controlling the apply behavior of resources): that annotation shows on the object.
 * - Flux's helm-controller labels what it renders `helm.toolkit.fluxcd.io/name` and `/namespace` (its
 *   HelmRelease; fluxcd/helm-controller internal/postrender OriginLabels) and corrects drift only with
 *   `.spec.driftDetection.mode: enabled` (disabled when unset: api/v2 helmrelease_types.go DriftDetection).
 *   The fix: `.spec.driftDetection.ignore: [{paths: ["/spec/replicas"], target: {kind: Deployment}}]`, or the
 *   annotation or label `helm.toolkit.fluxcd.io/driftDetection: disabled` on the Deployment
 *   (docs/spec/v2/helmreleases.md, Ignore rules and Ignore annotation).
 * Field managers, as their code names them: Argo CD's server-side apply `argocd-controller`
 * (common/common.go ArgoCDSSAManager), Flux's `kustomize-controller` and `helm-controller` (their main.go
 * controllerName). The manager of Argo CD's default client-side apply is UNVERIFIED: any manager whose name
 * starts with `argocd` is taken as Argo CD's.
 */

export interface GitOpsOwner {
  tool: 'Argo CD' | 'Flux';
  /** What in the tool keeps the Deployment: `Application shop-infra`, `Kustomization flux-system/infra`. */
  owner: string;
  /** How it was recognised: `annotation argocd.argoproj.io/tracking-id`. */
  by: string;
  /** The Deployment itself says the tool leaves it alone once it exists (Flux's ssa: IfNotPresent, driftDetection: disabled). */
  leavesItAlone: string | null;
  /** What to set so its self-heal leaves spec.replicas alone. */
  fix: string;
}

const ARGO_FIX = 'set `ignoreDifferences` on `/spec/replicas` for this Deployment and the sync option `RespectIgnoreDifferences=true` in the Application';
// `spec.ignore` arrived with Flux 2.9 (fluxcd/kustomize-controller#1627, merged 2026-06); older controllers drop the unknown field.
const KUSTOMIZE_FIX =
  'annotate the Deployment `kustomize.toolkit.fluxcd.io/ssa: IfNotPresent` (any Flux version), or, with Flux 2.9 or later, ' +
  'add `spec.ignore: [{paths: ["/spec/replicas"], target: {kind: Deployment, name: <it>}}]` to the Kustomization';
const HELM_FIX =
  'add `spec.driftDetection.ignore: [{paths: ["/spec/replicas"], target: {kind: Deployment}}]` to the HelmRelease ' +
  '(drift correction runs only with `driftDetection.mode: enabled`)';

/** The tool a field manager belongs to, by the names Argo CD and Flux give theirs; undefined for any other. */
export function toolOfManager(manager: string): GitOpsOwner['tool'] | undefined {
  if (manager.startsWith('argocd')) return 'Argo CD';
  if (manager === 'kustomize-controller' || manager === 'helm-controller') return 'Flux';
  return undefined;
}

/** Whether Argo CD or Flux keeps this Deployment as Git says, by their marks on it; undefined when neither does. */
export function gitOpsOwner(d: V1Deployment): GitOpsOwner | undefined {
  const labels = d.metadata?.labels ?? {};
  const annotations = d.metadata?.annotations ?? {};
  const helmRelease = labels['helm.toolkit.fluxcd.io/name'];
  if (helmRelease) {
    const off = [annotations, labels].some((m) => m['helm.toolkit.fluxcd.io/driftDetection'] === 'disabled');
    return {
      tool: 'Flux',
      owner: `HelmRelease ${labels['helm.toolkit.fluxcd.io/namespace'] ?? '?'}/${helmRelease}`,
      by: 'label helm.toolkit.fluxcd.io/name',
      leavesItAlone: off ? 'helm.toolkit.fluxcd.io/driftDetection: disabled' : null,
      fix: HELM_FIX,
    };
  }
  const kustomization = labels['kustomize.toolkit.fluxcd.io/name'];
  if (kustomization) {
    const ssa = annotations['kustomize.toolkit.fluxcd.io/ssa'];
    return {
      tool: 'Flux',
      owner: `Kustomization ${labels['kustomize.toolkit.fluxcd.io/namespace'] ?? '?'}/${kustomization}`,
      by: 'label kustomize.toolkit.fluxcd.io/name',
      leavesItAlone: ssa && /^(IfNotPresent|Ignore)$/i.test(ssa) ? `kustomize.toolkit.fluxcd.io/ssa: ${ssa}` : null,
      fix: KUSTOMIZE_FIX,
    };
  }
  const tracking = annotations['argocd.argoproj.io/tracking-id'];
  if (tracking) {
    // `<app>:<group>/<kind>:<namespace>/<name>`; an Application outside Argo CD's namespace is `<namespace>_<app>`.
    const app = tracking.split(':')[0] ?? tracking;
    return {
      tool: 'Argo CD',
      owner: `Application ${app.replace('_', '/')}`,
      by: 'annotation argocd.argoproj.io/tracking-id',
      leavesItAlone: null,
      fix: ARGO_FIX,
    };
  }
  const instance = labels['app.kubernetes.io/instance'];
  const argoManager = (d.metadata?.managedFields ?? []).find((m) => m.manager && toolOfManager(m.manager) === 'Argo CD')?.manager;
  const appliedByKubectl = annotations['kubectl.kubernetes.io/last-applied-configuration'] !== undefined && !annotations['meta.helm.sh/release-name'];
  if (instance && (argoManager || appliedByKubectl)) {
    const by = argoManager
      ? `label app.kubernetes.io/instance and field manager ${argoManager}`
      : 'label app.kubernetes.io/instance (Argo CD 2.x tracking; not installed by Helm)';
    return { tool: 'Argo CD', owner: `Application ${instance}`, by, leavesItAlone: null, fix: ARGO_FIX };
  }
  return undefined;
}

/** The pre-flight's one line about a GitOps-kept cluster-autoscaler: who keeps it, and what prevents its self-heal from undoing the pause. */
export function gitOpsFinding(deployment: string, o: GitOpsOwner): string {
  const who = `cluster-autoscaler ${deployment} is kept by ${o.tool} (${o.owner}, by ${o.by})`;
  if (o.leavesItAlone) return `${who}; it says \`${o.leavesItAlone}\`, so ${o.tool} should leave the pause alone`;
  const when =
    o.tool === 'Argo CD'
      ? 'with automated sync and `selfHeal` it scales it back within seconds'
      : 'its drift correction scales it back at its next reconciliation';
  return `${who}: ${when}, undoing the pause; to prevent it, ${o.fix}`;
}

/** Who last set a Deployment's spec.replicas, from its managedFields. */
export interface ReplicasWriter {
  manager: string;
  operation: string | null;
  /** When that manager last changed the object (ISO 8601, to the second). */
  time: string | null;
}

function ownsReplicas(entry: V1ManagedFieldsEntry): boolean {
  const fields = entry.fieldsV1 as { 'f:spec'?: { 'f:replicas'?: unknown } } | undefined;
  return fields?.['f:spec']?.['f:replicas'] !== undefined;
}

/**
 * The field manager that owns spec.replicas: "whenever a field's value does change, ownership moves from
 * its current manager to the manager making the change" (Kubernetes docs, Server-Side Apply, Field
 * management). Appliers setting the same value share it: the one that wrote last is named.
 */
export function replicasWriter(d: V1Deployment): ReplicasWriter | undefined {
  const owners = (d.metadata?.managedFields ?? []).filter((m) => m.manager && ownsReplicas(m));
  const time = (m: V1ManagedFieldsEntry) => (m.time ? new Date(m.time).getTime() : 0);
  const last = owners.sort((a, b) => time(b) - time(a))[0];
  if (!last) return undefined;
  return { manager: last.manager!, operation: last.operation ?? null, time: last.time ? new Date(last.time).toISOString() : null };
}

/** `argocd-controller (Argo CD)`, or the manager alone. */
export function describeWriter(w: ReplicasWriter | undefined): string {
  if (!w) return 'an unknown writer (no managedFields entry owns spec.replicas)';
  const tool = toolOfManager(w.manager);
  return tool ? `${w.manager} (${tool})` : w.manager;
}
