import type { Clock } from './world.js';
import type { FleetSpec } from './fleet.js';

/** One parameter of the account's own (not AWS's public ones): what PutParameter stored. */
export interface AccountParameter {
  name: string;
  region: string;
  value: string;
  type: string;
  description: string;
  version: number;
  /** ms, on the simulator's clock. */
  lastModified: number;
}

/** A failure of the account's parameter store, with the error code SSM answers. */
export class ParameterError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The account's own Parameter Store, per region (parameter names are unique within a Region: SSM API
 * reference, PutParameter). What the action uses of it, with the rules it checks:
 * - PutParameter: Name a-zA-Z0-9_.- and `/`, at most 15 levels, not beginning with `aws` or `ssm`
 *   (case-insensitive); an existing name without Overwrite is ParameterAlreadyExists; a standard
 *   parameter's value is at most 4 KB; each write adds a version;
 * - GetParametersByPath: the parameters under the path (one level, or every level with Recursive),
 *   in pages of MaxResults (at most 10);
 * - DeleteParameter: ParameterNotFound when it is not there.
 */
export class AccountParameters {
  private readonly byKey = new Map<string, AccountParameter>();

  constructor(private readonly clock: Clock) {}

  all(): AccountParameter[] {
    return [...this.byKey.values()];
  }

  get(region: string, name: string): AccountParameter | undefined {
    return this.byKey.get(`${region}\n${name}`);
  }

  put(region: string, p: { Name?: unknown; Value?: unknown; Type?: unknown; Overwrite?: unknown; Description?: unknown }): { Version: number; Tier: string } {
    const name = String(p.Name ?? '');
    const value = String(p.Value ?? '');
    if (!/^[a-zA-Z0-9_.\-/]+$/.test(name) || /^\/?(aws|ssm)/i.test(name) || name.split('/').filter(Boolean).length > 15) {
      throw new ParameterError('ValidationException', `Parameter name: ${name} is not valid.`);
    }
    if (Buffer.byteLength(value) > 4096)
      throw new ParameterError('ValidationException', 'Standard tier parameters support a maximum parameter value of 4096 characters.');
    const existing = this.get(region, name);
    if (existing && p.Overwrite !== true) {
      throw new ParameterError(
        'ParameterAlreadyExists',
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      );
    }
    const version = (existing?.version ?? 0) + 1;
    this.byKey.set(`${region}\n${name}`, {
      name,
      region,
      value,
      type: String(p.Type ?? existing?.type ?? 'String'),
      description: String(p.Description ?? existing?.description ?? ''),
      version,
      lastModified: this.clock.now(),
    });
    return { Version: version, Tier: 'Standard' };
  }

  delete(region: string, name: string): void {
    if (!this.byKey.delete(`${region}\n${name}`)) throw new ParameterError('ParameterNotFound', '');
  }

  /** The parameters under `path` in a region, by name. */
  under(region: string, path: string, recursive: boolean): AccountParameter[] {
    const prefix = path.endsWith('/') ? path : `${path}/`;
    return this.all()
      .filter((p) => p.region === region && p.name.startsWith(prefix) && (recursive || !p.name.slice(prefix.length).includes('/')))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}

/**
 * An infrastructure-as-code apply of the node groups' tags, as Terraform's AWS provider does it: the
 * `tags` of an aws_eks_node_group are wholly managed by Terraform, and tags added outside it are removed
 * on the next apply (Terraform AWS provider, "Resource Tagging" guide: "Any non-AWS tags added to the
 * VPC outside of Terraform will be proposed for removal on the next Terraform execution"), except keys
 * beginning with `aws:` and those the provider's `ignore_tags` block names (`keys`, `key_prefixes`).
 * Terraform changes only the objects its state binds to its configuration (hashicorp/terraform
 * website/docs/cli/state/index.mdx): an SSM parameter it did not create is left as it is.
 * `known`: the tags the configuration declares for each node group (none when absent).
 */
export function terraformApply(
  fleet: FleetSpec,
  options: { known?: Record<string, string>; ignoreTags?: { keys?: string[]; keyPrefixes?: string[] }; clusters?: string[] } = {},
): { removed: string[] } {
  const removed: string[] = [];
  const ignored = (k: string) =>
    k.startsWith('aws:') || (options.ignoreTags?.keys ?? []).includes(k) || (options.ignoreTags?.keyPrefixes ?? []).some((p) => k.startsWith(p));
  for (const cluster of fleet.clusters.filter((c) => !options.clusters || options.clusters.includes(c.name))) {
    for (const ng of cluster.nodegroups) {
      for (const k of Object.keys(ng.tags ?? {})) {
        if (ignored(k) || options.known?.[k] !== undefined) continue;
        delete ng.tags![k];
        removed.push(`${cluster.name}/${ng.name}: ${k}`);
      }
      for (const [k, v] of Object.entries(options.known ?? {})) (ng.tags ??= {})[k] = v;
    }
  }
  return { removed };
}
