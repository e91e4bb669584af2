import type { V1Container, V1Deployment } from '@kubernetes/client-node';

/*
 * The node autoscalers a cluster may run, recognised from their Deployment as their own manifests and
 * charts make it (read in kubernetes/autoscaler and aws/karpenter-provider-aws):
 * - AWS's example manifest (cluster-autoscaler/cloudprovider/aws/examples/cluster-autoscaler-autodiscover.yaml):
 *   Deployment `cluster-autoscaler` in kube-system, label `app=cluster-autoscaler`, image
 *   `k8s.gcr.io/autoscaling/cluster-autoscaler` (now `registry.k8s.io/autoscaling/cluster-autoscaler`),
 *   command `./cluster-autoscaler ... --cloud-provider=aws ...`.
 * - The Helm chart (charts/cluster-autoscaler, templates/_helpers.tpl and deployment.yaml): name
 *   `<cloudProvider>-cluster-autoscaler`, so `aws-cluster-autoscaler`; the Deployment is
 *   `<release>-aws-cluster-autoscaler` (or `aws-cluster-autoscaler` when that is the release's name),
 *   labelled `app.kubernetes.io/name=aws-cluster-autoscaler` and `app.kubernetes.io/instance=<release>`,
 *   in the release's namespace (`helm install my-release autoscaler/cluster-autoscaler` installs into the
 *   current one, often `default`); same command, `--cloud-provider={{ .Values.cloudProvider }}`.
 * - Karpenter's chart (charts/karpenter: _helpers.tpl, values.yaml): Deployment named after the release
 *   (`karpenter`), labelled `app.kubernetes.io/name=karpenter`, image `public.ecr.aws/karpenter/controller`.
 */

/** The images cluster-autoscaler is published as (registry.k8s.io since 2023; k8s.gcr.io before). */
export const AUTOSCALER_IMAGES = ['registry.k8s.io/autoscaling/cluster-autoscaler', 'k8s.gcr.io/autoscaling/cluster-autoscaler'];
export const KARPENTER_IMAGE = 'public.ecr.aws/karpenter/controller';

/**
 * The Auto Scaling group tag cluster-autoscaler's auto-discovery looks for (kubernetes/autoscaler
 * cluster-autoscaler/cloudprovider/aws/README.md, Auto-Discovery Setup:
 * `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,...`, by key, whatever its value).
 * EKS puts it on every managed node group's Auto Scaling group ("automatically tagged for auto-discovery
 * by the Kubernetes Cluster Autoscaler", EKS user guide, managed node groups).
 */
export const AUTO_DISCOVERY_TAG = 'k8s.io/cluster-autoscaler/enabled';

/** What a Deployment was recognised as, and by what. */
export interface Recognised {
  kind: 'cluster-autoscaler' | 'karpenter';
  /** `label app=cluster-autoscaler`, `name …`, `image …`, `--cloud-provider=aws`. */
  by: string;
}

/** An image reference without its tag or digest: `registry.k8s.io/autoscaling/cluster-autoscaler`. */
export function imageRepository(image: string): string {
  const withoutDigest = image.split('@')[0] as string;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
}

/** A container's command line, command then args, each `--flag value` pair joined as `--flag=value`. */
function commandLine(c: V1Container): string[] {
  const words = [...(c.command ?? []), ...(c.args ?? [])];
  return words.map((w, i) => (/^--[\w-]+$/.test(w) && words[i + 1] !== undefined && !words[i + 1]!.startsWith('-') ? `${w}=${words[i + 1]}` : w));
}

/** The `--cloud-provider` a container is started with, if it says. */
function cloudProvider(c: V1Container): string | undefined {
  return commandLine(c)
    .find((w) => w.startsWith('--cloud-provider='))
    ?.slice('--cloud-provider='.length);
}

const AUTOSCALER_LABELS: [string, string][] = [
  ['app', 'cluster-autoscaler'],
  ['app.kubernetes.io/name', 'aws-cluster-autoscaler'],
  ['app.kubernetes.io/name', 'cluster-autoscaler'],
];

/**
 * Whether a Deployment runs cluster-autoscaler for AWS, or Karpenter: by the labels and names its
 * manifests give it, by its container image, or (a mirrored image, a renamed Deployment) by a container
 * running the `cluster-autoscaler` binary with `--cloud-provider=aws`. A cluster-autoscaler started for
 * another cloud provider (`--cloud-provider=clusterapi`, scaling other clusters) is not this cluster's.
 */
export function recognise(d: V1Deployment): Recognised | undefined {
  const name = d.metadata?.name ?? '';
  const labels = d.metadata?.labels ?? {};
  const containers = d.spec?.template?.spec?.containers ?? [];
  const karpenter =
    labels['app.kubernetes.io/name'] === 'karpenter'
      ? 'label app.kubernetes.io/name=karpenter'
      : containers.some((c) => c.image && imageRepository(c.image) === KARPENTER_IMAGE)
        ? `image ${KARPENTER_IMAGE}`
        : name === 'karpenter'
          ? 'name karpenter'
          : undefined;
  if (karpenter) return { kind: 'karpenter', by: karpenter };
  const providers = containers.map(cloudProvider).filter((p) => p !== undefined);
  if (providers.length > 0 && !providers.includes('aws')) return undefined;
  const label = AUTOSCALER_LABELS.find(([k, v]) => labels[k] === v);
  if (label) return { kind: 'cluster-autoscaler', by: `label ${label[0]}=${label[1]}` };
  if (name === 'cluster-autoscaler' || name === 'aws-cluster-autoscaler' || name.endsWith('-aws-cluster-autoscaler'))
    return { kind: 'cluster-autoscaler', by: `name ${name}` };
  const image = containers.map((c) => (c.image ? imageRepository(c.image) : '')).find((r) => AUTOSCALER_IMAGES.includes(r));
  if (image) return { kind: 'cluster-autoscaler', by: `image ${image}` };
  const binary = containers.find((c) => cloudProvider(c) === 'aws' && /(^|\/)cluster-autoscaler$/.test(commandLine(c)[0] ?? ''));
  if (binary) return { kind: 'cluster-autoscaler', by: 'its command, cluster-autoscaler --cloud-provider=aws' };
  return undefined;
}
