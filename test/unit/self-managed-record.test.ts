import { describe, expect, it } from '@jest/globals';
import { decodeRecord, encodeRecord, RECORD_TAG, type ReplaceRecord } from '../../src/effects/self-managed-record.js';

/*
 * The resumable record in an Auto Scaling group's tags (src/effects/self-managed-record.ts): a tag value
 * holds at most 256 characters (Auto Scaling API reference, Tag: "Value ... Maximum length of 256").
 */

const record = (old: string[]): ReplaceRecord => ({
  step: 'drain',
  image: 'ami-0123456789abcdef0',
  desired: old.length,
  min: 2,
  max: old.length,
  suspended: ['AZRebalance', 'ReplaceUnhealthy', 'HealthCheck', 'AlarmNotification', 'ScheduledActions'],
  template: { id: 'lt-0123456789abcdef0', from: '12', version: '13' },
  old,
  startedAt: Date.UTC(2026, 11, 6, 7, 0, 0),
});

const tagsOf = (r: Record<string, string>) => Object.entries(r).map(([Key, Value]) => ({ Key, Value }));

describe('the self-managed resumable record', () => {
  it('round-trips a 40-instance group with every tag value within 256 characters', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `i-0${String(i).padStart(16, '0')}`);
    const tags = encodeRecord(record(ids));
    for (const v of Object.values(tags)) expect(v.length).toBeLessThanOrEqual(256);
    // 40 ids of 19 characters, space-separated: 12 fit in a value of 256.
    expect(Object.keys(tags).sort()).toEqual([RECORD_TAG, `${RECORD_TAG}-old-1`, `${RECORD_TAG}-old-2`, `${RECORD_TAG}-old-3`, `${RECORD_TAG}-old-4`]);
    expect(decodeRecord([{ Key: 'Name', Value: 'workers' }, ...tagsOf(tags)])).toEqual(record(ids));
  });

  it('reads no record on a group without the tag, and refuses a tag it did not write, saying what to do', () => {
    expect(decodeRecord([{ Key: 'Name', Value: 'workers' }])).toBeUndefined();
    expect(() => decodeRecord([{ Key: RECORD_TAG, Value: 'true' }])).toThrow(
      'the tag eks-ami-drift/replacing is not a record this action wrote (true): remove it once the group is as it should be',
    );
  });

  it('round-trips a $Default template, a mixed policy of several templates and a launch configuration of 255-character names, each tag within 256', () => {
    const ids = Array.from({ length: 8 }, (_, i) => `i-0${String(i).padStart(16, '0')}`);
    const mixed: ReplaceRecord = {
      ...record(ids),
      step: 'template',
      template: { id: 'lt-0123456789abcdef0', from: '12', version: '13', alias: '$Default', defaultFrom: '12', image: 'ami-0fedcba9876543210' },
      mixed: true,
      specs: Array.from({ length: 5 }, (_, i) => ({ id: `lt-0${i}23456789abcdef0`, from: '3', alias: '$Latest', image: 'ami-0aaaaaaaaaaaaaaaa' })),
    };
    let tags = encodeRecord(mixed);
    for (const v of Object.values(tags)) expect(v.length).toBeLessThanOrEqual(256);
    expect(Object.keys(tags).filter((k) => k.startsWith(`${RECORD_TAG}-spec-`))).toHaveLength(5);
    expect(decodeRecord(tagsOf(tags))).toEqual(mixed);
    const lc: ReplaceRecord = { ...record(ids), template: { id: '', from: '' }, lc: { from: 'a'.repeat(255), to: 'b'.repeat(255) } };
    tags = encodeRecord(lc);
    for (const v of Object.values(tags)) expect(v.length).toBeLessThanOrEqual(256);
    expect(decodeRecord(tagsOf(tags))).toEqual(lc);
  });
});
