/**
 * The vault `webex-auth serve` runs on, opened here rather than inside `buildApp` so the command can reach it: with
 * `WEBEX_AUTH_KEYS_FILE` set, SIGHUP reloads the key ring from that file (`vault.reloadKeys()`), so a key rotation
 * across a fleet needs no restart. The reload logs its outcome itself (the key ids loaded, or why it was refused and
 * the ring in use kept). Without the file, SIGHUP keeps Node's default (the process ends).
 */
import type { Config } from '../config.js';
import { createLogger } from '../log.js';
import { createTransport, type Transport } from '../transport/index.js';
import { openVault, type VaultInternals } from '../vault/vault.js';

/** The served vault and what `buildApp` shares with it. */
export interface ServedVault {
  vault: VaultInternals;
  /** The transport of every call out, which the vault and the web app share (see src/transport/). */
  transport: Transport;
  logger: ReturnType<typeof createLogger>;
  /** Removes the SIGHUP handler, stops keep-alive, closes the vault and the transport's connections. */
  close(): Promise<void>;
}

/** Opens the vault for `serve`, starts its keep-alive refresher and, with a keys file, reloads it on SIGHUP. */
export async function openServedVault(config: Config): Promise<ServedVault> {
  const logger = createLogger({ level: config.logLevel, name: 'webex-auth' });
  const transport = createTransport();
  let vault: VaultInternals;
  try {
    vault = await openVault(config, { fetch: transport.fetch, logger });
  } catch (err) {
    await transport.close();
    throw err;
  }
  const onHangup = () => {
    logger.info('SIGHUP: reloading the key ring from WEBEX_AUTH_KEYS_FILE');
    // Refused reloads are logged by the vault, which keeps the ring in use.
    vault.reloadKeys().catch(() => {});
  };
  if (config.keysFile) process.on('SIGHUP', onHangup);
  vault.startKeepAlive();
  return {
    vault,
    transport,
    logger,
    async close() {
      process.off('SIGHUP', onHangup);
      vault.stopKeepAlive();
      try {
        await vault.close();
      } finally {
        await transport.close();
      }
    },
  };
}
