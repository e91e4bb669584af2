/** What EKS said when it refused a release, and what to do about it. */
export interface Refusal {
  allowed?: string;
  /** The Kubernetes version the release is not valid for. */
  notValidFor?: string;
}

/**
 * EKS's two refusal texts of UpdateNodegroupVersion (InvalidParameterException):
 * - current: `Requested release version 1.31.3-20250103 is not valid for kubernetes version 1.30.`
 *   (eksctl #7976, 2025);
 * - 2020: `Requested Nodegroup release version X is invalid. Allowed release version is Y`.
 */
export function parseRefusal(message: string): Refusal | undefined {
  const text = message.trim();
  const allowed = /Allowed release version is (\S+?)\.?$/.exec(text)?.[1];
  if (allowed) return { allowed };
  const notValidFor = /is not valid for kubernetes version (\d+\.\d+)\.?$/i.exec(text)?.[1];
  if (notValidFor) return { notValidFor };
  return undefined;
}
