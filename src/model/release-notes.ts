/*
 * The upstream release notes a pull request shows (issue 26): what each release between a node
 * group's current and target release changed, read from the upstream projects' GitHub releases.
 */

/** One release as GitHub's releases API lists it (only the fields read here). */
export interface UpstreamRelease {
  tag: string;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
}

/** What one release changed for one node group or node class, parsed from its body. */
export interface ReleaseNote {
  tag: string;
  url: string;
  /** Component versions in the order shown (kubelet, containerd, runc, kernel; or the Bottlerocket OS). */
  components: { name: string; version: string }[];
  /** The body's bullet points, trimmed. */
  changes: string[];
  /** How many bullet points were left out. */
  moreChanges: number;
  /** What the body lacked, said instead of the components (no table for the node group's minor). */
  missing?: string;
}

/** The release notes of one drifted node group or node class. */
export interface EntryReleaseNotes {
  name: string;
  what: 'node group' | 'node class';
  /** The AMI type (or a node class's family) and Kubernetes minor, as shown. */
  amiType: string;
  kubernetesVersion: string | null;
  current: string;
  target: string;
  /** Where every release is listed (the upstream project's releases page, or AWS's page for Windows). */
  releasesUrl: string;
  /** The releases after the current and up to the target, oldest first (at most the bound). */
  notes: ReleaseNote[];
  /** Releases in the range not listed (over the bound): the oldest ones. */
  notListed: number;
  /** Why the notes could not be read; notes is then empty. */
  unread?: string;
  /** Only a link is given (Windows: its notes are not on GitHub). */
  linkOnly?: boolean;
}
