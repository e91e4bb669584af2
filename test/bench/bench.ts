/**
 * `npm run bench`: speed and cost at fleet scale, against the simulator, with the bundled action run as
 * a process (build it first: `npm run bundle`). Prints each table, writes it into
 * test/bench/results.json (a section a table, with the command, date and machine that measured it;
 * sections not run keep their last measurement), then renders docs/performance.md's marked tables
 * from results.json (render.ts). Numbers, not pass/fail: the tests assert behaviour; this measures it.
 *
 *   npm run bench                     # every section
 *   npm run bench -- --sizes 1,10     # fewer fleet sizes
 *   npm run bench -- --only startup,fleet   # some sections (startup, fleet, manual, upgrade, self-managed, accounts)
 *   npm run bench -- --only accounts --account-sizes 10,40 --runs 3   # the accounts section's fleets and runs
 */
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { renderManifest } from '../../src/repo/manifest.js';
import type { CheckReport } from '../../src/model/check-report.js';
import type { UpgradeReport } from '../../src/model/upgrade-report.js';
import { generatedFleet } from '../sim/example-fleet.js';
import type { SimCluster } from '../sim/fleet.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { DIST, runAction } from '../sim/run-action.js';
import { CHUNK_MARKERS, DIST_DIR, holdings, loadRecorder } from '../sim/dist-files.js';
import { startSimulator, type Simulator } from '../sim/server.js';
import { bucketFor, EC2_DESCRIBE, SSM_PARAMETER_READS, type ThrottleModel } from '../sim/throttle.js';
import { RESULTS, writeDoc, type Results, type Row, type Section } from './render.js';
import { PODS_PER_NODE, POLL_MS, selfManagedBench, SLOW } from './self-managed.js';
import { accountsBench, sessionsBench } from './accounts.js';

// The simulator runs in this process: commands run asynchronously, so it can answer them.
const execFileAsync = promisify(execFile);
const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const SIZES = arg('sizes', '1,10,100,500').split(',').map(Number);
const ONLY = arg('only', 'startup,fleet,manual,upgrade,self-managed,accounts').split(',');
const LATENCY_MS = Number(arg('latency', '30'));
/** The bucket of each operation AWS documents no rate for (EKS, Auto Scaling, STS): UNVERIFIED, so a parameter. */
const RATE = Number(arg('rate', '50'));
const THROTTLING: ThrottleModel = { unverified: { capacity: RATE, refillPerSecond: RATE } };
/** The command line of this run, as a reader would type it. */
const COMMAND = `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
/** The action's limit on AWS calls in flight (src/main.ts). */
const CONCURRENCY = 10;
/** EKS list operations return up to 100 names a page by default. */
const PAGE = 100;

const sections: Record<string, Section> = {};
let sectionStarted = Date.now();
/** Prints a table and keeps it as the section `name` of results.json. */
const table = (name: string, title: string, rows: Row[]) => {
  sections[name] = {
    title,
    command: COMMAND,
    date: new Date().toISOString(),
    node: process.version,
    cores: cpus().length,
    tookSeconds: Math.round((Date.now() - sectionStarted) / 1000),
    rows,
  };
  console.log(`\n${title}`);
  console.table(rows);
  sectionStarted = Date.now();
};
const seconds = (ms: number) => Number((ms / 1000).toFixed(2));

/** The least calls a correct check can make, by operation, for a fleet read in pages of PAGE. */
function minimumCalls(clusters: number, report: CheckReport): Record<string, number> {
  const nodegroups = report.nodegroups.filter((n) => n.nodegroup !== null).length;
  const parameters = new Set(
    report.nodegroups.flatMap((n) => [n.latestReleaseParameter, n.latestImageId ? `${n.latestReleaseParameter}#image` : null]).filter(Boolean),
  ).size;
  const byId = report.nodegroups.filter((n) => n.imageId !== null);
  const templates = new Set(byId.map((n) => n.launchTemplate?.id).filter(Boolean)).size;
  const images = new Set(byId.map((n) => n.imageId)).size;
  // A drifted release is confirmed where it would be used: its own image parameter, read in the region
  // (docs/check.md, the target where it is used); AWS publishes none per Windows release.
  const confirmed = new Set(
    report.nodegroups
      .filter((n) => n.status === 'drift' && n.nodeKind === 'managed-release' && !n.amiType?.startsWith('WINDOWS'))
      .map((n) => `${n.amiType}/${n.kubernetesVersion}/${n.latestReleaseVersion}`),
  ).size;
  return {
    'eks:ListClusters': Math.max(1, Math.ceil(clusters / PAGE)),
    'eks:DescribeCluster': clusters,
    'eks:ListNodegroups': clusters,
    'eks:DescribeNodegroup': nodegroups,
    'ssm:GetParameters': Math.ceil(parameters / 10) + Math.ceil(confirmed / 10),
    // The health gate's marks (one page when none is written) and the Kubernetes support calendar: once for the region.
    'ssm:GetParametersByPath': 1,
    'eks:DescribeClusterVersions': 1,
    // One tag-key filter per 50 clusters, its pages holding every Auto Scaling group tagged for them
    // (the managed node groups' own included: no filter leaves them out).
    'autoscaling:DescribeAutoScalingGroups': Math.max(Math.ceil(clusters / 50), Math.ceil(nodegroups / Math.min(PAGE, 100))),
    // One read per launch template, one DescribeImages per 200 images: none in the generated fleet.
    ...(templates > 0 ? { 'ec2:DescribeLaunchTemplateVersions': templates, 'ec2:DescribeImages': Math.ceil(images / 200) } : {}),
  };
}

/**
 * The shortest time latency, the concurrency limit and the simulator's throttling allow for those
 * calls: each operation's bucket (throttle.ts) gives its capacity at once, then its refill a second.
 */
function lowerBoundMs(minimum: Record<string, number>): number {
  const total = Object.values(minimum).reduce((a, b) => a + b, 0);
  const chain = (minimum['eks:ListClusters']! + 4) * LATENCY_MS; // pages, then describe, list, describe, SSM
  const byConcurrency = (total * LATENCY_MS) / CONCURRENCY;
  const byRate = Math.max(
    ...Object.entries(minimum).map(([action, n]) => {
      const [service, operation] = action.split(':') as [string, string];
      const { spec } = bucketFor(service, operation, THROTTLING);
      return (Math.max(0, n - spec.capacity) / spec.refillPerSecond) * 1000;
    }),
  );
  return Math.max(chain, byConcurrency, byRate);
}

/** The throttling the simulator applies in these runs, with where each limit comes from. */
function model(): void {
  const row = (what: string, spec: { capacity: number; refillPerSecond: number }, source: string): Row => ({
    operations: what,
    'bucket (tokens)': spec.capacity,
    'refill a second': spec.refillPerSecond,
    source,
  });
  table('model', `The simulator's AWS: ${LATENCY_MS} ms added to every call; token buckets per account and Region (test/sim/throttle.ts)`, [
    row('EC2 Describe*, a bucket each', EC2_DESCRIBE, 'AWS: EC2 developer guide, "Request throttling for the Amazon EC2 API"'),
    row(
      'Parameter Store GetParameter, GetParameters, GetParametersByPath, one bucket',
      SSM_PARAMETER_READS,
      'AWS: Systems Manager quotas, 40 transactions a second (the bucket size is UNVERIFIED)',
    ),
    row(
      'EKS, Auto Scaling, STS, GetParameterHistory, EC2 others: a bucket each',
      THROTTLING.unverified,
      "UNVERIFIED: AWS documents no rate; the bench's --rate",
    ),
  ]);
}

async function fleetCheck(): Promise<void> {
  const rows: Row[] = [];
  for (const size of SIZES) {
    const sim = await startSimulator(generatedFleet(size), { pageSize: PAGE, faults: { latencyMs: LATENCY_MS, throttling: THROTTLING } });
    try {
      const t0 = Date.now();
      const run = await runAction({ inputs: { regions: 'us-east-1' }, env: { ...sim.env(), AWS_REGION: 'us-east-1' } });
      const wall = Date.now() - t0;
      const report = JSON.parse(run.reportFile ?? run.outputs.report ?? '{}') as CheckReport;
      const minimum = minimumCalls(size, report);
      const made = sim.log.length;
      const need = Object.values(minimum).reduce((a, b) => a + b, 0);
      const awsSpan = (sim.log.at(-1)?.at ?? 0) - (sim.log[0]?.at ?? 0) + LATENCY_MS;
      const bound = lowerBoundMs(minimum);
      rows.push({
        clusters: size,
        'node groups': report.nodegroups.length,
        'exit code': run.code,
        'calls made': made,
        'calls needed': need,
        'calls ratio': Number((made / need).toFixed(2)),
        throttled: sim.log.filter((l) => ['ThrottlingException', 'Throttling', 'RequestLimitExceeded'].includes(l.error ?? '')).length,
        'wall s': seconds(wall),
        'AWS span s': seconds(awsSpan),
        'lower bound s': seconds(bound),
        'span / bound': Number((awsSpan / bound).toFixed(2)),
      });
    } finally {
      await sim.close();
    }
  }
  table('fleet', `Fleet check (5 node groups a cluster; ${LATENCY_MS} ms a call; the simulator's throttling above, then the service's throttling error)`, rows);
}

/** The manual procedure: one `aws eks describe-nodegroup` and one `aws ssm get-parameter` per node group. */
async function manualProcedure(): Promise<void> {
  const aws = spawnSync('aws', ['--version'], { encoding: 'utf8' });
  if (aws.status !== 0) {
    table('manual', 'Manual procedure with the AWS CLI', [{ skipped: 'the aws command is not installed (apt-get install awscli)' }]);
    return;
  }
  const size = 10;
  const sim = await startSimulator(generatedFleet(size), { pageSize: PAGE, faults: { latencyMs: LATENCY_MS, throttling: THROTTLING } });
  try {
    const t0 = Date.now();
    const run = await runAction({ inputs: { regions: 'us-east-1' }, env: { ...sim.env(), AWS_REGION: 'us-east-1' } });
    const action = Date.now() - t0;
    const report = JSON.parse(run.reportFile ?? run.outputs.report ?? '{}') as CheckReport;
    const env = { ...process.env, ...sim.env(), AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
    const before = sim.log.length;
    const t1 = Date.now();
    for (const ng of report.nodegroups) {
      await execFileAsync(
        'aws',
        ['eks', 'describe-nodegroup', '--cluster-name', ng.cluster, '--nodegroup-name', ng.nodegroup!, '--endpoint-url', sim.url, '--output', 'json'],
        { env },
      );
      if (ng.latestReleaseParameter) {
        await execFileAsync(
          'aws',
          ['ssm', 'get-parameter', '--name', ng.latestReleaseParameter, '--endpoint-url', sim.url, '--query', 'Parameter.Value', '--output', 'text'],
          { env },
        );
      }
    }
    const manual = Date.now() - t1;
    table('manual', `Manual procedure with the AWS CLI (${(aws.stdout.trim() || aws.stderr.trim()).split(' ')[0]}), ${size} clusters`, [
      { how: 'eks-ami-drift check (one process)', 'wall s': seconds(action), 'AWS calls': before, 'node groups': report.nodegroups.length },
      { how: 'aws CLI per node group', 'wall s': seconds(manual), 'AWS calls': sim.log.length - before, 'node groups': report.nodegroups.length },
      {
        how: 'ratio (CLI / action)',
        'wall s': Number((manual / action).toFixed(1)),
        'AWS calls': Number(((sim.log.length - before) / before).toFixed(2)),
        'node groups': null,
      },
    ]);
  } finally {
    await sim.close();
  }
}

/** Four node groups of one cluster, pinned to a newer release by a merged manifest. */
async function upgradeFleet(speed: number): Promise<{ sim: Simulator; sha: string }> {
  const [from, , to] = releasesOf('AL2023_x86_64_STANDARD', '1.33')
    .slice(-3)
    .map((r) => r.releaseVersion) as [string, string, string];
  const cluster: SimCluster = {
    name: 'prod',
    region: 'us-east-1',
    version: '1.33',
    nodegroups: [0, 1, 2, 3].map((i) => ({ name: `ng-${i}`, amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: from, desiredSize: 3 })),
    autoscaler: { namespace: 'kube-system', name: 'cluster-autoscaler', labels: { app: 'cluster-autoscaler' }, replicas: 1 },
  };
  const pin = (release: string) =>
    renderManifest({
      cluster: 'prod',
      region: 'us-east-1',
      nodegroups: Object.fromEntries(cluster.nodegroups.map((n) => [n.name, { kubernetesVersion: '1.33', releaseVersion: release }])),
    });
  const PATH = '.github/eks-ami-drift/us-east-1/prod.yaml';
  const sim = await startSimulator(
    { clusters: [cluster], parameters: amazonLinuxParameters() },
    { clockSpeed: speed, github: { files: { [PATH]: pin(from) } } },
  );
  return { sim, sha: sim.github.push('main', { [PATH]: pin(to) }) };
}

async function upgrade(): Promise<void> {
  const SPEED = 100;
  const POLL_MS = 100;
  const rows: Row[] = [];
  for (const parallel of [1, 4]) {
    const { sim, sha } = await upgradeFleet(SPEED);
    try {
      const t0 = Date.now();
      const run = await runAction({
        inputs: { command: 'upgrade', regions: 'us-east-1', 'poll-interval': `${POLL_MS}ms`, 'max-parallel': String(parallel) },
        env: { ...sim.env(), AWS_REGION: 'us-east-1', GITHUB_SHA: sha },
        eventName: 'push',
      });
      const wall = Date.now() - t0;
      const report = JSON.parse(run.outputs.upgrades ?? '{}') as UpgradeReport;
      // How long after EKS finished did the action see it: the first DescribeUpdate after the end.
      const virtual = (realMs: number) => sim.world.clock.at(realMs);
      const lags = sim.world.updates.map((u) => {
        const seen = sim.log.find((l) => l.operation === 'DescribeUpdate' && l.params.sub === u.id && virtual(l.at) >= (u.endedAt ?? Infinity));
        return seen ? virtual(seen.at) - u.endedAt! : NaN;
      });
      // cluster-autoscaler: paused from the patch to zero to the patch back, in virtual time.
      const writes = sim.world.kubeOf(sim.world.fleet.clusters[0]!).writes;
      const pausedFrom = writes[0]?.at ?? 0;
      const pausedTo = writes.at(-1)?.at ?? 0;
      const updatesFrom = Math.min(...sim.world.updates.map((u) => u.createdAt));
      const updatesTo = Math.max(...sim.world.updates.map((u) => u.endedAt ?? 0));
      const covered = Math.max(0, Math.min(pausedTo, updatesTo) - Math.max(pausedFrom, updatesFrom)) / (updatesTo - updatesFrom);
      rows.push({
        'max-parallel': parallel,
        'node groups': report.nodegroups.filter((n) => n.result === 'upgraded').length,
        'exit code': run.code,
        'wall s': seconds(wall),
        'EKS virtual min': Number(((updatesTo - updatesFrom) / 60_000).toFixed(1)),
        'end seen after (virtual s, max)': Number((Math.max(...lags) / 1000).toFixed(1)),
        'updates under pause %': Math.round(covered * 100),
        'pause / updates span': Number(((pausedTo - pausedFrom) / (updatesTo - updatesFrom)).toFixed(3)),
        'CA replicas seen by EKS': [...new Set(sim.world.updates.flatMap((u) => u.autoscalerReplicas))].join(','),
      });
    } finally {
      await sim.close();
    }
  }
  const [one, four] = rows;
  if (one && four) rows.push({ 'max-parallel': 'ratio 1 / 4', 'wall s': Number(((one['wall s'] as number) / (four['wall s'] as number)).toFixed(2)) });
  table(
    'upgrade',
    `Upgrade of 4 node groups × 3 nodes (EKS simulated ${SPEED}× fast, poll-interval ${POLL_MS} ms = ${(POLL_MS * SPEED) / 1000} virtual s)`,
    rows,
  );
}

/** A self-managed group rolled by the executor and by the manual procedure, on the virtual clock (./self-managed.ts). */
async function selfManaged(): Promise<void> {
  const { durations, phases, calls } = await selfManagedBench(console.log);
  const setting = `${PODS_PER_NODE} pods a node under a budget allowing 1 disruption; poll-interval ${POLL_MS / 1000} s; simulated time`;
  table('self-managed', `Self-managed group rolled by eks-ami-drift and by the sequential manual procedure (${setting})`, durations);
  table('self-managed-phases', `Where the time goes, measured and as the model predicts (slow nodes: Ready ${SLOW.readyMs! / 1000} s after launch)`, phases);
  table('self-managed-calls', 'Requests per group: measured (the bound evaluated); the manual procedure for comparison', calls);
}

/** One fleet checked as three member accounts (`accounts`) and in one account (./accounts.ts). */
async function accounts(): Promise<void> {
  const sizes = arg('account-sizes', '10,40').split(',').map(Number);
  const runs = Number(arg('runs', '3'));
  const { summary, calls } = await accountsBench({ sizes, runs, latencyMs: LATENCY_MS, throttling: THROTTLING, page: PAGE, log: console.log });
  const fleet = `3 accounts × 2 regions × N clusters, 5 managed node groups a cluster; ${LATENCY_MS} ms a call, the throttling above`;
  table('accounts', `One fleet checked (a) as three member accounts with accounts and account-role, (b) in one account (${fleet})`, summary);
  table('accounts-calls', 'AWS calls by operation, (a) three member accounts and (b) one account, N clusters a region and account', calls);
  const sessions = await sessionsBench([4, 8, 15], console.log);
  table('accounts-sessions', "Upgrades in one member account, node groups rolled one at a time (3 nodes each), on the simulator's clock (600×)", sessions);
}

/** The median of a list of times. */
const median = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;

/** Runs a process with only PATH in its environment, and resolves with its wall time in ms. */
function timed(args: string[], env: Record<string, string> = {}): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => resolve(performance.now() - t0));
  });
}

/**
 * The start of a run: a check of a region without clusters (one ListClusters call, answered at once)
 * against bare `node -e 0`, alternated, 15 times each, on this machine: a ratio, not a time. And the
 * size of each file of dist/, with which of them that check loads.
 */
async function startup(): Promise<void> {
  const sim = await startSimulator({ clusters: [], parameters: [] }, { pageSize: PAGE });
  try {
    const runner = (dir: string) => ({
      GITHUB_OUTPUT: `${dir}/output`,
      GITHUB_STATE: `${dir}/state`,
      GITHUB_STEP_SUMMARY: `${dir}/summary`,
      RUNNER_TEMP: dir,
    });
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/eks-ami-drift-bench-`);
    for (const f of ['output', 'state', 'summary']) writeFileSync(`${dir}/${f}`, '');
    const check = { ...sim.env(), ...runner(dir), AWS_REGION: 'us-east-1', INPUT_REGIONS: 'us-east-1' };
    const bare: number[] = [];
    const empty: number[] = [];
    const badInput: number[] = [];
    for (let i = 0; i < 15; i++) {
      bare.push(await timed(['-e', '0']));
      empty.push(await timed([DIST], check));
      badInput.push(await timed([DIST], { ...runner(dir), 'INPUT_MIN-RELEASE-AGE': 'a week', AWS_REGION: 'us-east-1' }));
    }
    const calls = sim.log.filter((l) => l.operation === 'ListClusters').length / 15;
    // Which files the empty check loads: a module hook in the process records them.
    const recorder = loadRecorder();
    await timed([...recorder.nodeArgs, DIST], check);
    const loaded = new Set(recorder.loaded());
    rmSync(dir, { recursive: true, force: true });

    const b = median(bare);
    table('startup', 'Start-up (median of 15, alternated; ratio to bare node on this machine)', [
      { run: 'node -e 0', 'median ms': Math.round(b), ratio: 1 },
      {
        run: `check of a region without clusters (${calls} ListClusters call)`,
        'median ms': Math.round(median(empty)),
        ratio: Number((median(empty) / b).toFixed(2)),
      },
      { run: 'bad input (exits before any AWS call)', 'median ms': Math.round(median(badInput)), ratio: Number((median(badInput) / b).toFixed(2)) },
    ]);
    const files = readdirSync(DIST_DIR).filter((f) => f.endsWith('.js') && f !== 'cli.js');
    const kb = (f: string) => Math.round(statSync(`${DIST_DIR}${f}`).size / 1000);
    const rows: Row[] = files
      .map((f) => ({
        file: f,
        KB: kb(f),
        holds:
          f === 'index.js'
            ? 'entry: @actions/core (with undici)'
            : holdings(f)
                .map((h) => CHUNK_MARKERS[h][1])
                .join(', ') || "the action's code",
        'loaded by the empty check': loaded.has(f) ? 'yes' : '',
      }))
      .sort((x, y) => y.KB - x.KB);
    rows.push({
      file: 'total',
      KB: files.reduce((n, f) => n + kb(f), 0),
      holds: `${files.length} files`,
      'loaded by the empty check': `${[...loaded].reduce((n, f) => n + kb(f), 0)} KB`,
    });
    table('dist', 'dist/ files (minified)', rows);
  } finally {
    await sim.close();
  }
}

const started = new Date();
console.log(`eks-ami-drift bench, ${started.toISOString()}, node ${process.version}, ${execFileSync('nproc').toString().trim()} cores`);
model();
if (ONLY.includes('startup')) await startup();
if (ONLY.includes('fleet')) await fleetCheck();
if (ONLY.includes('manual')) await manualProcedure();
if (ONLY.includes('upgrade')) await upgrade();
if (ONLY.includes('self-managed')) await selfManaged();
if (ONLY.includes('accounts')) await accounts();
// Sections not run keep their last measurement (each says which command and day measured it).
const before = existsSync(RESULTS) ? ((JSON.parse(readFileSync(RESULTS, 'utf8')) as Partial<Results>).sections ?? {}) : {};
// The model is what every run uses, not a measurement: unchanged, it keeps the run that last changed it.
if (
  before.model &&
  sections.model &&
  JSON.stringify(before.model.rows) === JSON.stringify(sections.model.rows) &&
  before.model.title === sections.model.title
) {
  sections.model = before.model;
}
writeFileSync(RESULTS, `${JSON.stringify({ sections: { ...before, ...sections } } satisfies Results, null, 2)}\n`);
writeDoc();
console.log(`\nwritten: ${RESULTS} and docs/performance.md`);
