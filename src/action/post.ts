import * as core from '@actions/core';
import type { PauseRecord } from '../model/pause.js';

/**
 * The post step (`post-if: always()`): runs after the main step even when it failed, timed out or
 * was cancelled, and restores any cluster-autoscaler the main step paused and did not restore.
 * Restoring twice is harmless. Problems here are warnings, never a second failure.
 */
export async function post(): Promise<void> {
  const pauses = JSON.parse(core.getState('pauses') || '[]') as PauseRecord[];
  if (pauses.length === 0) return;
  try {
    // What a restore needs (the inputs, the EKS and Kubernetes clients) is a chunk of dist/: a post
    // step with nothing paused, the common case, loads none of it.
    const [{ getSettings }, { makeClients }, { restoreRecorded }, { runnerHooks, runnerIo }] = await Promise.all([
      import('./inputs.js'),
      import('../clients.js'),
      import('../commands/restore.js'),
      import('./runner.js'),
    ]);
    const settings = await getSettings();
    await restoreRecorded(settings, await makeClients(settings, runnerHooks), pauses, runnerIo);
  } catch (error) {
    core.warning(`post step: ${error instanceof Error ? error.message : String(error)}`);
  }
}
