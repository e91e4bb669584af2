import { InputError, type InputSource } from './source.js';
import type { AccountSettings } from '../model/settings.js';

// An AWS account id: twelve digits.
const ACCOUNT_ID = /^\d{12}$/;
// An IAM role name with an optional path (IAM: names of 1-64 of letters, digits and _+=,.@-; paths of / and the same).
const ROLE_NAME = /^([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
// arn:<partition>:iam::{account}:role/path/name: the member role's ARN, {account} where the id goes.
const ROLE_TEMPLATE = /^arn:aws[a-z-]*:iam::\{account\}:role\/[\w+=,.@/-]{1,512}$/;

/**
 * STS keeps a session assumed with the credentials of another assumed role ("role chaining") to at
 * most one hour, and fails an AssumeRole that asks for more (STS API reference, AssumeRole,
 * DurationSeconds; IAM user guide, "Role terms and concepts", role chaining). The job's credentials
 * are an assumed role in the usual case (role-to-assume, aws-actions/configure-aws-credentials), so
 * every member session lasts one hour and the action renews it five minutes before it ends.
 */
export const CHAINED_SESSION_SECONDS = 3600;

/**
 * `accounts` and `account-role`: the member accounts the run reads and changes, each through a role
 * assumed from the job's credentials. Empty `accounts`: the job's own account, as without the input.
 */
export function getAccountSettings(src: InputSource, sessionName: string): AccountSettings | null {
  const ids = [
    ...new Set(
      src
        .get('accounts')
        .split(/[,\s]+/)
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  const role = src.get('account-role').trim();
  for (const id of ids) {
    if (!ACCOUNT_ID.test(id)) throw new InputError('accounts', `${JSON.stringify(id)} is not an account id: expected 12 digits, comma or newline separated`);
  }
  if (ids.length === 0) {
    if (role) throw new InputError('account-role', 'is given without accounts: set accounts to the member account ids, or leave account-role empty');
    return null;
  }
  if (!role) {
    throw new InputError(
      'account-role',
      'is needed with accounts: the role to assume in each account, as a name (eks-ami-drift) or an ARN with {account} ' +
        '(arn:aws:iam::{account}:role/eks-ami-drift)',
    );
  }
  let roleArn: string;
  if (role.startsWith('arn:')) {
    if (!ROLE_TEMPLATE.test(role)) {
      throw new InputError(
        'account-role',
        `${JSON.stringify(role)} is not valid: expected a role ARN with {account} in place of the account id, ` +
          'such as arn:aws:iam::{account}:role/eks-ami-drift',
      );
    }
    roleArn = role;
  } else {
    if (!ROLE_NAME.test(role)) {
      throw new InputError('account-role', `${JSON.stringify(role)} is not a role name: expected 1 to 64 letters, digits or _+=,.@- (a path before it with /)`);
    }
    roleArn = `arn:aws:iam::{account}:role/${role}`;
  }
  return { ids, roleArn, sessionName, durationSeconds: CHAINED_SESSION_SECONDS };
}
