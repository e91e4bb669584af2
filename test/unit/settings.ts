import type { Settings } from '../../src/model/settings.js';

/** The settings the action.yml defaults give, with some changed: for tests that skip the inputs. */
export function settingsWith(over: Partial<Settings> = {}, upgrade: Partial<Settings['upgrade']> = {}): Settings {
  return {
    command: 'check',
    clusters: [],
    regions: ['us-east-1'],
    nodegroups: [],
    minReleaseAge: { text: '0', ms: 0 },
    failOnDrift: false,
    kubeconfig: null,
    onDrift: 'none',
    labels: ['eks-ami-drift'],
    assignees: [],
    reviewers: [],
    githubToken: '',
    manifestDir: '.github/eks-ami-drift',
    role: null,
    accounts: null,
    stages: null,
    historyCache: null,
    kubeTimeout: { text: '10s', ms: 10_000 },
    ...over,
    upgrade: {
      dryRun: false,
      force: false,
      releaseVersion: null,
      followControlPlane: false,
      pauseClusterAutoscaler: true,
      clusterAutoscaler: 'auto',
      maxParallel: 1,
      waitTimeoutMs: null,
      pollIntervalMs: 10_000,
      healthTimeoutMs: 600_000,
      applyNodeClasses: false,
      ...upgrade,
    },
  };
}
