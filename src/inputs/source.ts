/**
 * Where the settings come from: the action's inputs (../action/inputs.ts) or the command line's flags
 * (../cli/). Each input by its action.yml name, '' when not given. Nothing here knows which.
 */
export interface InputSource {
  get(input: string): string;
  /** Hides a secret (the GitHub token) from every later log line, the moment it is read. */
  mask(secret: string): void;
  env: NodeJS.ProcessEnv;
}

/** A bad input: names the input and the form it accepts. Raised before any AWS call. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`Input '${input}': ${message}`);
    this.name = 'InputError';
  }
}
