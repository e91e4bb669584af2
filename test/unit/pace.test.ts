import { Bucket, bucketOf, Pacer, UNKNOWN_BURST, UNKNOWN_START, type Clock } from '../../src/fleet/pace.js';

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

/**
 * `calls` calls of one operation through a bucket, `concurrency` at a time, each answered after
 * `latency` ms by a server that allows `limit` calls in any one-second window (the bench's simulator),
 * throttled calls retried. Returns when the last call was answered, and how many were throttled.
 */
async function drive(calls: number, limit: number, latency = 30, concurrency = 10) {
  const v = virtualClock();
  const bucket = new Bucket(bucketOf('eks', 'DescribeNodegroup').policy, v.clock);
  const window: number[] = [];
  let throttled = 0;
  let done = 0;
  let next = 0;
  async function worker() {
    while (next < calls) {
      next++;
      for (;;) {
        const sentAt = await bucket.take();
        while (window.length > 0 && window[0]! <= sentAt - 1000) window.shift();
        const admitted = window.length < limit;
        if (admitted) window.push(sentAt);
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

describe('pacing AWS calls', () => {
  it('starts from the rates AWS documents, and probes the ones it does not', () => {
    expect(bucketOf('ssm', 'GetParameters')).toEqual({ key: 'ssm:parameter-reads', policy: { rate: 40, burst: 4, documented: true } });
    // GetParameter and GetParameters share Parameter Store's throughput.
    expect(bucketOf('ssm', 'GetParameter').key).toBe(bucketOf('ssm', 'GetParameters').key);
    expect(bucketOf('ec2', 'DescribeImages')).toEqual({ key: 'ec2:DescribeImages', policy: { rate: 20, burst: 100, documented: true } });
    expect(bucketOf('eks', 'DescribeNodegroup')).toEqual({ key: 'eks:DescribeNodegroup', policy: { rate: UNKNOWN_START, burst: UNKNOWN_BURST, documented: false } });
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
    expect(bucket.rate).toBe(40);
  });

  it('probes upward from an unknown rate until AWS throttles, then holds below what AWS let through', async () => {
    // The bench's simulator: 50 calls in any one second; DescribeNodegroup of 100 clusters is 500 calls.
    const { ms, throttled, bucket } = await drive(500, 50);
    const bound = ((500 - 50) / 50) * 1000;
    expect(throttled).toBeLessThan(5); // under 1% of 500
    expect(ms / bound).toBeLessThan(1.3);
    expect(bucket.rate).toBeGreaterThan(40);
    expect(bucket.rate).toBeLessThanOrEqual(50);
  });

  it('finds a limit below its start too, without a storm of throttles', async () => {
    // 10 a second, under the unknown burst of 50: the ten calls in flight when the first throttle
    // answers are throttled too; one cut, then a throttle each time the rate probes back up (every 5 s).
    const { ms, throttled, bucket } = await drive(200, 10);
    expect(throttled).toBeLessThanOrEqual(12);
    expect(bucket.rate).toBeLessThanOrEqual(10);
    expect(ms / (((200 - 10) / 10) * 1000)).toBeLessThan(1.4);
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
    const { ms, throttled } = await drive(50, 50);
    expect(throttled).toBe(0);
    // Five rounds of ten calls at a time, 30 ms each: no call waited for a token.
    expect(ms).toBe(150);
  });
});
