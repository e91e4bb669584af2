import { GetParametersCommand, paginateGetParameterHistory, paginateGetParametersByPath, type SSMClient } from '@aws-sdk/client-ssm';
import type { LimitFunction } from 'p-limit';
import { describeError } from './aws-clients.js';
import { chunks } from './batch.js';

import {
  mergeUnhealthy,
  parseUnhealthyParameter,
  UNHEALTHY_PARAMETER_PATH,
  type ClusterState,
  type LatestRelease,
  type ParameterRequest,
  type UnhealthyMark,
} from '../model/fleet.js';

/** GetParameters takes at most 10 names a call. */
export const SSM_BATCH = 10;

/**
 * Reads each distinct parameter once, in GetParameters calls of 10 names. Unknown names come back in
 * InvalidParameters (GetParameters does not throw for them): they are `missing`, which the decision
 * reports with the parameter's name.
 */
export async function readLatestReleases(ssm: SSMClient, requests: readonly ParameterRequest[], limit: LimitFunction): Promise<Map<string, LatestRelease>> {
  const formats = new Map(requests.map((r) => [r.parameter, r.format]));
  const names = [...formats.keys()].sort();
  const batches = chunks(names, SSM_BATCH);

  const result = new Map<string, LatestRelease>();
  await Promise.all(
    batches.map((batch) =>
      limit(async () => {
        try {
          const out = await ssm.send(new GetParametersCommand({ Names: batch }));
          for (const p of out.Parameters ?? []) {
            if (!p.Name) continue;
            result.set(p.Name, readValue(p.Value ?? '', formats.get(p.Name) ?? 'release', p.LastModifiedDate));
          }
          for (const name of out.InvalidParameters ?? []) result.set(name, { kind: 'missing' });
        } catch (error) {
          for (const name of batch) result.set(name, { kind: 'error', message: describeError(error) });
        }
      }),
    ),
  );
  for (const name of names) if (!result.has(name)) result.set(name, { kind: 'missing' });
  return result;
}

function readValue(value: string, format: ParameterRequest['format'], publishedAt: Date | undefined): LatestRelease {
  const at = publishedAt ? { publishedAt } : {};
  if (format === 'release') return { kind: 'found', releaseVersion: value.trim(), ...at };
  if (format === 'image-id') {
    return /^ami-[0-9a-f]+$/.test(value.trim())
      ? { kind: 'image', imageId: value.trim(), ...at }
      : { kind: 'error', message: 'the parameter value is not an AMI id' };
  }
  try {
    const json = JSON.parse(value) as { release_version?: unknown; image_id?: unknown };
    const release = json.release_version;
    const imageId = typeof json.image_id === 'string' && json.image_id ? { imageId: json.image_id } : {};
    if (typeof release === 'string' && release) return { kind: 'found', releaseVersion: release, ...at, ...imageId };
  } catch {
    // fall through: reported below with the value's shape
  }
  return { kind: 'error', message: 'the parameter value is not a JSON object with a release_version' };
}

/** Versions of a parameter's history read at most (50 a page): years of releases. */
export const MAX_PARAMETER_HISTORY = 500;

/**
 * Every release a `release_version` (or JSON) parameter has named: GetParameterHistory. For a staged
 * rollout, the release of an older, proven train at a minor whose recommended value has moved on.
 * UNVERIFIED: whether GetParameterHistory answers for AWS's public parameters under /aws/service
 * (its reference only says a parameter shared from another account needs its full ARN; a user asked
 * for older recommended values to be published, aws/containers-roadmap#705). Both answers are handled:
 * a refusal is returned as an error, and the caller falls back on the releases the fleet runs.
 */
export async function readReleaseHistory(ssm: SSMClient, request: ParameterRequest): Promise<{ releases: string[] } | { error: string }> {
  try {
    const releases: string[] = [];
    for await (const page of paginateGetParameterHistory({ client: ssm, pageSize: 50 }, { Name: request.parameter })) {
      for (const p of page.Parameters ?? []) {
        const value = readValue(p.Value ?? '', request.format, undefined);
        if (value.kind === 'found') releases.push(value.releaseVersion);
      }
      if (releases.length >= MAX_PARAMETER_HISTORY) break;
    }
    return { releases: [...new Set(releases)] };
  } catch (error) {
    return { error: describeError(error) };
  }
}

/** Health-gate parameters read at most in one region (10 a page): far more node groups than a region holds. */
export const MAX_UNHEALTHY_PARAMETERS = 5000;

/**
 * The health gate's durable marks of one region: every parameter under UNHEALTHY_PARAMETER_PATH, in one
 * paginated GetParametersByPath (Recursive), keyed `<cluster>/<node group>`. GetParametersByPath is
 * authorized against the path asked for, not the parameters returned (Systems Manager user guide, "How
 * Parameter Store authorizes parameter retrieval"). A refusal (a role whose policy predates the
 * parameters) is returned as an error: the caller warns and goes on with the tags.
 */
export async function readUnhealthyParameters(ssm: SSMClient): Promise<{ marks: Map<string, UnhealthyMark> } | { error: string }> {
  const marks = new Map<string, UnhealthyMark>();
  const prefix = `${UNHEALTHY_PARAMETER_PATH}/`;
  try {
    let read = 0;
    for await (const page of paginateGetParametersByPath({ client: ssm, pageSize: 10 }, { Path: UNHEALTHY_PARAMETER_PATH, Recursive: true })) {
      for (const p of page.Parameters ?? []) {
        const key = p.Name?.startsWith(prefix) ? p.Name.slice(prefix.length) : '';
        const mark = key.split('/').length === 2 ? parseUnhealthyParameter(p.Value) : undefined;
        if (mark) marks.set(key, { ...mark, sources: ['parameter'] });
      }
      read += page.Parameters?.length ?? 0;
      if (read >= MAX_UNHEALTHY_PARAMETERS) break;
    }
    return { marks };
  } catch (error) {
    return { error: `${UNHEALTHY_PARAMETER_PATH}: ${describeError(error)}` };
  }
}

/** Merges each node group's parameter mark into what its tag said (mergeUnhealthy); merging twice changes nothing. */
export function applyUnhealthyParameters(clusters: readonly ClusterState[], marks: ReadonlyMap<string, UnhealthyMark>): void {
  for (const c of clusters) {
    for (const ng of c.nodegroups) {
      if (ng.error || ng.parameterRead) continue;
      ng.parameterRead = true;
      const merged = mergeUnhealthy(ng.unhealthy, marks.get(`${c.name}/${ng.name}`));
      if (merged) ng.unhealthy = merged;
    }
  }
}
