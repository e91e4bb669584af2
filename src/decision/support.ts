/**
 * The end of support of AMI families, as data: a node group on a family that AWS no longer patches is
 * `unsupported` whatever its Kubernetes version, and one whose family ends soon says so.
 *
 * Checked (2026-11) and without an announced end: Amazon Linux 2023, Bottlerocket, and Windows Server
 * 2019, 2022 and 2025 (the EKS user guide's Windows release calendar lists no end date for them; the
 * Windows versions that ended there, 1909, 2004 and 20H2, are not AMI types of managed node groups).
 */
export interface EndOfSupport {
  family: string;
  /** The AMI types (`AMITypes`) of the family. */
  matches: (amiType: string) => boolean;
  /** The day AWS stopped (or stops) publishing patched AMIs, YYYY-MM-DD. */
  endsOn: string;
  source: string;
  advice: string;
}

export const END_OF_SUPPORT: readonly EndOfSupport[] = [
  {
    family: 'Amazon Linux 2',
    matches: (t) => t.startsWith('AL2_'),
    endsOn: '2025-11-26',
    source: 'awslabs/amazon-eks-ami#2545 (the last AL2 release is v20251209)',
    advice: 'migrate to AL2023 or Bottlerocket',
  },
];

/** How far ahead an approaching end of support is reported. */
export const WARN_DAYS = 90;
const DAY = 86_400_000;

export type Support = { kind: 'ended'; eos: EndOfSupport } | { kind: 'ending'; eos: EndOfSupport; days: number } | { kind: 'supported' };

export function supportOf(amiType: string | undefined, now: Date, table: readonly EndOfSupport[] = END_OF_SUPPORT): Support {
  const eos = amiType ? table.find((e) => e.matches(amiType)) : undefined;
  if (!eos) return { kind: 'supported' };
  const left = Date.parse(`${eos.endsOn}T00:00:00Z`) - now.getTime();
  if (left <= 0) return { kind: 'ended', eos };
  if (left <= WARN_DAYS * DAY) return { kind: 'ending', eos, days: Math.ceil(left / DAY) };
  return { kind: 'supported' };
}

/** The reason for a node group on an ended family. */
export function endedReason(eos: EndOfSupport): string {
  return `${eos.family} AMIs reached end of support on ${eos.endsOn} (${eos.source}): no more patched releases; ${eos.advice}`;
}

/** The warning appended to a node group's reason when its family ends within WARN_DAYS. */
export function endingNotice(eos: EndOfSupport, days: number): string {
  return `${eos.family} AMIs reach end of support on ${eos.endsOn}, in ${days} day(s) (${eos.source}): ${eos.advice}`;
}
