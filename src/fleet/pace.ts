import { isThrottlingError } from '@smithy/core/retry';

/*
 * Pacing AWS calls before AWS throttles them: one token bucket per region, service and operation (or
 * group of operations AWS throttles together), in front of every attempt the SDK makes.
 *
 * The SDK's adaptive retry mode slows a client only after AWS has throttled it, then backs off for
 * seconds; at fleet scale that is the normal case, not the exception. AWS throttles per account and
 * region, and documents a few limits:
 *
 * - Parameter Store: GetParameter, GetParameters and GetParametersByPath share a default throughput of
 *   40 transactions a second (AWS Systems Manager endpoints and quotas, "Parameter Store max
 *   throughput"; higher throughput raises it). A rate: AWS documents no bucket or burst for it. The
 *   burst of 4 below is this pacer's own choice (UNVERIFIED what Parameter Store admits at once); with
 *   never more than a second's worth in any one second (below), no second sees more than 40.
 * - EC2: a token bucket per API; a non-mutating action (Describe*) holds 100 tokens and refills 20 a
 *   second (Amazon EC2 developer guide, "Request throttling for the Amazon EC2 API").
 *
 * EKS, Auto Scaling, STS and GetParameterHistory document no rate: UNVERIFIED. Those start with a
 * bucket of `UNKNOWN_BURST` tokens refilled `UNKNOWN_START` a second (ECS, the nearest documented
 * container API, gives its cluster reads a bucket of 50), so a fleet of ten clusters is read as fast
 * as it was unpaced, and probe upward: the rate grows by half each second in which callers waited for
 * a token and no call was throttled, like TCP's slow start (gentler: fewer calls are in flight past
 * the limit when the first throttle comes back). The first throttle ends the probe: the rate falls to
 * 95% of what AWS let through in the last second, then grows back by one a second every five seconds
 * without a throttle.
 * The lesson holds for the service's other operations in that region that are still probing: they stop
 * at that rate instead of each finding the limit by being throttled (that EKS's read operations share
 * a limit is UNVERIFIED; an operation with a lower one is throttled, and cuts, on its own).
 *
 * Whatever the bucket allows, no more calls go in any one second than a second's worth (the larger of
 * the burst and the rate): a limit counted over a sliding second, as well as a bucket, is kept, and
 * after a cut the calls wait until the last second's calls fall under the new rate. A throttle of a
 * call sent before the last cut says nothing new and is ignored. Throttling is recognised the way the
 * SDK's retry strategy recognises it (ThrottlingException, Throttling, RequestLimitExceeded, HTTP 429,
 * ...), and the SDK still retries the throttled call.
 */

export interface BucketPolicy {
  /** Tokens a second. */
  rate: number;
  /** Tokens the bucket holds: the burst. */
  burst: number;
  /** The rate is documented by AWS: kept, never probed above. */
  documented: boolean;
}

/** The starting rate and burst of an operation whose limit AWS does not document (UNVERIFIED). */
export const UNKNOWN_START = 50;
export const UNKNOWN_BURST = 50;

/** The bucket of an operation, and the policy it starts from. */
export function bucketOf(service: string, operation: string): { key: string; policy: BucketPolicy } {
  if (service === 'ssm' && ['GetParameter', 'GetParameters', 'GetParametersByPath'].includes(operation)) {
    // The rate is AWS's (40 a second); the burst is ours, not AWS's (see above).
    return { key: 'ssm:parameter-reads', policy: { rate: 40, burst: 4, documented: true } };
  }
  if (service === 'ec2' && operation.startsWith('Describe')) {
    return { key: `ec2:${operation}`, policy: { rate: 20, burst: 100, documented: true } };
  }
  return { key: `${service}:${operation}`, policy: { rate: UNKNOWN_START, burst: UNKNOWN_BURST, documented: false } };
}

/** The bucket of an operation being paced. */
const PACED_BURST = 2;

/** After a throttle, the share of what AWS let through in the last second that the rate keeps. */
const CUT = 0.95;

export interface Clock {
  now: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
}

const realClock: Clock = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms) };

/** What one throttle taught about a service in a region: shared by its buckets. */
export interface Lesson {
  rate?: number;
}

export class Bucket {
  rate: number;
  burst: number;
  private tokens: number;
  private refilledAt: number;
  private probing: boolean;
  private grownAt: number;
  private cutAt = -Infinity;
  /** A documented rate is never grown past; an undocumented one has no ceiling. */
  private readonly ceiling: number;
  /** When the calls of the last second were sent, and when the answered ones were answered. */
  private sent: number[] = [];
  private admitted: number[] = [];
  private waiting: Array<(sentAt: number) => void> = [];
  private timer = false;
  /** Calls throttled, and cuts made. */
  throttles = 0;
  cuts = 0;

  constructor(
    policy: BucketPolicy,
    private readonly clock: Clock = realClock,
    private readonly lesson: Lesson = {},
  ) {
    this.rate = policy.rate;
    this.burst = policy.burst;
    this.tokens = policy.burst;
    this.refilledAt = clock.now();
    this.grownAt = this.refilledAt;
    this.probing = !policy.documented;
    this.ceiling = policy.documented ? policy.rate : Infinity;
  }

  /** Resolves, with the time, when the call may be sent. */
  take(): Promise<number> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.drain();
    });
  }

  /** The call was answered (not throttled). */
  ok(): void {
    const now = this.clock.now();
    this.admitted.push(now);
    prune(this.admitted, now);
  }

  /** The call sent at `sentAt` was throttled. */
  throttled(sentAt: number): void {
    this.throttles++;
    if (sentAt < this.cutAt) return;
    const now = this.clock.now();
    prune(this.admitted, now);
    const admitted = this.admitted.length;
    this.setRate(Math.max(1, admitted > 0 ? admitted * CUT : this.rate / 2));
    this.tokens = Math.min(this.tokens, 0);
    this.refilledAt = now;
    this.cutAt = now;
    this.grownAt = now;
    this.probing = false;
    this.lesson.rate = Math.min(this.lesson.rate ?? Infinity, this.rate);
    this.cuts++;
  }

  private setRate(rate: number): void {
    this.rate = rate;
    this.burst = PACED_BURST;
  }

  private drain(): void {
    if (this.timer) return;
    const now = this.clock.now();
    if (this.probing && this.lesson.rate !== undefined) {
      // A sibling operation was throttled: stop where it stopped.
      this.probing = false;
      this.setRate(this.lesson.rate);
      this.tokens = Math.min(this.tokens, this.burst);
      this.grownAt = now;
    }
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.rate);
    this.refilledAt = now;
    prune(this.sent, now);
    const perSecond = Math.max(this.burst, Math.floor(this.rate));
    while (this.waiting.length > 0 && this.tokens >= 1 && this.sent.length < perSecond) {
      this.tokens -= 1;
      this.sent.push(now);
      this.waiting.shift()!(now);
    }
    if (this.waiting.length === 0) return;
    // Once callers wait, the starting burst is spent: from then on calls are paced, and tokens never
    // pile up into a burst that would overshoot AWS's limit all at once (two: a late timer loses none).
    this.burst = PACED_BURST;
    this.tokens = Math.min(this.tokens, PACED_BURST);
    // Callers wait: the rate is what limits them now, so this is when to probe upward.
    this.grow(now);
    const forToken = this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.rate) * 1000;
    const forWindow = this.sent.length >= perSecond ? this.sent[this.sent.length - perSecond]! + 1000 - now : 0;
    this.timer = true;
    this.clock.setTimeout(
      () => {
        this.timer = false;
        this.drain();
      },
      Math.max(1, Math.ceil(Math.max(forToken, forWindow))),
    );
  }

  private grow(now: number): void {
    if (this.probing && now - this.grownAt >= 1000) {
      this.rate *= 1.5;
      this.grownAt = now;
    } else if (!this.probing && now - this.grownAt >= 5000) {
      this.setRate(Math.min(this.ceiling, this.rate + 1));
      this.grownAt = now;
    }
  }
}

/** Drops the times more than a second old. */
function prune(times: number[], now: number): void {
  while (times.length > 0 && times[0]! <= now - 1000) times.shift();
}

/** Every bucket of the run, by region, service and operation. */
export class Pacer {
  readonly buckets = new Map<string, Bucket>();
  private readonly lessons = new Map<string, Lesson>();
  constructor(private readonly clock: Clock = realClock) {}

  bucket(region: string, service: string, operation: string): Bucket {
    const { key, policy } = bucketOf(service, operation);
    const id = `${region}/${key}`;
    let bucket = this.buckets.get(id);
    if (!bucket) {
      const lessonId = `${region}/${service}`;
      if (!this.lessons.has(lessonId)) this.lessons.set(lessonId, {});
      this.buckets.set(id, (bucket = new Bucket(policy, this.clock, policy.documented ? {} : this.lessons.get(lessonId))));
    }
    return bucket;
  }
}

/**
 * The process's pacer: every client of every region shares it, keyed by region (`<account>/<region>`
 * for a member account of `accounts`), as AWS's limits are per account and region.
 */
export const pacer = new Pacer();

interface MiddlewareStack {
  add(middleware: unknown, options: { step: 'finalizeRequest'; name: string; priority: 'low' }): void;
}

/**
 * Puts the pacer in front of each attempt of a client's calls: after the SDK's retry middleware, so a
 * retry waits for a token like any call. The retry middleware is added at the finalizeRequest step
 * with high priority (@smithy/core, retry/middleware-retry/retryMiddleware.js `retryMiddlewareOptions`),
 * and a step runs its middleware from high to low priority (client/middleware-stack/MiddlewareStack.js
 * `priorityWeights`), so this one (low) runs inside it. The operation's name is the handler
 * context's `commandName`, which every command passes to its middleware stack (@smithy/core, client/smithy-client/command.js `resolveMiddlewareWithContext`).
 */
export function pace(client: { middlewareStack: unknown }, region: string, service: string, using: Pacer = pacer): void {
  (client.middlewareStack as MiddlewareStack).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const bucket = using.bucket(region, service, (context.commandName ?? 'unknown').replace(/Command$/, ''));
      const sentAt = await bucket.take();
      try {
        const out = await next(args);
        bucket.ok();
        return out;
      } catch (error) {
        if (error && typeof error === 'object' && isThrottlingError(error as Parameters<typeof isThrottlingError>[0])) bucket.throttled(sentAt);
        else bucket.ok();
        throw error;
      }
    },
    { step: 'finalizeRequest', name: 'eksAmiDriftPacer', priority: 'low' },
  );
}
