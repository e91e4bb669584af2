import type { ClusterObjectsKubeApi, ClusterObjectsWriteKubeApi, KubeApi } from '../model/kube-api.js';
import type { NodeClassRead } from '../model/karpenter-objects.js';
import { upgradeEntry, type NodegroupUpgrade } from '../model/upgrade-report.js';
import { defaultWaitTimeoutMs } from '../decision/budget.js';
import { formatDuration } from '../decision/duration.js';
import { aliasOfClass, appliedFrom, driftedClaims, driftTimeoutReason } from '../decision/karpenter-follow.js';
import { EC2_NODE_CLASSES, NODE_CLASS_LABEL, readKarpenter } from '../fleet/karpenter-reads.js';
import { describeKubeError } from '../fleet/kube-errors.js';
import { describeError } from '../fleet/aws-clients.js';
import { nodeClassMarkName, unhealthyParameter } from '../model/fleet.js';
import type { HealthReport } from '../model/upgrade-report.js';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { retryTransient } from './retry.js';
import { iso, type Executor, type ExecutorContext, type PreflightCheck } from './executor.js';
import { describeHealth, healthGate, readBaselines } from './health-gate.js';

/*
 * The upgrade of a Karpenter EC2NodeClass (../kinds/karpenter.ts): the action follows, it changes
 * nothing. (a) It waits for the team's GitOps to apply the merged alias to the cluster's EC2NodeClass
 * and for Karpenter's AMI controller to resolve it into `status.amis`; (b) it follows Karpenter's drift:
 * a NodeClaim whose `status.imageID` is not among the class's `status.amis` is drifted, and Karpenter
 * replaces it (a new NodeClaim first, then the old one drained and deleted) within its NodePool's
 * disruption budgets (karpenter.sh docs, Concepts, Disruption: "Drift", "NodePool Disruption Budgets");
 * (c) the health gate on the class's nodes (label karpenter.k8s.aws/ec2nodeclass); (d) a timeout says
 * how many are still drifted and whether a budget blocks. cluster-autoscaler is not paused: Karpenter
 * scales these nodes, not cluster-autoscaler.
 */

type Kube = KubeApi & ClusterObjectsKubeApi;

/** The pin this item follows: the target's alias, and where GitOps applies it from (the plan's reason names it). */
const pinOf = (check: PreflightCheck) => ({
  alias: check.item.target?.releaseVersion ?? '',
  ...(check.item.pinFile ? { file: check.item.pinFile } : {}),
});

async function readClass(ctx: ExecutorContext, name: string): Promise<NodeClassRead | undefined> {
  const kube = ctx.kube as Kube;
  if (!kube.listClusterObjects) throw new Error('this Kubernetes client cannot read custom objects');
  // Only the EC2NodeClasses and their NodePools and NodeClaims: Auto Mode's pools are not followed.
  const entries = await readKarpenter(kube, { ...ctx.cluster, autoMode: false });
  return entries.find((e) => e.kind === 'karpenter' && e.name === name)?.nodeClass;
}

type Writer = Partial<ClusterObjectsWriteKubeApi>;

/** Whether the role may patch EC2NodeClasses, asked as `kubectl auth can-i patch ec2nodeclasses.karpenter.k8s.aws` is. */
async function mayPatch(ctx: ExecutorContext): Promise<boolean> {
  const kube = ctx.kube as KubeApi & Writer;
  if (!kube.canI || !kube.patchClusterObject) return false;
  return kube.canI({ verb: 'patch', resource: EC2_NODE_CLASSES.plural, group: EC2_NODE_CLASSES.group }).catch(() => false);
}

/**
 * Under apply-node-classes: the class's selector terms set to the merged alias, one JSON Patch (the
 * same value GitOps applies from the merged file, so a self-heal that follows finds nothing to undo).
 * A class not in the cluster is left for GitOps to create.
 */
async function applyPin(ctx: ExecutorContext, name: string, alias: string): Promise<string | null> {
  const kube = ctx.kube as KubeApi & Writer;
  try {
    await kube.patchClusterObject!(EC2_NODE_CLASSES.group, EC2_NODE_CLASSES.version, EC2_NODE_CLASSES.plural, name, [
      { op: 'replace', path: '/spec/amiSelectorTerms', value: [{ alias }] },
    ]);
    return null;
  } catch (error) {
    return describeKubeError(error) || String(error);
  }
}

async function preflight(check: PreflightCheck, ctx: ExecutorContext): Promise<void> {
  const name = check.item.nodegroup;
  try {
    await readClass(ctx, name);
  } catch (error) {
    check.problems.push(
      `cannot read EC2NodeClasses, NodePools and NodeClaims (${describeKubeError(error) || String(error)}): ` +
        'grant the rbac:check rules of docs/iam-and-rbac.md (get, list)',
    );
    return;
  }
  if (ctx.settings.applyNodeClasses && !(await mayPatch(ctx))) {
    check.problems.push(
      'apply-node-classes is true, but the role may not patch ec2nodeclasses (karpenter.k8s.aws): grant the rbac:apply-node-classes rules of ' +
        'docs/iam-and-rbac.md, or set apply-node-classes: false to wait for your GitOps to apply the EC2NodeClass',
    );
    return;
  }
  if (ctx.settings.healthTimeoutMs === 0) return;
  try {
    // The gate's baseline: the class's nodes and the workloads with pods on them now.
    const [pods, nodes] = await Promise.all([ctx.kube.listPods('status.phase!=Succeeded'), ctx.kube.listNodes(`${NODE_CLASS_LABEL}=${name}`)]);
    const baseline = (await readBaselines(ctx.kube, { pods, nodes: { [name]: nodes } }))[name];
    if (baseline) check.baseline = baseline;
  } catch (error) {
    check.problems.push(`the health gate cannot read the workloads on the node class's nodes: ${describeKubeError(error)}`);
  }
}

async function roll(check: PreflightCheck, ctx: ExecutorContext): Promise<NodegroupUpgrade> {
  const { item } = check;
  const { deps, settings } = ctx;
  const label = `${ctx.cluster.name}/${item.nodegroup}`;
  const pin = pinOf(check);
  const startedAt = deps.now();
  const timeout = settings.waitTimeoutMs ?? defaultWaitTimeoutMs(item.nodes);
  const base = () => ({ startedAt: iso(startedAt), endedAt: iso(deps.now()), durationMs: deps.now() - startedAt });
  const timedOut = (reason: string) => {
    deps.warn(`${label}: ${reason}`);
    return upgradeEntry(item, 'timed-out', reason, base());
  };
  let last = '';
  const say = (line: string) => {
    if (line !== last) deps.log(`${label}: ${line} · ${formatDuration(deps.now() - startedAt)}`);
    last = line;
  };
  let nc: NodeClassRead | undefined;
  let readError = '';
  let applied = !settings.applyNodeClasses;
  // (a) GitOps applies the alias; Karpenter resolves it.
  for (;;) {
    try {
      nc = await readClass(ctx, item.nodegroup);
      readError = '';
    } catch (error) {
      readError = describeKubeError(error) || String(error);
    }
    const alias = aliasOfClass(nc);
    if (nc && alias === pin.alias && nc.amis.length > 0) break;
    if (!applied && nc && alias !== pin.alias) {
      // apply-node-classes: the action applies the pin itself, once.
      applied = true;
      const failed = await applyPin(ctx, item.nodegroup, pin.alias);
      if (failed) return upgradeEntry(item, 'failed', `could not patch the EC2NodeClass to ${pin.alias} (apply-node-classes): ${failed}`, base());
      deps.log(`${label}: patched the EC2NodeClass's amiSelectorTerms to ${pin.alias} (apply-node-classes)`);
      continue;
    }
    if (readError) say(`could not read the EC2NodeClass (${readError}); still waiting`);
    else if (!nc) say(`waiting for GitOps to create the EC2NodeClass (${appliedFrom(pin)}, ${pin.alias})`);
    else if (alias !== pin.alias)
      say(`waiting for GitOps to apply ${pin.alias} (${appliedFrom(pin)}): the cluster's EC2NodeClass names ${alias ?? 'no alias'}`);
    else say(`names ${pin.alias}; waiting for Karpenter to resolve its images (status.amis)`);
    if (deps.now() - startedAt >= timeout) {
      const took = formatDuration(timeout);
      if (readError) return timedOut(`the EC2NodeClass could not be read for ${took} (wait-timeout): ${readError}`);
      if (!nc || alias !== pin.alias) {
        return timedOut(
          `the merged pin ${pin.alias} was never applied: after ${took} (wait-timeout) the cluster's EC2NodeClass ${item.nodegroup} ` +
            `${nc ? `still names ${alias ?? 'no alias'}` : 'does not exist'}. Check that your GitOps (Argo CD, Flux) syncs ${appliedFrom(pin)} ` +
            'to this cluster, then re-run the job; nothing was changed',
        );
      }
      const ready = nc.ready?.status === 'False' && nc.ready.message ? ` (Ready False: ${nc.ready.message})` : '';
      return timedOut(
        `the EC2NodeClass names ${pin.alias}, but Karpenter resolved no image for it within ${took} (wait-timeout)${ready}: ` +
          `check that ${pin.alias} is published for Kubernetes ${item.target?.version} (no node can launch from the class meanwhile)`,
      );
    }
    await deps.sleep(settings.pollIntervalMs);
  }
  // (b) Karpenter's drift.
  const initial = new Set(driftedClaims(nc).map((c) => c.name));
  deps.log(
    `${label}: the EC2NodeClass names ${pin.alias} and resolves ${nc.amis.length} image(s); ${initial.size} of ${nc.nodeClaims.length} NodeClaim(s) drifted`,
  );
  for (;;) {
    const drifted = driftedClaims(nc).length;
    const names = new Set(nc.nodeClaims.map((c) => c.name));
    const replaced = [...initial].filter((n) => !names.has(n)).length;
    const total = nc.nodeClaims.length;
    if (drifted === 0) break;
    // The total counts a replacement beside the node it replaces, until Karpenter has drained and deleted that one.
    say(`drift · drifted ${drifted} · replaced ${replaced}/${initial.size} · nodes on the new image ${total - drifted}/${total}`);
    if (deps.now() - startedAt >= timeout) return timedOut(driftTimeoutReason(nc, pin.alias, timeout, deps.now()));
    await deps.sleep(settings.pollIntervalMs);
    try {
      nc = (await readClass(ctx, item.nodegroup)) ?? nc;
    } catch (error) {
      say(`could not read the NodeClaims (${describeKubeError(error)}); still following`);
    }
  }
  const from = item.current?.releaseVersion ?? 'its selector';
  const reached = `${from} → ${pin.alias}, ${nc.nodeClaims.length} NodeClaim(s) on its images (${initial.size} replaced by Karpenter)`;
  deps.log(`${label}: ${reached}`);
  // (c) The health gate on the class's nodes.
  if (settings.healthTimeoutMs === 0 || !check.baseline) {
    return upgradeEntry(item, 'upgraded', `${reached}${settings.healthTimeoutMs === 0 ? ' (health gate off: health-timeout 0)' : ''}`, base());
  }
  const result = await healthGate(ctx.kube, check.baseline, {
    nodeSelector: `${NODE_CLASS_LABEL}=${item.nodegroup}`,
    updateCreatedAt: startedAt,
    timeoutMs: settings.healthTimeoutMs,
    pollIntervalMs: settings.pollIntervalMs,
    now: deps.now,
    sleep: deps.sleep,
    log: deps.log,
    label,
  });
  const health: HealthReport = { ...result, arn: null, parameter: null, recorded: null, recordError: null };
  if (result.passed) {
    deps.log(`${label}: health gate passed in ${formatDuration(result.durationMs)}: nodes Ready, ${result.watched} workload(s) back`);
    return upgradeEntry(item, 'upgraded', `${reached}; health gate passed (${result.watched} workload(s) back in ${formatDuration(result.durationMs)})`, {
      ...base(),
      health,
    });
  }
  const what = describeHealth(result);
  deps.warn(`${label}: unhealthy after Karpenter's replacement: ${what}`);
  // The durable mark, as a node group's (./health-gate.ts): later stages' node classes of the family wait on it.
  const parameter = unhealthyParameter(ctx.cluster.name, nodeClassMarkName(item.nodegroup));
  try {
    const at = new Date(deps.now()).toISOString();
    const record = JSON.stringify({ target: pin.alias, at, cluster: ctx.cluster.name, nodegroup: nodeClassMarkName(item.nodegroup), update: null });
    const description = `eks-ami-drift health gate: node class ${item.nodegroup} was unhealthy on ${pin.alias}. Delete this parameter to lift the hold.`;
    await retryTransient(
      () => ctx.clients.ssm.send(new PutParameterCommand({ Name: parameter, Value: record, Type: 'String', Overwrite: true, Description: description })),
      deps.sleep,
    );
    health.parameter = parameter;
  } catch (error) {
    health.recordError = `SSM parameter ${parameter}: ${describeError(error)}`;
    deps.warn(`${label}: could not write the SSM parameter ${parameter} (${describeError(error)}): later stages will not know it was unhealthy`);
  }
  const where = pin.file ? ` and in ${pin.file}` : '';
  const lift = health.parameter ? `; the hold on later stages is lifted by \`aws ssm delete-parameter --name ${parameter}\`` : '';
  const wayBack =
    `pin \`${from}\` again for ${item.nodegroup} in the cluster's manifest${where}; once the EC2NodeClass names it, Karpenter replaces ` +
    `the nodes through drift again, within the same budgets${lift}`;
  return upgradeEntry(
    item,
    'unhealthy',
    `${reached}, but the workloads did not come back within ${formatDuration(settings.healthTimeoutMs)} (health-timeout): ${what}`,
    { ...base(), health, wayBack },
  );
}

/** Karpenter's node classes: followed, never changed; cluster-autoscaler is not paused for them. */
export const karpenterFollowExecutor: Executor = { pausesAutoscaler: false, preflight, roll };
