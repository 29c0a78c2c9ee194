/**
 * Reloading the key ring while the vault serves (`vault.reloadKeys()`, run by `webex-auth serve` on SIGHUP when
 * `WEBEX_AUTH_KEYS_FILE` is set): a rotation across a fleet then needs no restart.
 *
 * The new ring is read from the file and checked before anything changes: it must hold every key id that stored
 * integrations and connections are encrypted under, and open one stored value under each. Otherwise the reload is
 * refused, an error is logged, and the ring in use stays. On success the one {@link KeyRing} object every part of the
 * vault holds is swapped in place, the derived cookie/CSRF key arrays handed out earlier are refilled in place, and
 * the caller drops decrypted tokens it holds.
 */
import type { Logger } from 'pino';
import { ConfigError } from '../config.js';
import { KeyRing, type SecretSlot } from './crypto/keyring.js';
import { keysFileOrigin, readKeysFile } from './crypto/keys-file.js';
import { accessSlot, refreshSlot, secretSlot } from './slots.js';
import { CONNECTION_PAGE, connectionPages } from './store/pages.js';
import type { Store } from './store/types.js';
import { type KeyReloadResult, VaultKeyError } from './types.js';

/** What {@link LiveKeys} needs. */
export interface LiveKeysOptions {
  /** The ring every part of the vault holds; swapped in place. */
  ring: KeyRing;
  store: Pick<Store, 'listIntegrations' | 'pageConnections'>;
  /** `WEBEX_AUTH_KEYS_FILE`. */
  keysFile: string | undefined;
  logger?: Logger | undefined;
  /** Runs after a swap (the vault drops the decrypted tokens it holds). */
  onReload?: () => void;
  /** Connections read per page while checking the stored key ids (default {@link CONNECTION_PAGE}). */
  pageSize?: number | undefined;
}

/** The key ring as the running vault sees it: derived keys that follow reloads, and the reload itself. */
export class LiveKeys {
  /** Derived keys by purpose: the very arrays handed out, refilled in place on reload. */
  private readonly derived = new Map<string, Buffer[]>();
  /** Reloads run one after another (two SIGHUPs in a row). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: LiveKeysOptions) {}

  /**
   * Keys derived from the ring for `purpose` (see {@link KeyRing.deriveKeys}), as one array per purpose that a reload
   * refills in place: a holder that reads it at each use (first signs, any verifies) follows the new ring.
   */
  deriveKeys(purpose: string): Buffer[] {
    let keys = this.derived.get(purpose);
    if (!keys) {
      keys = this.o.ring.deriveKeys(purpose);
      this.derived.set(purpose, keys);
    }
    return keys;
  }

  /** Reads the keys file, checks it against the store, and swaps the ring (see the module comment). */
  reload(): Promise<KeyReloadResult> {
    const run = this.queue.then(() => this.reloadNow());
    this.queue = run.catch(() => {});
    return run;
  }

  private async reloadNow(): Promise<KeyReloadResult> {
    const { ring, keysFile: path, logger } = this.o;
    try {
      if (!path) {
        throw new ConfigError(
          'WEBEX_AUTH_KEYS_FILE is not set: there is no key ring file to reload.',
          'WEBEX_AUTH_KEYS_FILE',
        );
      }
      const keys = readKeysFile(path);
      const origin = keysFileOrigin(path);
      const candidate = new KeyRing(keys, origin);
      for (const [kid, sample] of await this.storedKeyIds()) {
        if (!keys.some((k) => k.kid === kid)) {
          throw new VaultKeyError(
            `${origin} lacks key "${kid}", which stored data is still encrypted under (run \`webex-auth keys rotate\` first, or keep that key in the file).`,
          );
        }
        try {
          candidate.decrypt(sample.enc, sample.slot);
        } catch {
          throw new VaultKeyError(`Key "${kid}" in ${origin} is not the key stored data was encrypted with.`);
        }
      }
      ring.replace(keys, origin);
      for (const [purpose, derived] of this.derived) derived.splice(0, derived.length, ...ring.deriveKeys(purpose));
      this.o.onReload?.();
      const keyIds = keys.map((k) => k.kid);
      logger?.info(
        { keyIds, activeKeyId: ring.activeKeyId },
        `vault: key ring reloaded from ${path}: ${keyIds.join(', ')} (${ring.activeKeyId} encrypts)`,
      );
      return { keyIds, path };
    } catch (err) {
      const e = err as Error;
      logger?.error(
        { err: { name: e.name, message: e.message } },
        `vault: key ring reload refused, the ring in use (${ring.keys.map((k) => k.kid).join(', ')}) is kept: ${e.message}`,
      );
      throw err;
    }
  }

  /** Every key id stored integrations and connections are encrypted under, with one value sealed under each. */
  private async storedKeyIds(): Promise<Map<string, { enc: string; slot: SecretSlot }>> {
    const { ring, store } = this.o;
    const found = new Map<string, { enc: string; slot: SecretSlot }>();
    const note = (enc: string, slot: SecretSlot) => {
      const kid = ring.keyIdOf(enc);
      if (kid !== undefined && !found.has(kid)) found.set(kid, { enc, slot });
    };
    for (const r of await store.listIntegrations()) note(r.secretEnc, secretSlot(r.id));
    for await (const page of connectionPages(store, {}, this.o.pageSize)) {
      for (const r of page) {
        note(r.accessTokenEnc, accessSlot(r.id));
        note(r.refreshTokenEnc, refreshSlot(r.id));
      }
    }
    return found;
  }
}
