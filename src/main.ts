import * as core from '@actions/core';
import { getSettings } from './inputs.js';

/**
 * The main step. One `setFailed`, here or in the command; everything below throws or returns. The
 * clients and each command's step are chunks of dist/, loaded when the run reaches them: a check never
 * loads the upgrade, a bad input loads neither.
 */
export async function run(): Promise<void> {
  try {
    const settings = await getSettings();
    // After the inputs: a bad one stops the run before any client is loaded. The command's step and
    // the clients load side by side.
    const step =
      settings.command === 'upgrade'
        ? import('./steps/upgrade.js').then((m) => m.upgrade)
        : settings.command === 'restore'
          ? import('./steps/restore.js').then((m) => m.restore)
          : import('./steps/check.js').then((m) => m.check);
    step.catch(() => undefined); // awaited below; a failure is reported there, not as an unhandled rejection
    const clients = await (await import('./clients.js')).makeClients(settings);
    await (await step)(settings, clients);
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}
