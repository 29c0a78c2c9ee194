/**
 * The answer while stored data is encrypted under a key this server's ring lacks (another process rotated to a key
 * not loaded here yet): 503 with `Retry-After`, naming the key id — problem+json `vault_key_unavailable` on the API,
 * an error page elsewhere. Temporary by nature: loading the new ring (SIGHUP with WEBEX_AUTH_KEYS_FILE) or a restart
 * with it ends it, so it is never a 500.
 */
import type { FastifyReply } from 'fastify';
import { type Vault, VaultKeyError } from '../vault/types.js';
import { sendProblem } from './routes/api/problem.js';

/** Seconds a client is asked to wait before retrying. */
export const KEY_UNAVAILABLE_RETRY_AFTER = 30;

/** The problem detail for a missing key `keyId` (an id, never a key). */
export function keyUnavailableDetail(keyId: string): string {
  return `Stored data is encrypted under key "${keyId}", which this server's key ring lacks; load the new ring (SIGHUP with WEBEX_AUTH_KEYS_FILE) or restart with it.`;
}

/** The missing key id when `error` is a {@link VaultKeyError} for a key the ring lacks; else undefined. */
export function missingKeyOf(error: unknown): string | undefined {
  return error instanceof VaultKeyError ? error.keyId : undefined;
}

/**
 * The key id stored data was recently met under and this server's ring lacks ({@link Vault.missingKeyId}); undefined
 * when none, or for a stand-in vault without that call.
 */
export function vaultMissingKey(vault: object): string | undefined {
  return (vault as Partial<Pick<Vault, 'missingKeyId'>>).missingKeyId?.();
}

/** Answers 503 for a request that met data under `keyId`: problem+json under `/api/`, an error page elsewhere. */
export function sendKeyUnavailable(reply: FastifyReply, keyId: string): FastifyReply {
  reply.request.log.warn({ keyId }, 'stored data is encrypted under a key this server lacks');
  const detail = keyUnavailableDetail(keyId);
  const retryAfter = String(KEY_UNAVAILABLE_RETRY_AFTER);
  if (reply.request.url.startsWith('/api/')) {
    return sendProblem(reply, 503, 'vault_key_unavailable', detail, { 'retry-after': retryAfter });
  }
  return reply.header('retry-after', retryAfter).header('cache-control', 'no-store').errorPage({
    status: 503,
    title: 'Encryption key not loaded yet',
    explanation: detail,
    action: 'Try again in a minute. If you run this server, load the new key ring into it.',
    code: 'vault_key_unavailable',
  });
}
