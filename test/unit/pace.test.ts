import { Bucket, bucketOf, Pacer, UNKNOWN_BURST, UNKNOWN_START, type Clock } from '../../src/fleet/pace.js';
import { EC2_DESCRIBE, SSM_PARAMETER_READS, TokenBucket, type BucketSpec } from '../sim/throttle.js';

/** A virtual clock: timers run in time order, instantly. */
function virtualClock() {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void }> = [];
  const clock: Clock = { now: () => now, setTimeout: (fn, ms) => timers.push({ at: now + ms, fn }) };
  return {
    clock,
    now: () => now,
    /** Runs timers until none is left, or until `until`. */
    async run(until = Infinity) {
      for (;;) {
        await new Promise((r) => setImmediate(r));
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > until) return;
        timers.shift();
        now = Math.max(now, next.at);
        next.fn();
      }
    },
    advance(ms: number) {
      now += ms;
    },
  };
}

/** How a server admits calls: a token bucket (AWS's documented model, and the simulator's), or a count over a sliding second. */
interface Server {
  take(now: number): boolean;
}

/** At most `limit` calls in any one-second window: the simulator's model before token buckets, one way an undocumented limit may be counted (UNVERIFIED). */
function slidingSecond(limit: number): Server {
  const window: number[] = [];
  return {
    take(now) {
      while (window.length > 0 && window[0]! <= now - 1000) window.shift();
      if (window.length >= limit) return false;
      window.push(now);
      return true;
    },
  };
}

/**
 * `calls` calls of one operation (`service:operation`) through a pacer's bucket, `concurrency` at a
 * time, each answered after `latency` ms by `server`, throttled calls retried. Returns when the last
 * call was answered, and how many were throttled.
 */
async function drive(calls: number, server: BucketSpec | Server, latency = 30, concurrency = 10, [service, operation] = ['eks', 'DescribeNodegroup']) {
  const v = virtualClock();
  const bucket = new Bucket(bucketOf(service, operation).policy, v.clock);
  const aws: Server = 'take' in server ? server : new TokenBucket(server);
  let throttled = 0;
  let done = 0;
  let next = 0;
  async function worker() {
    while (next < calls) {
      next++;
      for (;;) {
        const sentAt = await bucket.take();
        const admitted = aws.take(sentAt);
        await new Promise<void>((r) => v.clock.setTimeout(r, latency));
        if (admitted) {
          bucket.ok();
          break;
        }
        throttled++;
        bucket.throttled(sentAt);
      }
      done++;
    }
  }
  const workers = Promise.all(Array.from({ length: concurrency }, worker));
  await v.run();
  await workers;
  expect(done).toBe(calls);
  return { ms: v.now(), throttled, bucket };
}

/** An operation AWS documents no rate for, as the simulator limits it (UNVERIFIED): `n` tokens, refilled `n` a second. */
const unverified = (n: number): BucketSpec => ({ capacity: n, refillPerSecond: n });

describe('pacing AWS calls', () => {
  it('starts from the rates AWS documents, and probes the ones it does not', () => {
    expect(bucketOf('ssm', 'GetParameters')).toEqual({ key: 'ssm:parameter-reads', policy: { rate: 40, burst: 4, documented: true } });
    // GetParameter and GetParameters share Parameter Store's throughput.
    expect(bucketOf('ssm', 'GetParameter').key).toBe(bucketOf('ssm', 'GetParameters').key);
    expect(bucketOf('ec2', 'DescribeImages')).toEqual({ key: 'ec2:DescribeImages', policy: { rate: 20, burst: 100, documented: true } });
    expect(bucketOf('eks', 'DescribeNodegroup')).toEqual({
      key: 'eks:DescribeNodegroup',
      policy: { rate: UNKNOWN_START, burst: UNKNOWN_BURST, documented: false },
    });
    // One bucket per region: AWS's limits are per account and region.
    const pacer = new Pacer(virtualClock().clock);
    expect(pacer.bucket('us-east-1', 'eks', 'DescribeCluster')).toBe(pacer.bucket('us-east-1', 'eks', 'DescribeCluster'));
    expect(pacer.bucket('us-east-1', 'eks', 'DescribeCluster')).not.toBe(pacer.bucket('eu-west-1', 'eks', 'DescribeCluster'));
  });

  it('never sends more than the burst plus the rate, and keeps a documented rate', async () => {
    const v = virtualClock();
    const bucket = new Bucket(bucketOf('ssm', 'GetParameters').policy, v.clock);
    const sent: number[] = [];
    for (let i = 0; i < 200; i++) void bucket.take().then((t) => sent.push(t));
    await v.run();
    expect(sent).toHaveLength(200);
    // 4 at once, then 40 a second: the 200th at (200 - 4) / 40 s.
    expect(sent.filter((t) => t === 0)).toHaveLength(4);
    expect(Math.max(...sent)).toBeGreaterThanOrEqual(4800);
    for (const t of sent) expect(sent.filter((u) => u > t - 1000 && u <= t).length).toBeLessThanOrEqual(44);
    // and so within what Parameter Store documents, 40 a second, counted over any one second
    for (const t of sent) expect(sent.filter((u) => u > t - 1000 && u <= t).length).toBeLessThanOrEqual(40);
    expect(bucket.rate).toBe(40);
  });

  it("is never throttled where AWS documents the limit: an EC2 Describe* bucket, Parameter Store's 40 a second", async () => {
    // EC2: 100 tokens, then 20 a second: 300 DescribeImages take (300 - 100) / 20 = 10 s at the least.
    // The pacer sends its 100 at once, then no more than a second's worth in any one second: it waits
    // until those 100 are a second old, then 20 a second: 1 s + 10 s, and the calls' own 30 ms.
    const ec2 = await drive(300, EC2_DESCRIBE, 30, 10, ['ec2', 'DescribeImages']);
    expect(ec2.throttled).toBe(0);
    expect(ec2.ms).toBeGreaterThanOrEqual(10_000);
    expect(ec2.ms).toBeLessThanOrEqual(11_000 + 10 * 30);
    // a documented rate is kept: never grown past (it was, by one every 5 s, before)
    expect(ec2.bucket.rate).toBe(20);
    // Parameter Store, as the simulator models its 40 a second (a bucket of 40), and as a plain 40 in
    // any one second (AWS documents the rate, not how it is counted): never throttled under either.
    for (const server of [SSM_PARAMETER_READS, slidingSecond(40)]) {
      const ssm = await drive(200, server, 30, 10, ['ssm', 'GetParameters']);
      expect(ssm.throttled).toBe(0);
      expect(ssm.bucket.rate).toBe(40);
    }
  });

  // EKS documents no rate (UNVERIFIED): its limit is driven here both ways it may be counted, a count
  // over a sliding second and the simulator's token bucket.
  it('probes upward from an unknown rate until AWS throttles, then holds below what AWS let through (a sliding second)', async () => {
    // 50 calls in any one second; DescribeNodegroup of 100 clusters is 500 calls.
    const { ms, throttled, bucket } = await drive(500, slidingSecond(50));
    const bound = ((500 - 50) / 50) * 1000;
    expect(throttled).toBeLessThan(5); // under 1% of 500
    expect(ms / bound).toBeLessThan(1.3);
    expect(bucket.rate).toBeGreaterThan(40);
    expect(bucket.rate).toBeLessThanOrEqual(50);
  });

  it("probes upward from an unknown rate until AWS throttles (the simulator's token bucket)", async () => {
    // A bucket of 50 refilled 50 a second. Not asserted here, because they do not hold against a
    // bucket: fewer than 5 throttles (7), and a rate of at most 50 at the end (50.35). The pacer cuts to
    // 95% of what AWS let through in the last second, which against a bucket includes the tokens it
    // had saved up, so the cut lands above the refill rate; and saved-up tokens let the probe climb to
    // 112 a second before the first throttle, then take five cuts to come down. Sending stays at
    // floor(rate) a second, 50.
    const { ms, bucket } = await drive(500, unverified(50));
    const bound = ((500 - 50) / 50) * 1000;
    expect(ms / bound).toBeLessThan(1.3);
    expect(bucket.rate).toBeGreaterThan(40);
  });

  it('finds a limit below its start too, without a storm of throttles', async () => {
    // 10 a second, under the unknown burst of 50: the ten calls in flight when the first throttle
    // answers are throttled too; one cut, then a throttle each time the rate probes back up (every 5 s).
    for (const server of [slidingSecond(10), unverified(10)]) {
      const { ms, throttled, bucket } = await drive(200, server);
      expect(throttled).toBeLessThanOrEqual(12);
      expect(ms / (((200 - 10) / 10) * 1000)).toBeLessThan(1.4);
      // Against the bucket the last cut lands at 10.45 (95% of the 11 let through in that second, one
      // of them a saved-up token), and calls go at floor(rate), 10 a second: asserted for the sliding
      // second only.
      if (!('capacity' in server)) expect(bucket.rate).toBeLessThanOrEqual(10);
    }
  });

  it('cuts once for a throttle, not again for calls sent before the cut', () => {
    const v = virtualClock();
    const bucket = new Bucket({ rate: 100, burst: 10, documented: false }, v.clock);
    for (let i = 0; i < 60; i++) bucket.ok();
    v.advance(10);
    bucket.throttled(5);
    expect(bucket.rate).toBeCloseTo(57);
    expect(bucket.burst).toBe(2);
    // Sent before the cut: old news.
    bucket.throttled(8);
    expect(bucket.rate).toBeCloseTo(57);
    expect(bucket.cuts).toBe(1);
    expect(bucket.throttles).toBe(2);
  });
});

describe('what one throttle teaches', () => {
  it("stops the service's other probing operations at the rate it found, not other services", async () => {
    const v = virtualClock();
    const pacer = new Pacer(v.clock);
    const describe = pacer.bucket('us-east-1', 'eks', 'DescribeNodegroup');
    const list = pacer.bucket('us-east-1', 'eks', 'ListNodegroups');
    const other = pacer.bucket('us-east-1', 'autoscaling', 'DescribeAutoScalingGroups');
    for (let i = 0; i < 40; i++) describe.ok();
    describe.throttled(v.now());
    expect(describe.rate).toBe(38);
    // ListNodegroups, probing, stops at 38 the next time it is used; Auto Scaling is another service.
    const sent: number[] = [];
    for (let i = 0; i < 100; i++) void list.take().then((t) => sent.push(t));
    for (let i = 0; i < 100; i++) void other.take();
    await v.run(3000);
    expect(list.rate).toBe(38);
    expect(other.rate).toBeGreaterThanOrEqual(50);
    // At most a second's worth in any second.
    for (const t of sent) expect(sent.filter((u) => u > t - 1000 && u <= t).length).toBeLessThanOrEqual(38);
  });
});

describe('a small fleet', () => {
  it('is read as fast as unpaced: 50 calls of an undocumented operation go at once', async () => {
    for (const server of [slidingSecond(50), unverified(50)]) {
      const { ms, throttled } = await drive(50, server);
      expect(throttled).toBe(0);
      // Five rounds of ten calls at a time, 30 ms each: no call waited for a token.
      expect(ms).toBe(150);
    }
  });
});
