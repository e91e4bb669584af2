/**
 * AWS's request throttling, as the simulator models it: token buckets, one set per account and Region
 * (the simulator is one account). A request takes a token from its bucket; an empty bucket answers
 * the service's throttling error. Buckets refill continuously at their rate, up to their capacity.
 *
 * Where AWS documents the limit (sources quoted as AWS words them):
 *
 * - EC2, non-mutating actions (`Describe*`): one bucket per action, 100 tokens, refilled 20 a second.
 *   Amazon EC2 developer guide, "Request throttling for the Amazon EC2 API"
 *   (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html): "Amazon EC2 throttles
 *   EC2 API requests for each AWS account on a per-Region basis"; "Amazon EC2 uses the token bucket
 *   algorithm to implement API throttling"; "each API is evaluated individually, and you are throttled
 *   on the number of requests you make on a per-API basis. Each request that you make removes one
 *   token from the API's bucket"; "the bucket size for DescribeHosts, a non-mutating API action, is 100
 *   tokens and the refill rate is 20 tokens per second". (The older API reference page,
 *   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/throttling.html, described one bucket for
 *   all "non-mutating (Describe*) API actions"; the developer guide, newer, says per API: per API here.)
 *   The same page says "a set number of tokens is added back to it every second": whether in one step
 *   each second or spread over it is UNVERIFIED; spread here.
 * - Parameter Store: GetParameter, GetParameters and GetParametersByPath share one limit, 40
 *   transactions a second by default, per account and Region. AWS general reference, "AWS Systems
 *   Manager endpoints and quotas" (https://docs.aws.amazon.com/general/latest/gr/ssm.html), Parameter
 *   Store "Max throughput (transactions per second)": "Default throughput: 40 (Shared by the following
 *   API actions: GetParameter, GetParameters, GetParametersByPath)" (the table's words as reproduced by
 *   others; the page itself was not read); "Parameter Store requests are throttled for each Amazon Web
 *   Services (AWS) account on a per-Region basis" (AWS knowledge center,
 *   https://repost.aws/knowledge-center/ssm-parameter-store-rate-exceeded). AWS documents a rate, not a
 *   bucket: modelled as a bucket of one second's worth (40 tokens) refilled 40 a second; the burst is
 *   UNVERIFIED (a client that never sends more than 40 in any one second is admitted under either).
 *   GetParameterHistory is not among the actions AWS names for that limit, and no limit of its own was
 *   found: UNVERIFIED, the `unverified` bucket of its own.
 *
 * EKS, Auto Scaling, STS, EC2's other actions and GetParameterHistory: AWS documents no rate for them
 * (UNVERIFIED). Each operation gets a bucket of `unverified.capacity` tokens refilled
 * `unverified.refillPerSecond` a second, configurable (the bench's `--rate`).
 */

export interface BucketSpec {
  /** Tokens the bucket holds. */
  capacity: number;
  /** Tokens added a second. */
  refillPerSecond: number;
}

export interface ThrottleModel {
  /** The bucket of each operation AWS documents no rate for (UNVERIFIED). */
  unverified: BucketSpec;
}

/** EC2 non-mutating actions (`Describe*`), each its own bucket: EC2 developer guide, "Request throttling". */
export const EC2_DESCRIBE: BucketSpec = { capacity: 100, refillPerSecond: 20 };
/** Parameter Store's reads, one bucket: 40 transactions a second (Systems Manager quotas); capacity UNVERIFIED. */
export const SSM_PARAMETER_READS: BucketSpec = { capacity: 40, refillPerSecond: 40 };

/** Which bucket a request of `service:operation` takes its token from, and that bucket's size. */
export function bucketFor(service: string, operation: string, model: ThrottleModel): { key: string; spec: BucketSpec; documented: boolean } {
  if (service === 'ec2' && operation.startsWith('Describe')) return { key: `ec2:${operation}`, spec: EC2_DESCRIBE, documented: true };
  if (service === 'ssm' && ['GetParameter', 'GetParameters', 'GetParametersByPath'].includes(operation)) {
    return { key: 'ssm:GetParameter+GetParameters+GetParametersByPath', spec: SSM_PARAMETER_READS, documented: true };
  }
  return { key: `${service}:${operation}`, spec: model.unverified, documented: false };
}

/** One token bucket, full at first. */
export class TokenBucket {
  private tokens: number;
  private at: number | undefined;
  constructor(readonly spec: BucketSpec) {
    this.tokens = spec.capacity;
  }
  /** Takes a token at `now` (ms): false when the bucket is empty (the request is throttled). */
  take(now: number): boolean {
    if (this.at !== undefined) this.tokens = Math.min(this.spec.capacity, this.tokens + ((now - this.at) / 1000) * this.spec.refillPerSecond);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Every bucket of the simulated account, by Region and bucket key. */
export class Throttling {
  private readonly buckets = new Map<string, TokenBucket>();
  constructor(readonly model: ThrottleModel) {}
  /** Whether a request of `service:operation` in `region` at `now` gets a token. */
  admit(region: string, service: string, operation: string, now: number): boolean {
    const { key, spec } = bucketFor(service, operation, this.model);
    const id = `${region}/${key}`;
    let bucket = this.buckets.get(id);
    if (!bucket) this.buckets.set(id, (bucket = new TokenBucket(spec)));
    return bucket.take(now);
  }
}
