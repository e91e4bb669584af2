import { describe, expect, it } from '@jest/globals';
import type { PlanItem } from '../../src/model/plan.js';
import { credentialWarning, defaultWaitTimeoutMs, planBudgetMs } from '../../src/decision/budget.js';
import { credentialOutlook } from '../../src/fleet/credentials.js';
import { settingsWith } from './settings.js';

const MIN = 60_000;
const NOW = Date.parse('2026-12-06T10:00:00Z');
const item = (cluster: string, nodegroup: string, nodes: number, action: PlanItem['action'] = 'update'): PlanItem => ({
  cluster,
  region: 'us-east-1',
  nodegroup,
  nodeKind: 'managed-release',
  amiType: 'AL2023_x86_64_STANDARD',
  nodes,
  current: null,
  target: null,
  source: 'manifest',
  action,
  reason: '',
});
const keys = { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret' };

describe('how long a plan may keep the job busy', () => {
  it('adds, per cluster, the waves of max-parallel: each as long as its longest wait timeout plus the health gate', () => {
    // 40 minutes is the least wait timeout; 15 + 8 per node above that.
    expect(defaultWaitTimeoutMs(2)).toBe(40 * MIN);
    expect(defaultWaitTimeoutMs(5)).toBe(55 * MIN);
    const upgrade = settingsWith({}).upgrade;
    const plan = [item('a', 'one', 2), item('a', 'two', 5), item('b', 'three', 1), item('b', 'four', 1, 'skip')];
    // a: 40 + 10 and 55 + 10 one after the other; b: 40 + 10. Skipped node groups take no time.
    expect(planBudgetMs(plan, { ...upgrade, maxParallel: 1, healthTimeoutMs: 10 * MIN })).toBe(165 * MIN);
    // two at once: a's wave is as long as its longest.
    expect(planBudgetMs(plan, { ...upgrade, maxParallel: 2, healthTimeoutMs: 10 * MIN })).toBe(115 * MIN);
  });
});

describe('the credentials against the plan', () => {
  const outlook = (identity: object, env: NodeJS.ProcessEnv = {}) => credentialOutlook(null, env, async () => ({ ...keys, ...identity }));

  it('warns before anything changes when process credentials expire in 10 minutes and the plan may take 40', async () => {
    const o = await outlook({ sessionToken: 't', expiration: new Date(NOW + 10 * MIN) }, { AWS_PROFILE: 'platform' });
    expect(o).toEqual({ renewable: false, expiresAt: NOW + 10 * MIN, source: 'the credentials of profile platform, expiring 2026-12-06T10:10:00.000Z' });
    expect(credentialWarning(40 * MIN, o, NOW)).toBe(
      'The plan may take up to 40m (its wait timeouts), but the AWS credentials are the credentials of profile platform, ' +
        'expiring 2026-12-06T10:10:00.000Z and have about 10m left: once they expire the action can neither follow the updates ' +
        'nor restore cluster-autoscaler. Set role-to-assume (and permissions: id-token: write) so the action renews its own credentials, ' +
        'or give the credentials a session longer than the plan ' +
        "(role-duration-seconds of aws-actions/configure-aws-credentials, at most the role's MaxSessionDuration).",
    );
  });

  it('says nothing when the credentials outlast the plan, or when the action renews them, or for long-term keys', async () => {
    expect(credentialWarning(40 * MIN, await outlook({ sessionToken: 't', expiration: new Date(NOW + 2 * 60 * MIN) }), NOW)).toBeUndefined();
    const role = { roleArn: 'arn:aws:iam::123456789012:role/x', sessionName: 'x', durationSeconds: 3600, audience: 'sts.amazonaws.com' };
    expect(credentialWarning(40 * MIN, await credentialOutlook(role, {}, async () => keys), NOW)).toBeUndefined();
    expect(await outlook({}, { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' })).toEqual({ renewable: true, expiresAt: null, source: 'long-term access keys' });
    expect(credentialWarning(40 * MIN, await outlook({}, { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' }), NOW)).toBeUndefined();
  });

  it('says the expiry is unknown, never a guess, for session keys that state none (configure-aws-credentials exports none)', async () => {
    const o = await outlook({ sessionToken: 't' }, { AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE', AWS_SESSION_TOKEN: 't' });
    expect(o).toEqual({ renewable: false, expiresAt: null, source: 'session credentials in the environment, whose expiry no source states' });
    expect(credentialWarning(40 * MIN, o, NOW)).toContain(
      'The plan may take up to 40m (its wait timeouts), but the AWS credentials are session credentials in the environment, ' +
        'whose expiry no source states: their expiry is unknown, and nobody in this job renews them.',
    );
    // A plan with nothing to update needs no credentials for long.
    expect(credentialWarning(0, o, NOW)).toBeUndefined();
  });
});
