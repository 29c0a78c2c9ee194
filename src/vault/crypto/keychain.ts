/**
 * The OS keychain — macOS Keychain, Windows Credential Manager, the Secret Service of a Linux desktop (GNOME Keyring,
 * KWallet) — where the development key ring is kept when one can be reached.
 *
 * Why `@napi-rs/keyring`: one maintained N-API binding over the Rust `keyring` crate, with prebuilt binaries for every
 * platform (no node-gyp, no compile on install). Its async entries run off the main thread, so a keychain waiting on
 * an unlock prompt never stalls a serving process. It is loaded only when a key is created in or read from the
 * keychain, never on the key-file path.
 *
 * On Linux the entry is pinned to the Secret Service: the library's fallback, the kernel keyring, forgets everything at
 * reboot, which would orphan every secret of the store. There, making an entry connects to the session bus, so an
 * unreachable keychain shows up as `unavailable`; on macOS and Windows it shows up only when the entry is used.
 */
import { createRequire } from 'node:module';

/** The keychain service name under which webex-auth keeps its development keys. */
export const KEYCHAIN_SERVICE = 'webex-auth';

/** One keychain entry: service {@link KEYCHAIN_SERVICE}, one account. */
export interface KeychainEntry {
  /** The secret, or undefined when there is none; rejects when the keychain cannot be read (locked, refused). */
  get(): Promise<string | undefined>;
  /** Stores `secret`; rejects when the keychain refuses (locked, its unlock prompt dismissed). */
  set(secret: string): Promise<void>;
  /** Removes the entry; false when there was none. */
  delete(): Promise<boolean>;
}

interface AsyncEntry {
  getSecret(): Promise<number[] | null>;
  setSecret(secret: Uint8Array): Promise<void>;
  deleteCredential(): Promise<boolean>;
}
interface KeyringModule {
  AsyncEntry: new (service: string, account: string, options?: { linux?: { store?: 'secret-service' } }) => AsyncEntry;
  findCredentialsAsync(service: string): Promise<Array<{ account: string }>>;
}

/** The first line of an error's message: the binding's errors name the failure, never a secret. */
export function errorReason(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

let binding: KeyringModule | { unavailable: string } | undefined;
function loadBinding(): KeyringModule | { unavailable: string } {
  try {
    // A plain require, so the bundler leaves the platform-specific binding to be resolved at run time.
    binding ??= createRequire(import.meta.url)('@napi-rs/keyring') as KeyringModule;
  } catch (err) {
    binding = { unavailable: `no keychain binding for this platform (${errorReason(err)})` };
  }
  return binding;
}

/**
 * The keychain entry for `account`, or why there is none: no binding for this platform, no D-Bus session bus (a
 * server, a container) and the like. Never throws.
 */
export function keychainEntry(account: string): { entry: KeychainEntry } | { unavailable: string } {
  const keyring = loadBinding();
  if ('unavailable' in keyring) return keyring;
  let entry: AsyncEntry;
  try {
    entry = new keyring.AsyncEntry(KEYCHAIN_SERVICE, account, { linux: { store: 'secret-service' } });
  } catch (err) {
    return { unavailable: errorReason(err) };
  }
  return {
    entry: {
      get: async () => {
        const secret = await entry.getSecret();
        return secret ? Buffer.from(secret).toString('utf8') : undefined;
      },
      set: (secret) => entry.setSecret(Buffer.from(secret, 'utf8')),
      delete: () => entry.deleteCredential(),
    },
  };
}

/** The accounts under {@link KEYCHAIN_SERVICE} (names only, never secrets); empty when the keychain can't be read. */
export async function keychainAccounts(): Promise<string[]> {
  const keyring = loadBinding();
  if ('unavailable' in keyring) return [];
  try {
    return (await keyring.findCredentialsAsync(KEYCHAIN_SERVICE)).map((c) => c.account);
  } catch {
    return [];
  }
}

/** How a keychain entry is named in messages, logs and `doctor`. */
export function describeKeychainEntry(account: string): string {
  return `the OS keychain (service "${KEYCHAIN_SERVICE}", account ${JSON.stringify(account)})`;
}
