/**
 * The server's one way to write the audit log (vault/audit.ts): the actor and address come from the request, and a
 * failure to record is logged at warn and never fails the action it describes.
 *
 * - Actor: a signed-in account `{kind: 'account', id, label: email}`; a script with the admin token
 *   `{kind: 'admin-token'}`; local mode's operator `{kind: 'local'}`; anyone else `{kind: 'anonymous'}`.
 * - Address: `request.ip` (the client, or the first untrusted hop behind TRUST_PROXY).
 */
import type { FastifyRequest } from 'fastify';
import { type AuditLog, plainText } from '../vault/audit.js';
import { type AuditActor, type AuditEntry, LOCAL_OPERATOR, VaultError } from '../vault/types.js';
import type { Principal } from './access/principal.js';

/** What a route gives {@link recordAudit}: the entry, with actor and address defaulting to the request's. */
export type AuditInput = Omit<AuditEntry, 'id' | 'at' | 'actor' | 'address'> & {
  actor?: AuditActor | undefined;
  address?: string | undefined;
};

/** Who a principal is, for the audit log. */
export function actorOf(principal: Principal | undefined | null): AuditActor {
  if (principal?.account) return { kind: 'account', id: principal.account.id, label: principal.account.email };
  if (principal?.via === 'admin-token') return { kind: 'admin-token' };
  if (principal?.ownerId === LOCAL_OPERATOR) return { kind: 'local' };
  return { kind: 'anonymous' };
}

/** The actor and client address of a request. */
export function auditFrom(request: FastifyRequest): { actor: AuditActor; address: string } {
  return { actor: actorOf(request.principal), address: request.ip.slice(0, 100) };
}

/** A connection's person as an entry's detail: `Display Name <email>`, plain text (Webex chose the name). */
export function personDetail(connection: { displayName: string; personEmail: string }): string {
  const email = connection.personEmail ? ` <${connection.personEmail}>` : '';
  return plainText(`${connection.displayName}${email}`, 200);
}

/** What the log keeps of a detail the vault refused (e.g. a display name shaped like a token): the event itself. */
const WITHHELD = '(detail withheld: not plain text)';

/**
 * Records `entry` for `request` in `target.vault`'s audit log; catches and logs (at warn, without the entry's text)
 * any failure. A detail the vault refuses is replaced by a fixed note, so no text can keep an action out of the log.
 */
export async function recordAudit(target: { vault: { audit: AuditLog } }, request: FastifyRequest, entry: AuditInput) {
  const audit = target.vault.audit;
  const from = auditFrom(request);
  const full = { ...entry, actor: entry.actor ?? from.actor, address: entry.address ?? from.address };
  try {
    try {
      await audit.record(full);
    } catch (error) {
      if (!(error instanceof VaultError && error.code === 'invalid_request' && full.detail !== undefined)) throw error;
      await audit.record({ ...full, detail: WITHHELD });
    }
  } catch (error) {
    request.log.warn(
      { err: { name: (error as Error).name, code: (error as { code?: unknown }).code }, action: entry.action },
      'audit log: entry not recorded',
    );
  }
}
