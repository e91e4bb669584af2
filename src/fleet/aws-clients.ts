import { EKSClient, type EKSClientConfig } from '@aws-sdk/client-eks';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { pace } from './pace.js';

export interface AwsClients {
  eks: EKSClient;
  ssm: SSMClient;
  autoscaling: AutoScalingClient;
  ec2: EC2Client;
}

/** Creates the AWS clients of one region. Tests pass their own factory instead. */
export type AwsClientFactory = (region: string) => AwsClients;

/** The clients beyond EKS, by the name `AwsClients` gives them. */
export type LazyService = 'ssm' | 'autoscaling' | 'ec2';

/**
 * Their SDK packages, loaded on first need: each is a chunk of `dist/` (ncc emits one per dynamic
 * `import()`), and EC2's alone is 1 MB of minified code to compile. A check of a region without clusters
 * needs EKS alone, and loads nothing else.
 */
const loaders = {
  ssm: async () => (await import('@aws-sdk/client-ssm')).SSMClient,
  autoscaling: async () => (await import('@aws-sdk/client-auto-scaling')).AutoScalingClient,
  ec2: async () => (await import('@aws-sdk/client-ec2')).EC2Client,
};
type Constructors = { [K in LazyService]?: Awaited<ReturnType<(typeof loaders)[K]>> };
const loaded: Constructors = {};

/** Loads the SDK clients of these services (all three when none is named); once, however often called. */
export async function loadAwsClients(...services: LazyService[]): Promise<void> {
  const wanted = services.length > 0 ? services : (Object.keys(loaders) as LazyService[]);
  await Promise.all(
    wanted.map(async (service) => {
      (loaded as Record<LazyService, unknown>)[service] ??= await loaders[service]();
    }),
  );
}

/**
 * The one place AWS clients are made. Every attempt of every call waits for a token of its
 * operation's bucket (./pace.ts), so a large fleet is read at the pace AWS allows instead of being
 * throttled first; the SDK's standard retry mode retries what is throttled anyway (its adaptive mode
 * would slow the whole client a second time). Endpoints come from the SDK's own configuration
 * (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_EKS`, ...), so the bundled action can be pointed at a local
 * stand-in without any test-only code path. `credentials`, when given (role-to-assume), is one provider
 * shared by every client of every region; otherwise the SDK's default chain.
 *
 * The EKS client is made at once; the others when first used, which must follow `loadAwsClients`.
 */
export function createAwsClients(region: string, credentials?: AwsCredentialIdentityProvider, account?: string): AwsClients {
  // AWS throttles per account and region: a member account of `accounts` has buckets of its own.
  const scope = account ? `${account}/${region}` : region;
  const config = {
    region,
    retryMode: 'standard',
    maxAttempts: 10,
    customUserAgent: 'eks-ami-drift',
    ...(credentials ? { credentials } : {}),
  } satisfies EKSClientConfig;
  const made: Partial<Pick<AwsClients, LazyService>> = {};
  function lazy<K extends LazyService>(service: K): AwsClients[K] {
    const Client = loaded[service];
    if (!Client) throw new Error(`internal error: the ${service} client was used before loadAwsClients('${service}')`);
    if (!made[service]) {
      const client = new Client(config) as AwsClients[K];
      pace(client, scope, service);
      made[service] = client;
    }
    return made[service] as AwsClients[K];
  }
  const eks = new EKSClient(config);
  pace(eks, scope, 'eks');
  return {
    eks,
    get ssm() {
      return lazy('ssm');
    },
    get autoscaling() {
      return lazy('autoscaling');
    },
    get ec2() {
      return lazy('ec2');
    },
  };
}

/** `ResourceNotFoundException: No cluster found for name: prod.` */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const name = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
    return `${name}${error.message}`;
  }
  return String(error);
}
