/**
 * What the web pages that force a refresh share (the connection page's "Refresh now" and the admin dashboard): the
 * audit entry of a forced or refused refresh, and the words for "refreshed moments ago, try again in N s". The vault
 * limits forced refreshes per connection (FORCED_REFRESH_MIN_INTERVAL); see Vault.connections.refresh.
 */
import type { FastifyRequest } from 'fastify';
import type { Vault } from '../../vault/types.js';
import { recordAudit } from '../audit.js';

/**
 * Records a forced refresh (`refresh.forced`: it was allowed to run, whatever its outcome) or a refused one
 * (`refresh.refused`: inside the interval), through the server's one audit helper.
 */
export function auditRefresh(
  vault: Pick<Vault, 'audit'>,
  request: FastifyRequest,
  action: 'refresh.forced' | 'refresh.refused',
  connection: { id: string; ownerId: string },
  detail?: string,
): Promise<void> {
  return recordAudit({ vault }, request, {
    action,
    target: connection.id,
    ownerId: connection.ownerId,
    ...(detail ? { detail } : {}),
  });
}

/** Whole seconds to wait, from a `rate_limited` VaultError's `retryAfter` (at least 1, at most a day). */
export function retrySeconds(retryAfter: number | undefined): number {
  const s = Math.ceil(retryAfter ?? 1);
  return Number.isFinite(s) ? Math.min(86_400, Math.max(1, s)) : 1;
}

/** The sentence a page shows when a forced refresh was refused. */
export function refusedText(seconds: number): string {
  return `This connection was refreshed moments ago: a forced refresh can run again in ${seconds} s.`;
}
