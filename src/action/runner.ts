import * as core from '@actions/core';
import type { ClientHooks } from '../clients.js';
import type { CommandIo } from '../commands/io.js';

/** The runner's log, as the commands speak: info lines, warning annotations, folded groups. */
export const runnerIo: CommandIo = {
  log: (line) => core.info(line),
  warn: (line) => core.warning(line),
  group: (title, work) => core.group(title, work),
};

/** What the clients need of the runner: masks, the job's OIDC token, the log. */
export const runnerHooks: ClientHooks = {
  mask: (secret) => core.setSecret(secret),
  getIdToken: (audience) => core.getIDToken(audience),
  log: (line) => core.info(line),
};
