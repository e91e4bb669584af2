// `npm run demo` and `npm test` as the first command of a fresh clone: npm runs this first (`predemo`,
// `pretest`). It installs the locked dependencies when node_modules is missing or older than
// package-lock.json (npm's own hidden lockfile, node_modules/.package-lock.json, is written at each
// install; a pull that changes the lock makes it stale), and does nothing otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const hidden = 'node_modules/.package-lock.json';
const stale = !existsSync(hidden) || statSync(hidden).mtimeMs < statSync('package-lock.json').mtimeMs;
if (stale) {
  console.error('Installing the locked dependencies (npm ci): node_modules is missing or older than package-lock.json.');
  const run = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}
