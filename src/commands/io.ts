/**
 * How a command speaks while it runs: the runner's log (../action/), or a terminal (../cli/). Function-typed
 * properties, not methods: the commands hand `log` and `warn` on by themselves, and no implementation
 * uses `this`.
 */
export interface CommandIo {
  log: (line: string) => void;
  warn: (line: string) => void;
  /** Groups the lines `work` logs under a title (the runner folds them; a terminal prints a heading). */
  group: <T>(title: string, work: () => Promise<T>) => Promise<T>;
}
