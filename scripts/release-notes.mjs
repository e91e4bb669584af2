#!/usr/bin/env node
// Prints the section of CHANGELOG.md for a version (`## [1.2.3] ...` up to the next `## `), for the
// release workflow's notes. Exits 1, saying so, when the changelog has no section for it.
import { readFileSync } from 'node:fs';

const version = process.argv[2] ?? '';
const text = readFileSync(new URL('../CHANGELOG.md', import.meta.url), 'utf8');
const sections = text.split(/^(?=## )/m);
const section = sections.find((s) => s.startsWith(`## [${version}]`));
if (!version || !section) {
  console.error(`CHANGELOG.md has no section "## [${version}]": add one before tagging v${version}`);
  process.exit(1);
}
process.stdout.write(`${section.split('\n').slice(1).join('\n').trim()}\n`);
