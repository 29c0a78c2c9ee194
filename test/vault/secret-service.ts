/**
 * A real, private OS keychain for tests on Linux: a D-Bus session bus of its own and GNOME Keyring's Secret Service on
 * it, with its keyrings in a temp directory (the user's own keyrings are never touched). `unlocked: false` leaves the
 * keyring daemon to be started on demand with no login keyring, so storing anything needs an unlock prompt that cannot
 * show: the "keychain refuses" case.
 *
 * Needs Debian's dbus, gnome-keyring and libsecret-tools (`secret-tool`, to look entries up independently). The tests
 * skip when they are missing, unless REQUIRE_KEYCHAIN=1, when they fail.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYCHAIN_SERVICE } from '../../src/vault/crypto/keychain.js';

const TOOLS = ['/usr/bin/dbus-daemon', '/usr/bin/dbus-send', '/usr/bin/gnome-keyring-daemon', '/usr/bin/secret-tool'];

/** True when the tools are installed; throws when they are not and REQUIRE_KEYCHAIN=1. */
export function secretServiceAvailable(): boolean {
  const missing = TOOLS.filter((t) => !existsSync(t));
  if (missing.length > 0 && process.env.REQUIRE_KEYCHAIN === '1') {
    throw new Error(
      `REQUIRE_KEYCHAIN=1 but ${missing.join(', ')} missing (apt-get install dbus gnome-keyring libsecret-tools)`,
    );
  }
  return missing.length === 0 && process.platform === 'linux';
}

/** A running private Secret Service. */
export interface SecretService {
  /** The environment that reaches it (merge into a child's env, or into process.env for in-process use). */
  env: Record<string, string>;
  /** Looks an entry up with `secret-tool`, independently of our binding. */
  lookup(account: string): string | undefined;
  stop(): Promise<void>;
}

/** Starts a session bus and, when `unlocked`, an unlocked GNOME Keyring Secret Service on it. */
export async function startSecretService({ unlocked }: { unlocked: boolean }): Promise<SecretService> {
  const root = mkdtempSync(join(tmpdir(), 'webex-auth-keychain-'));
  const runtime = join(root, 'run');
  mkdirSync(runtime, { mode: 0o700 });
  // No display: a keyring daemon the bus starts on demand must not put an unlock prompt on a developer's screen.
  const { DISPLAY: _x, WAYLAND_DISPLAY: _w, DBUS_SESSION_BUS_ADDRESS: _b, ...inherited } = process.env;
  const base = { ...inherited, XDG_DATA_HOME: join(root, 'data'), XDG_RUNTIME_DIR: runtime, HOME: root };
  const bus = spawn('dbus-daemon', ['--session', '--nofork', '--nopidfile', '--print-address=1'], {
    env: base,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    bus.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    bus.once('exit', (code) => reject(new Error(`dbus-daemon exited (${code})`)));
  });
  const env = {
    DBUS_SESSION_BUS_ADDRESS: address,
    XDG_RUNTIME_DIR: runtime,
    XDG_DATA_HOME: base.XDG_DATA_HOME,
  };
  let keyring: ChildProcess | undefined;
  const stop = async () => {
    keyring?.kill();
    bus.kill();
    // A daemon the bus started on demand exits with the bus.
    await new Promise((r) => setTimeout(r, 50));
    rmSync(root, { recursive: true, force: true });
  };
  if (unlocked) {
    try {
      await startUnlockedKeyring();
    } catch (err) {
      await stop();
      throw err;
    }
  }
  async function startUnlockedKeyring() {
    keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
      env: { ...base, ...env },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    keyring.stdin?.end('test-keyring-password');
    // Ready when it owns the Secret Service's bus name (asking the service itself earlier would make the bus start
    // a second, locked daemon on demand).
    for (let i = 0; ; i++) {
      const owned = execFileSync(
        'dbus-send',
        [
          '--session',
          '--dest=org.freedesktop.DBus',
          '--print-reply',
          '/org/freedesktop/DBus',
          'org.freedesktop.DBus.NameHasOwner',
          'string:org.freedesktop.secrets',
        ],
        { env: { ...base, ...env }, encoding: 'utf8' },
      );
      if (owned.includes('boolean true')) break;
      if (i > 200) throw new Error('gnome-keyring-daemon did not come up');
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  return {
    env,
    lookup(account) {
      try {
        return execFileSync('secret-tool', ['lookup', 'service', KEYCHAIN_SERVICE, 'username', account], {
          env: { ...base, ...env },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        });
      } catch {
        return undefined;
      }
    },
    stop,
  };
}
