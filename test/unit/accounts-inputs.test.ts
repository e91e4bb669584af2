import { afterEach, describe, expect, it } from '@jest/globals';
import { getSettings } from '../../src/action/inputs.js';
import { InputError } from '../../src/inputs/settings.js';
import { memberRoleArn } from '../../src/model/settings.js';

/** The `accounts` and `account-role` inputs (docs/accounts.md), read as the action reads them. */
const NAMES = ['accounts', 'account-role', 'role-session-name'];

function settings(inputs: Record<string, string>) {
  for (const name of NAMES) delete process.env[`INPUT_${name.toUpperCase()}`];
  for (const [name, value] of Object.entries(inputs)) process.env[`INPUT_${name.toUpperCase()}`] = value;
  return getSettings({ AWS_REGION: 'us-east-1' });
}

async function refused(inputs: Record<string, string>, input: string, ...mentions: string[]) {
  const error = await settings(inputs).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).input).toBe(input);
  expect((error as Error).message).toContain(`Input '${input}'`);
  for (const m of mentions) expect((error as Error).message).toContain(m);
}

afterEach(() => {
  for (const name of NAMES) delete process.env[`INPUT_${name.toUpperCase()}`];
});

describe('accounts and account-role', () => {
  it('without accounts: the job’s own account (null)', async () => {
    expect((await settings({})).accounts).toBeNull();
  });

  it('ids comma or newline separated, in order, duplicates dropped; a role name becomes the ARN in each account', async () => {
    const { accounts } = await settings({ accounts: '222222222222, 333333333333\n222222222222', 'account-role': 'eks-ami-drift' });
    expect(accounts).toEqual({
      ids: ['222222222222', '333333333333'],
      roleArn: 'arn:aws:iam::{account}:role/eks-ami-drift',
      sessionName: 'eks-ami-drift',
      durationSeconds: 3600,
    });
    expect(memberRoleArn(accounts!, '333333333333')).toBe('arn:aws:iam::333333333333:role/eks-ami-drift');
  });

  it('a role name with a path, and role-session-name as the member sessions’ name', async () => {
    const { accounts } = await settings({ accounts: '222222222222', 'account-role': 'automation/eks-ami-drift', 'role-session-name': 'drift-run' });
    expect(memberRoleArn(accounts!, '222222222222')).toBe('arn:aws:iam::222222222222:role/automation/eks-ami-drift');
    expect(accounts?.sessionName).toBe('drift-run');
  });

  it.each([
    ['arn:aws:iam::{account}:role/eks-ami-drift', 'arn:aws:iam::222222222222:role/eks-ami-drift'],
    ['arn:aws:iam::{account}:role/platform/eks-ami-drift', 'arn:aws:iam::222222222222:role/platform/eks-ami-drift'],
    ['arn:aws-us-gov:iam::{account}:role/eks-ami-drift', 'arn:aws-us-gov:iam::222222222222:role/eks-ami-drift'],
  ])('accepts the ARN %s', async (role, arn) => {
    const { accounts } = await settings({ accounts: '222222222222', 'account-role': role });
    expect(memberRoleArn(accounts!, '222222222222')).toBe(arn);
  });

  it.each(['12345', '1234567890123', 'prod-account', '22222222222a'])('refuses the account id %s, naming it and the accepted form', (id) =>
    refused({ accounts: `222222222222, ${id}`, 'account-role': 'eks-ami-drift' }, 'accounts', `"${id}"`, '12 digits'),
  );

  it('accounts without account-role: account-role is needed, in either form', () =>
    refused({ accounts: '222222222222' }, 'account-role', 'is needed with accounts', 'eks-ami-drift', 'arn:aws:iam::{account}:role/eks-ami-drift'));

  it('account-role without accounts is refused', () => refused({ 'account-role': 'eks-ami-drift' }, 'account-role', 'without accounts'));

  it('an ARN without {account} is refused, naming the accepted form', () =>
    refused(
      { accounts: '222222222222', 'account-role': 'arn:aws:iam::222222222222:role/eks-ami-drift' },
      'account-role',
      '"arn:aws:iam::222222222222:role/eks-ami-drift"',
      '{account}',
      'arn:aws:iam::{account}:role/eks-ami-drift',
    ));

  it('a role name with characters IAM does not allow is refused', () =>
    refused({ accounts: '222222222222', 'account-role': 'eks ami drift' }, 'account-role', '"eks ami drift"', 'is not a role name'));
});
