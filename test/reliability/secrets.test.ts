import { describe, expect, it } from '@jest/globals';
import { exampleFleet } from '../sim/example-fleet.js';
import { runAction, type ActionRun } from '../sim/run-action.js';
import { startSimulator } from '../sim/server.js';

const GITHUB_TOKEN = 'ghs_S3cretT0kenValue0123456789abcdefXYZ';

describe('reliability: secrets', () => {
  it(
    'never shows the Kubernetes token, the GitHub token or the AWS credentials: not in the log, summary, outputs, pull requests, issues or ' + 'commits',
    async () => {
      const fleet = exampleFleet();
      const sim = await startSimulator(fleet, {
        clockSpeed: 300,
        github: { tokens: { [GITHUB_TOKEN]: { login: 'github-actions[bot]', permissions: { contents: 'write', pull_requests: 'write', issues: 'write' } } } },
      });
      const runs: ActionRun[] = [];
      try {
        const env = { ...sim.env(), AWS_REGION: 'us-east-1', 'INPUT_GITHUB-TOKEN': GITHUB_TOKEN };
        runs.push(await runAction({ inputs: { regions: 'us-east-1', 'on-drift': 'pull-request' }, env }));
        runs.push(await runAction({ inputs: { regions: 'us-east-1', 'on-drift': 'issue', clusters: 'prod-search' }, env }));
        const pr = sim.github.pulls().find((p) => p.pull?.head.endsWith('prod-payments'))!;
        const sha = sim.github.merge(pr.number);
        const upgrade = await runAction({
          inputs: { command: 'upgrade', regions: 'us-east-1', 'poll-interval': '100ms' },
          env: { ...env, GITHUB_SHA: sha },
          eventName: 'push',
        });
        runs.push(
          upgrade,
          await runAction({ inputs: { command: 'upgrade', regions: 'us-east-1' }, env: { ...env, GITHUB_SHA: sha }, eventName: 'push', postOf: upgrade }),
        );
        expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
        expect(sim.world.updates.length).toBeGreaterThan(0);

        const masked = runs.flatMap((r) =>
          r.stdout
            .split('\n')
            .filter((l) => l.startsWith('::add-mask::'))
            .map((l) => l.slice('::add-mask::'.length)),
        );
        // Every secret the action created or received was masked the moment it existed...
        expect(masked).toContain(GITHUB_TOKEN);
        expect(masked.filter((m) => m.startsWith('k8s-aws-v1.')).length).toBeGreaterThan(0);
        // ...and appears nowhere a person or another step could read it.
        const visible = [
          ...runs.flatMap((r) => [
            r.stdout
              .split('\n')
              .filter((l) => !l.startsWith('::add-mask::'))
              .join('\n'),
            r.stderr,
            r.summary,
            ...Object.values(r.outputs),
          ]),
          ...sim.github.issues.flatMap((i) => [i.title, i.body, ...i.comments.map((c) => c.body)]),
          ...[...sim.github.commits.values()].map((c) => c.message),
          ...sim.github.blobs.values(),
        ].join('\n');
        const secrets = [GITHUB_TOKEN, 'k8s-aws-v1.', sim.env().AWS_ACCESS_KEY_ID!, sim.env().AWS_SECRET_ACCESS_KEY!, ...masked];
        for (const secret of secrets) expect([secret.slice(0, 16), visible.includes(secret)]).toEqual([secret.slice(0, 16), false]);
      } finally {
        await sim.close();
      }
    },
    60_000,
  );
});
