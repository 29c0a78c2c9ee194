/**
 * The OS keychain — macOS Keychain, Windows Credential Manager, the Secret Service of a Linux desktop (GNOME Keyring,
 * KWallet) — where the development key ring is kept when one can be reached.
 *
 * Why `@napi-rs/keyring`: one maintained N-API binding over the Rust `keyring` crate, with prebuilt binaries for every
 * platform (no node-gyp, no compile on install) and synchronous calls, which the vault's key resolution needs. It is
 * loaded only when a key is created in or read from the keychain, never on the key-file path.
 *
 * On Linux the entry is pinned to the Secret Service: the library's fallback, the kernel keyring, forgets everything at
 * reboot, which would orphan every secret of the store.
 */
import { createRequire } from 'node:module';

/** The keychain service name under which webex-auth keeps its development keys. */
export const KEYCHAIN_SERVICE = 'webex-auth';

/** A reachable OS keychain, one entry per account under {@link KEYCHAIN_SERVICE}. */
export interface Keychain {
  /** The secret stored for `account`, or undefined when there is none; throws when the keychain cannot be read. */
  get(account: string): string | undefined;
  /** Stores `secret` for `account`; throws when the keychain refuses (locked, prompt dismissed). */
  set(account: string, secret: string): void;
  /** Removes `account`'s entry; false when there was none. */
  delete(account: string): boolean;
}

interface KeyringEntry {
  getSecret(): number[] | null;
  setSecret(secret: Uint8Array): void;
  deleteCredential(): boolean;
}
type KeyringModule = {
  Entry: new (service: string, account: string, options?: { linux?: { store?: 'secret-service' } }) => KeyringEntry;
};

/** The keychain, or why there is none: the binding is missing for this platform, or its store cannot be reached. */
export type KeychainAccess = { keychain: Keychain } | { unavailable: string };

/** First line of an error's message, for a log line or a hint (the binding's errors carry no secrets). */
const reason = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

/**
 * Opens the OS keychain. Never throws: no binding for this platform, no D-Bus session bus (a server, a container, an
 * SSH session on Linux) and the like come back as `unavailable` with the reason.
 */
export function openKeychain(): KeychainAccess {
  let keyring: KeyringModule;
  try {
    // A plain require, so the bundler leaves the platform-specific binding to be resolved at run time.
    keyring = createRequire(import.meta.url)('@napi-rs/keyring') as KeyringModule;
  } catch (err) {
    return { unavailable: `no keychain binding for this platform (${reason(err)})` };
  }
  const entry = (account: string) =>
    new keyring.Entry(KEYCHAIN_SERVICE, account, { linux: { store: 'secret-service' } });
  try {
    // On Linux the constructor connects to the session bus, so this is the reachability check.
    entry('probe');
  } catch (err) {
    return { unavailable: reason(err) };
  }
  return {
    keychain: {
      get(account) {
        const secret = entry(account).getSecret();
        return secret ? Buffer.from(secret).toString('utf8') : undefined;
      },
      set(account, secret) {
        entry(account).setSecret(Buffer.from(secret, 'utf8'));
      },
      delete(account) {
        return entry(account).deleteCredential();
      },
    },
  };
}

/** The first line of a keychain error, safe to show (it names the failure, never a secret). */
export const keychainErrorReason = reason;
