/**
 * The CLI's one way to write the audit log: the actor is `cli` and so is the address. The command's action stands
 * whatever happens to its entry; a failure is reported as one warning line (or ignored when `warn` is not given).
 */
import type { AuditEntry, Vault } from '../vault/types.js';

/** What a command gives {@link recordCliAudit}: the entry without actor, address, id and time. */
export type CliAuditInput = Omit<AuditEntry, 'id' | 'at' | 'actor' | 'address'>;

/** Records `entry` as done by the CLI; never throws. */
export async function recordCliAudit(
  vault: Pick<Vault, 'audit'>,
  entry: CliAuditInput,
  warn?: (line: string) => void,
): Promise<void> {
  try {
    await vault.audit.record({ ...entry, actor: { kind: 'cli' }, address: 'cli' });
  } catch {
    // The message is not shown: a driver's message may quote what was being written.
    warn?.('The audit log entry of this action could not be written.');
  }
}
