import pLimit from 'p-limit';
import type { Clients } from '../clients.js';
import { memberRoleArn, type Settings } from '../model/settings.js';
import { describeError } from '../fleet/aws-clients.js';
import type { CommandIo } from './io.js';

/*
 * The `accounts` input: each command runs once per member account, with that account's clients (its
 * role, assumed from the job's credentials) and its manifests, and the passes are merged. An account
 * whose role cannot be assumed is that account's error; the others go on.
 */

/** Accounts checked side by side: AWS's rate limits are per account and region, so each keeps its own calls in flight. */
export const ACCOUNTS_AT_ONCE = 4;

/** One account's settings: manifests under `<manifest-dir>/<account>`, proposals and pauses marked with it. */
export function forAccount(settings: Settings, account: string): Settings {
  return { ...settings, account, manifestDir: `${settings.manifestDir}/${account}` };
}

/** One account's pass: its result, or why its role could not be assumed. */
export type AccountPass<T> = { account: string; role: string } & ({ clients: Clients; result: T; error: null } | { error: string });

/**
 * Runs `work` in every account of `accounts`, `concurrency` at a time, in the accounts' order of
 * results. `work` gets the account's settings and clients; an account whose role cannot be assumed
 * is not worked on, and its error says which role and why.
 */
export async function eachAccount<T>(
  settings: Settings,
  clients: Clients,
  io: Pick<CommandIo, 'warn'>,
  concurrency: number,
  work: (settings: Settings, clients: Clients, account: string) => Promise<T>,
): Promise<AccountPass<T>[]> {
  const accounts = settings.accounts;
  if (!accounts) throw new Error('eachAccount: no accounts input');
  const limit = pLimit(concurrency);
  return Promise.all(
    accounts.ids.map((account) =>
      limit(async (): Promise<AccountPass<T>> => {
        const role = memberRoleArn(accounts, account);
        let member: Clients;
        try {
          member = await clients.member(account);
        } catch (error) {
          const reason = `role ${role} could not be assumed: ${describeError(error)}`;
          io.warn(`account ${account}: ${reason}; nothing was read or changed there`);
          return { account, role, error: reason };
        }
        return { account, role, clients: member, result: await work(forAccount(settings, account), member, account), error: null };
      }),
    ),
  );
}

/**
 * A CommandIo whose lines are kept until `flush`: accounts run side by side, and each one's lines
 * print together under its own group rather than interleaved.
 */
export function bufferedIo(io: CommandIo): { io: CommandIo; flush: (title: string) => Promise<void> } {
  const lines: { warn: boolean; text: string }[] = [];
  const buffered: CommandIo = {
    log: (text) => lines.push({ warn: false, text }),
    warn: (text) => lines.push({ warn: true, text }),
    group: async (title, work) => {
      lines.push({ warn: false, text: `— ${title}` });
      return work();
    },
  };
  return {
    io: buffered,
    flush: (title) =>
      io.group(title, async () => {
        for (const line of lines.splice(0)) (line.warn ? io.warn : io.log)(line.text);
      }),
  };
}
