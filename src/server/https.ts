/**
 * A self-signed certificate for a redirect URI on `https://localhost`. node:crypto makes keys but no X.509
 * certificates, so the `openssl` command (present on macOS and nearly every Linux) makes one rather than a new
 * dependency. It is made once and kept (mode 0600) in the user data directory, so the browser warning is accepted once.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A PEM key and certificate for Node's https server. */
export interface TlsFiles {
  key: string;
  cert: string;
}

/** Why no certificate could be made: one sentence with what to do. */
export class CertificateError extends Error {
  override name = 'CertificateError';
}

/**
 * Returns the self-signed certificate for `hostname` kept under `dataDir/tls/`, making it first when missing.
 * @throws {CertificateError} when `openssl` is not available or fails.
 */
export function selfSignedCertificate(dataDir: string, hostname = 'localhost'): TlsFiles {
  const safeHost = hostname.replace(/[^A-Za-z0-9.-]/g, '') || 'localhost';
  const dir = join(dataDir, 'tls');
  const keyPath = join(dir, `${safeHost}.key.pem`);
  const certPath = join(dir, `${safeHost}.cert.pem`);
  if (!existsSync(keyPath) || !existsSync(certPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const san = /^\d+\.\d+\.\d+\.\d+$/.test(safeHost) ? `IP:${safeHost}` : `DNS:${safeHost},IP:127.0.0.1`;
    const result = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-sha256',
        '-days',
        '825',
        '-subj',
        `/CN=${safeHost}`,
        '-addext',
        `subjectAltName=${san}`,
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
    );
    if (result.error || result.status !== 0) {
      throw new CertificateError(
        'Cannot make a self-signed certificate for the https redirect URI: the openssl command is missing or failed. Install openssl, or register an http://localhost redirect URI.',
      );
    }
    chmodSync(keyPath, 0o600);
  }
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
}
