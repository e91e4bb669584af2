import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { blocks, DOC, readResults, renderDoc, renderSection } from '../bench/render.js';

/** docs/performance.md's figures are what `npm run bench` measured, as test/bench/results.json keeps them. */
describe('docs/performance.md', () => {
  const doc = readFileSync(DOC, 'utf8');
  const results = readResults();
  const marked = blocks(doc);

  it('has a table for every section of results.json, and no table results.json lacks', () => {
    expect([...marked.keys()].sort()).toEqual(Object.keys(results.sections).sort());
    // every marker line opens or closes a well-formed block
    expect(doc.match(/^<!-- bench:.*$/gm)).toHaveLength(marked.size);
    expect(doc.match(/^<!-- \/bench -->$/gm)).toHaveLength(marked.size);
  });

  it.each([...marked.keys()])('shows the bench:%s table exactly as results.json renders it', (name) => {
    expect(marked.get(name)).toBe(renderSection(results.sections[name]!));
  });

  it('is what the bench writes: rendering it again changes nothing', () => {
    expect(renderDoc(doc, results)).toBe(doc);
  });

  it('states no measured figure outside the tables', () => {
    const prose = doc.replace(/<!-- bench:[a-z-]+ -->[\s\S]*?<!-- \/bench -->/g, '');
    expect(prose.match(/\d[\d,.]*\s?(ms|s|×|x|%|KB|MB)(?![\w-])/g)).toBeNull();
  });
});
