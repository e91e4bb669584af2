import * as core from '@actions/core';
import type { Settings } from '../model/settings.js';
import { parseSettings } from '../inputs/settings.js';

/** The action's inputs as the runner gives them (INPUT_* variables), validated into the settings. No other module reads an input. */
export function getSettings(env: NodeJS.ProcessEnv = process.env): Promise<Settings> {
  return parseSettings({ get: (input) => core.getInput(input), mask: (secret) => core.setSecret(secret), env });
}
