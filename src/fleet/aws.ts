import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export interface AwsClients {
  eks: EKSClient;
  ssm: SSMClient;
  autoscaling: AutoScalingClient;
  ec2: EC2Client;
}

/** Creates the AWS clients of one region. Tests pass their own factory instead. */
export type AwsClientFactory = (region: string) => AwsClients;

/**
 * The one place AWS clients are made. Adaptive retries absorb throttling across a large fleet (the
 * client slows itself down when AWS says so). Endpoints come from the SDK's own configuration
 * (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_EKS`, ...), so the bundled action can be pointed at a local
 * stand-in without any test-only code path. `credentials`, when given (role-to-assume), is one provider
 * shared by every client of every region; otherwise the SDK's default chain.
 */
export function createAwsClients(region: string, credentials?: AwsCredentialIdentityProvider): AwsClients {
  const config = { region, retryMode: 'adaptive', maxAttempts: 10, customUserAgent: 'eks-ami-drift', ...(credentials ? { credentials } : {}) };
  return { eks: new EKSClient(config), ssm: new SSMClient(config), autoscaling: new AutoScalingClient(config), ec2: new EC2Client(config) };
}

/** `ResourceNotFoundException: No cluster found for name: prod.` */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const name = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
    return `${name}${error.message}`;
  }
  return String(error);
}
