import * as core from '@actions/core';
import type { PauseRecord } from '../model/pause.js';
import type { Settings } from '../model/settings.js';
import { getSettings } from './inputs.js';

/**
 * The main step: the inputs, the clients, the command, its outputs; then the one `setFailed` of the
 * action, with the command's reason (or the error that stopped it). The clients and each command are
 * chunks of dist/, loaded when the run reaches them: a check never loads the upgrade, a bad input
 * loads neither.
 */
export async function run(): Promise<void> {
  let failure: string | null;
  try {
    failure = await runCommand(await getSettings());
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
  }
  if (failure) core.setFailed(failure);
}

async function runCommand(settings: Settings): Promise<string | null> {
  // The command and the clients load side by side, after the inputs.
  const loading = Promise.all([import('../clients.js'), import('./runner.js'), import('./outputs.js')]);
  const [{ makeClients }, { runnerHooks, runnerIo }, outputs] = await loading;
  const clients = await makeClients(settings, runnerHooks);
  switch (settings.command) {
    case 'check': {
      const { check } = await import('../commands/check.js');
      const { report, failure } = await check(settings, clients, runnerIo);
      await outputs.writeCheckOutputs(report);
      return failure;
    }
    case 'upgrade': {
      const [{ upgrade }, { context }] = await Promise.all([import('../commands/upgrade.js'), import('@actions/github')]);
      const { report, summary, failure } = await upgrade(settings, clients, runnerIo, {
        sha: context.sha,
        eventName: context.eventName,
        workspace: process.env.GITHUB_WORKSPACE,
        env: process.env,
        recordPause: pauseRecorder(),
      });
      await outputs.writeUpgradeOutputs(report, summary);
      return failure;
    }
    case 'restore': {
      const { restore } = await import('../commands/restore.js');
      const { result, failure } = await restore(settings, clients, runnerIo);
      await outputs.writeRestoreOutputs(result);
      return failure;
    }
  }
}

/** Every pause in force, saved whole in the step's state each time one starts or ends: what the post step restores. */
function pauseRecorder(): (cluster: { name: string; region: string; account?: string }, pause: PauseRecord | null) => void {
  const pauses = new Map<string, PauseRecord>();
  return (cluster, pause) => {
    const key = `${cluster.account ?? ''}/${cluster.region}/${cluster.name}`;
    if (pause) pauses.set(key, pause);
    else pauses.delete(key);
    core.saveState('pauses', JSON.stringify([...pauses.values()]));
  };
}
