import { describe, expect, it } from '@jest/globals';
import { newestProven, proveTrain, type StageMember } from '../../src/decision/proof.js';
import { trainOf } from '../../src/decision/train.js';

const DAY = 86_400_000;
const now = Date.parse('2026-11-23T12:00:00Z');
const AL = 'AL2023_x86_64_STANDARD';
const jun = trainOf('1.33.12-20260618', AL)!;
const jul = trainOf('1.33.13-20260714', AL)!;
const member = (cluster: string, stage: number, release: string, daysOn: number, failures: StageMember['failures'] = []): StageMember => ({
  cluster,
  nodegroup: 'general',
  stage,
  amiType: AL,
  train: trainOf(release, AL),
  since: now - daysOn * DAY,
  failures,
});

describe('the proof of a train for a stage', () => {
  it('holds a train back until every earlier-stage node group of the type runs it for the soak, and says how long', () => {
    const fleet = [member('canary-a', 0, '1.32.10-20260714', 4), member('canary-b', 0, '1.33.13-20260714', 1), member('staging', 1, '1.33.12-20260618', 30)];
    const proof = proveTrain(fleet, AL, 1, jul, 3 * DAY, now);
    expect(proof).toMatchObject({ applies: true, proven: false, provenAt: now + 2 * DAY });
    expect(proof.holders).toEqual([expect.stringMatching(/^canary-b\/general: runs v20260714 since .*, proves it in 2d$/)]);
    // production also waits for staging, which runs the older train
    expect(proveTrain(fleet, AL, 2, jul, 3 * DAY, now).holders).toContain('staging/general: runs v20260618, not v20260714 yet');
    expect(proveTrain(fleet, AL, 2, jul, 3 * DAY, now).provenAt).toBeNull();
    // two days on, staging's proof is complete; a newer train counts for an older one, but only from
    // when the node group got onto what it runs (its history before that is not read)
    expect(proveTrain(fleet, AL, 1, jul, 3 * DAY, now + 2 * DAY).proven).toBe(true);
    expect(proveTrain(fleet, AL, 1, jun, 3 * DAY, now).proven).toBe(false);
    expect(proveTrain(fleet, AL, 1, jun, 3 * DAY, now + 2 * DAY).proven).toBe(true);
  });

  it('stops a train that failed in an earlier stage, whatever the time', () => {
    const failure = { train: 'v20260714', updateId: 'u-1', at: now - DAY, what: 'NodeCreationFailure' };
    const fleet = [member('canary', 0, '1.33.12-20260618', 30, [failure])];
    const proof = proveTrain(fleet, AL, 1, jul, 0, now + 100 * DAY);
    expect(proof).toMatchObject({ proven: false, provenAt: null, failures: [expect.objectContaining({ cluster: 'canary', updateId: 'u-1' })] });
  });

  it('says the gate cannot apply when no earlier stage has the AMI type', () => {
    expect(proveTrain([member('staging', 1, '1.33.12-20260618', 1)], AL, 1, jul, DAY, now)).toMatchObject({ applies: false, proven: true });
    expect(proveTrain([member('canary', 0, '1.33.13-20260714', 9)], 'BOTTLEROCKET_x86_64', 1, jul, DAY, now).applies).toBe(false);
  });

  it('picks the newest proven train: a newer one published mid-rollout does not jump the queue', () => {
    const aug = trainOf('1.33.14-20260801', AL)!;
    const fleet = [member('canary', 0, '1.33.13-20260714', 5)];
    expect(newestProven(fleet, AL, 1, [jun, aug, jul], 3 * DAY, now)?.train.id).toBe('v20260714');
    expect(newestProven([member('canary', 0, '1.33.11-20260501', 5)], AL, 1, [aug, jul], 3 * DAY, now)).toBeUndefined();
  });
});
