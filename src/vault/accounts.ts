/** The `accounts` part of the vault: people who signed in with Webex (team mode), one account per Webex person id. */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../oauth/types.js';
import { accountRecord } from './records.js';
import type { Store } from './store/types.js';
import { type AccountInput, type Vault, VaultError } from './types.js';

const isText = (v: unknown, max: number) => typeof v === 'string' && v.length <= max;

/** Checks an account at the vault's boundary. */
function validAccount(input: AccountInput): AccountInput {
  const bad = (field: string) => new VaultError('invalid_request', `Invalid account: ${field}.`);
  if (!isText(input?.personId, 512) || input.personId.trim().length === 0) {
    throw bad('personId must be a non-empty string');
  }
  if (!isText(input.email, 512)) throw bad('email must be a string');
  if (!isText(input.displayName, 512)) throw bad('displayName must be a string');
  if (input.orgId !== undefined && !isText(input.orgId, 512)) throw bad('orgId must be a string');
  return input;
}

/** The `accounts` part of the vault over a store; account ids are `acct_` + 12 random bytes (base64url). */
export function createAccounts(store: Store, clock: Clock): Vault['accounts'] {
  return {
    async upsert(raw) {
      const input = validAccount(raw);
      const now = clock();
      // The store keeps the id and createdAt of the person's existing account (ON CONFLICT (person_id)).
      const row = await store.upsertAccount({
        id: `acct_${randomBytes(12).toString('base64url')}`,
        personId: input.personId,
        email: input.email,
        displayName: input.displayName,
        orgId: input.orgId,
        createdAt: now,
        lastSignInAt: now,
      });
      return accountRecord(row);
    },
    async get(id) {
      const row = await store.getAccount(id);
      return row ? accountRecord(row) : undefined;
    },
    async list() {
      return (await store.listAccounts()).map(accountRecord);
    },
  };
}
