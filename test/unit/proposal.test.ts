import { describe, expect, it } from '@jest/globals';
import { editedByPerson, marker, signBody } from '../../src/report/proposal-body.js';

describe('the proposal body the action signs', () => {
  const body = `${marker('pr', 'us-east-1', 'prod')}\n<!-- eks-ami-drift:targets abc -->\nNewer releases are published.\n\n| a | b |`;

  it('tells its own text from a person’s edit, whatever the edit', () => {
    const signed = signBody(body);
    expect(signed).toMatch(/^<!-- eks-ami-drift:pr us-east-1\/prod -->\n<!-- eks-ami-drift:body [0-9a-f]{12} -->\n/);
    expect(editedByPerson(signed)).toBe(false);
    expect(editedByPerson(`${signed}\nPlease hold.`)).toBe(true);
    expect(editedByPerson(signed.replace('Newer', 'newer'))).toBe(true);
  });

  it('takes a body of an earlier version (marker, no hash) as its own, and a body with no marker as a person’s', () => {
    expect(editedByPerson(body)).toBe(false);
    expect(editedByPerson('Written by hand')).toBe(true);
    expect(editedByPerson(null)).toBe(true);
  });
});
