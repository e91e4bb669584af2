import { describe, expect, it } from '@jest/globals';
import { clusterSupportNotice, windowsCalendar, windowsPrivateOn } from '../../src/decision/calendar.js';

const now = new Date('2026-12-06T12:00:00Z');

describe('the Windows AMI calendar (about 120 days after release, UNVERIFIED: docs/check.md)', () => {
  it('dates a release from its version, in either date form', () => {
    expect(windowsPrivateOn('WINDOWS_CORE_2022_x86_64', '1.33-2026.08.01')).toBe('2026-11-29');
    expect(windowsPrivateOn('WINDOWS_FULL_2019_x86_64', '1.33-2026-10-01')).toBe('2027-01-29');
    expect(windowsPrivateOn('AL2023_x86_64_STANDARD', '1.33.1-20261001')).toBeUndefined();
  });

  it('warns within 30 days, and is past it after the date', () => {
    expect(windowsCalendar('WINDOWS_CORE_2022_x86_64', '1.33-2026.08.01', now)).toEqual({ kind: 'private', on: '2026-11-29' });
    expect(windowsCalendar('WINDOWS_CORE_2022_x86_64', '1.33-2026.08.20', now)).toEqual({ kind: 'soon', on: '2026-12-18', days: 12 });
    expect(windowsCalendar('WINDOWS_CORE_2022_x86_64', '1.33-2026.10.01', now)).toBeUndefined();
  });
});

describe('the Kubernetes support calendar (DescribeClusterVersions)', () => {
  it('names the next end within 90 days, standard then extended, and a version past extended support', () => {
    expect(clusterSupportNotice('1.34', { endOfStandardSupport: '2027-01-05', endOfExtendedSupport: '2028-01-05' }, now)).toContain(
      'reaches the end of standard support on 2027-01-05, in 30 day(s)',
    );
    expect(clusterSupportNotice('1.31', { endOfStandardSupport: '2025-11-26', endOfExtendedSupport: '2027-02-01' }, now)).toContain(
      'reaches the end of extended support on 2027-02-01, in 57 day(s)',
    );
    expect(clusterSupportNotice('1.29', { endOfStandardSupport: '2025-03-23', endOfExtendedSupport: '2026-03-23' }, now)).toContain(
      'past the end of extended support (2026-03-23)',
    );
    expect(clusterSupportNotice('1.33', { endOfStandardSupport: '2026-07-29', endOfExtendedSupport: '2027-07-29' }, now)).toBeNull();
    expect(clusterSupportNotice('1.35', { endOfStandardSupport: '2027-03-27', endOfExtendedSupport: '2028-03-27' }, now)).toBeNull();
    expect(clusterSupportNotice('1.35', undefined, now)).toBeNull();
  });

  it("says what the cluster's upgrade policy makes of the end of standard support (EKS API reference, UpgradePolicyResponse)", () => {
    const dates = { endOfStandardSupport: '2027-01-05', endOfExtendedSupport: '2028-01-05' };
    expect(clusterSupportNotice('1.34', dates, now, 'STANDARD')).toContain(
      'its upgrade policy is STANDARD, so EKS then upgrades the control plane automatically',
    );
    expect(clusterSupportNotice('1.34', dates, now, 'STANDARD')).not.toContain('costs more');
    expect(clusterSupportNotice('1.34', dates, now, 'EXTENDED')).toContain('extended support then costs more per cluster hour, until 2028-01-05');
  });
});
