import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eksKubeApi, eksToken, kubeconfigApi, kubeDeadlines } from '../../src/fleet/kube-client.js';
import { KubeDeadlineError } from '../../src/fleet/kube-errors.js';
import { amazonLinuxParameters, releasesOf } from '../sim/releases.js';
import { startSimulator, type Simulator } from '../sim/server.js';

/*
 * Every request to a cluster's Kubernetes API ends by its deadlines (src/fleet/kube-client.ts), against
 * the simulator's API server that accepts connections and never answers (Faults.kubeHang).
 */

const credentials = { accessKeyId: 'AKIASIMULATOR0000000', secretAccessKey: 'simulator-secret-key-not-real-0000000000' };
const release = releasesOf('AL2023_x86_64_STANDARD', '1.33').at(-1)!.releaseVersion;
const token = () => eksToken('prod', 'us-east-1', async () => credentials);
/** 1 s in all, half of it to connect: short, for the test. */
const deadlines = kubeDeadlines(1000);

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start() {
  sim = await startSimulator({
    clusters: [
      {
        name: 'prod',
        region: 'us-east-1',
        version: '1.33',
        nodegroups: [{ name: 'general', amiType: 'AL2023_x86_64_STANDARD', version: '1.33', releaseVersion: release }],
      },
    ],
    parameters: amazonLinuxParameters(),
  });
  return sim;
}

/** How long `call` took to fail, and with what. */
async function failure(call: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  try {
    await call;
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
  throw new Error('the call succeeded');
}

describe('deadlines on the Kubernetes API', () => {
  it('answers as before when the API server answers', async () => {
    const s = await start();
    const kube = eksKubeApi('prod', { server: `${s.url}/k8s/us-east-1/prod` }, token, { deadlines });
    // general's two nodes (the simulator's default desired size).
    expect((await kube.listNodes('')).map((n) => n.metadata?.labels?.['eks.amazonaws.com/nodegroup'])).toEqual(['general', 'general']);
  });

  it('ends a request that is never answered at the request deadline, naming the server and kube-timeout', async () => {
    const s = await start();
    const server = `${s.hangUrl}/k8s/us-east-1/prod`;
    const kube = eksKubeApi('prod', { server }, token, { deadlines });
    const { ms, error } = await failure(kube.listAllDeployments());
    expect(error).toBeInstanceOf(KubeDeadlineError);
    expect(error).toMatchObject({ phase: 'request', server, message: `${server} did not answer within 1 s (kube-timeout)` });
    expect(ms).toBeGreaterThanOrEqual(deadlines.requestMs - 50);
    expect(ms).toBeLessThan(deadlines.requestMs + 1000);
    // The server saw the request, and the client closed the connection at the deadline.
    await new Promise((r) => setTimeout(r, 100));
    expect(s.kubeHangLog).toEqual([
      expect.objectContaining({ cluster: 'prod', region: 'us-east-1', path: expect.stringContaining('/apis/apps/v1/deployments') }),
    ]);
    const call = s.kubeHangLog[0]!;
    expect(call.closedAt! - call.at).toBeLessThan(deadlines.requestMs + 1000);
  });

  it('ends a connection whose TLS handshake is never answered at the connect deadline', async () => {
    const s = await start();
    const server = `${s.hangUrl.replace('http:', 'https:')}/k8s/us-east-1/prod`;
    const kube = eksKubeApi('prod', { server }, token, { deadlines });
    const { ms, error } = await failure(kube.readDeployment('kube-system', 'cluster-autoscaler'));
    expect(error).toMatchObject({
      name: 'KubeDeadlineError',
      phase: 'connect',
      message: `no connection to ${server} within 0.5 s (the connect deadline, half of kube-timeout)`,
    });
    expect(ms).toBeGreaterThanOrEqual(deadlines.connectMs - 50);
    expect(ms).toBeLessThan(deadlines.requestMs);
  });

  it('bounds the calls made through a kubeconfig the same way', async () => {
    const s = await start();
    const path = join(mkdtempSync(join(tmpdir(), 'kube-deadlines-')), 'kubeconfig');
    const server = `${s.hangUrl}/k8s/us-east-1/prod`;
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{ name: prod, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]`,
        'users: [{ name: ci, user: { token: not-a-real-token } }]',
        'contexts: [{ name: prod, context: { cluster: prod, user: ci } }]',
        'current-context: prod',
      ].join('\n'),
    );
    const { ms, error } = await failure(kubeconfigApi(path, 'prod', { deadlines }).listPodDisruptionBudgets());
    expect(error).toMatchObject({ name: 'KubeDeadlineError', phase: 'request', server });
    expect(ms).toBeLessThan(deadlines.requestMs + 1000);
  });

  it("ends every request at once when the caller's signal aborts, with the caller's reason", async () => {
    const s = await start();
    const controller = new AbortController();
    const kube = eksKubeApi('prod', { server: `${s.hangUrl}/k8s/us-east-1/prod` }, token, { deadlines: kubeDeadlines(60_000), signal: controller.signal });
    setTimeout(() => controller.abort(new Error('the caller gave up')), 300);
    const { ms, error } = await failure(Promise.all([kube.listWorkloads(), kube.listNodes('')]));
    expect(error).not.toBeInstanceOf(KubeDeadlineError);
    expect((error as Error).message).toBe('the caller gave up');
    expect(ms).toBeLessThan(2000);
    await new Promise((r) => setTimeout(r, 100));
    // listWorkloads' four lists and listNodes: five connections, all closed.
    expect(s.kubeHangLog).toHaveLength(5);
    expect(s.kubeHangLog.every((c) => c.closedAt !== null)).toBe(true);
  });
});
