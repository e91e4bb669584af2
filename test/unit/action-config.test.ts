import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parseAction } from '@actions/workflow-parser/actions/action-parser';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('the files GitHub reads', () => {
  it('action.yml parses with GitHub’s own parser and runs dist/index.js on node24', () => {
    const content = read('action.yml');
    const result = parseAction({ name: 'action.yml', content }, new NoOperationTraceWriter());
    expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    expect(parse(content).runs).toMatchObject({ using: 'node24', main: 'dist/index.js' });
  });

  it('declares exactly the inputs the action reads, each with a description', () => {
    const action = parse(read('action.yml')) as { inputs: Record<string, { description?: string }> };
    const source = read('src/inputs.ts');
    const read_ = new Set([...source.matchAll(/(?:getInput|list|bool|duration)\('([a-z-]+)'/g)].map((m) => m[1]));
    expect(new Set(Object.keys(action.inputs))).toEqual(read_);
    for (const [name, input] of Object.entries(action.inputs)) expect([name, (input.description?.length ?? 0) > 20]).toEqual([name, true]);
  });

  const workflows = readdirSync(new URL('.github/workflows/', root)).filter((f) => /\.ya?ml$/.test(f));
  it('has workflows to check', () => expect(workflows.length).toBeGreaterThan(0));
  it.each(workflows)('workflow %s parses with GitHub’s own parser', (file) => {
    const result = parseWorkflow({ name: file, content: read(`.github/workflows/${file}`) }, new NoOperationTraceWriter());
    expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    expect(result.value).toBeDefined();
  });

  it('runs the tests on Node 24, the runtime GitHub gives the action', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });
});
