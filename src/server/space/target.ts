/** Where Webex can deliver the space demo's webhook, if anywhere. */
import type { AddressInfo } from 'node:net';
import type { Config } from '../../config.js';

/** The receiver's path. */
export const SPACE_WEBHOOK_PATH = '/space/webhook';

/**
 * The webhook target URL: under `PUBLIC_URL` when it is https (Webex delivers only there), else in demo mode this
 * server's own loopback address (the emulator runs beside it). Undefined — poll instead — when Webex cannot reach this
 * server: not listening yet, served over https with a self-signed certificate, or bound to a non-loopback address only.
 */
export function webhookTarget(
  config: Pick<Config, 'publicUrl' | 'mode'>,
  address: AddressInfo | string | null,
  tls: boolean,
  path: string = SPACE_WEBHOOK_PATH,
): string | undefined {
  if (config.publicUrl?.startsWith('https://')) return `${config.publicUrl}${path}`;
  if (config.mode !== 'demo' || tls || !address || typeof address === 'string') return undefined;
  const a = address.address;
  const host =
    a === '0.0.0.0' || a === '::' || a.startsWith('127.')
      ? a.startsWith('127.')
        ? a
        : '127.0.0.1'
      : a === '::1'
        ? '[::1]'
        : undefined;
  return host ? `http://${host}:${address.port}${path}` : undefined;
}
