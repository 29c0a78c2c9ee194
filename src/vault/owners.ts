/**
 * Owners. Every integration, connection and API key belongs to one owner, an opaque string the store indexes:
 *
 * - {@link LOCAL_OPERATOR} (`local`): the local operator — local mode, the CLI — and every row made before owners
 *   existed (migrations set it on existing rows). Callers that pass no owner act as the local operator, so the
 *   vault behaves for them as it did before owners.
 * - {@link CONFIGURED_OWNER} (`configured`): the integration configured by the environment (WEBEX_CLIENT_ID …). It
 *   owns that integration only; connections made with it belong to whoever authorized them.
 * - an account's id (`acct_…`, {@link Vault.accounts}): a person who signed in with Webex (team mode).
 *
 * Integrations are keyed by (owner, client id, API base) and connections by (integration, person, owner): the same
 * client id or the same Webex person brought by two owners are two rows, and no upsert ever changes another owner's
 * row. The vault does not decide who may use whose integration: the server does.
 */
import type { Store } from './store/types.js';
import { CONFIGURED_OWNER, LOCAL_OPERATOR, VaultError } from './types.js';

/** The longest owner id accepted (account ids are far shorter). */
const MAX_OWNER_LENGTH = 200;

/**
 * The owner a caller asked for: {@link LOCAL_OPERATOR} when none.
 * @throws {VaultError} `invalid_request` when it is not a non-empty string of at most 200 characters.
 */
export function ownerOf(ownerId: string | undefined): string {
  if (ownerId === undefined) return LOCAL_OPERATOR;
  if (typeof ownerId !== 'string' || ownerId.length === 0 || ownerId.length > MAX_OWNER_LENGTH) {
    throw new VaultError('invalid_request', 'Invalid owner id.');
  }
  return ownerId;
}

/**
 * Before the configured integration is upserted: when it has no row yet but the local operator has one with the
 * same client id and API base (made before owners existed, when the configured integration was stored as the local
 * operator's), hands that row to {@link CONFIGURED_OWNER}, so the connections made with it keep their integration.
 */
export async function adoptLocalIntegration(store: Store, clientId: string, apiBase: string): Promise<void> {
  if (await store.findIntegration(CONFIGURED_OWNER, clientId, apiBase)) return;
  const local = await store.findIntegration(LOCAL_OPERATOR, clientId, apiBase);
  if (!local) return;
  try {
    await store.setIntegrationOwner(local.id, LOCAL_OPERATOR, CONFIGURED_OWNER);
  } catch (err) {
    // Another process inserted the configured row meanwhile (unique key): theirs is the configured integration.
    if (!(await store.findIntegration(CONFIGURED_OWNER, clientId, apiBase))) throw err;
  }
}
