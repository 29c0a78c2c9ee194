/** With a logger, the emulator logs requests but never a secret, code or token (canaries), even from query strings. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { CREDS, REDIRECT, start, token } from './helpers.js';

describe('emulator logging', () => {
  it('keeps canary secrets out of every log line', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const emu = await start({ autoConsent: 'alice@example.com', logger: createLogger({ destination, level: 'info' }) });
    try {
      const r = await fetch(
        `${emu.apiBase}/authorize?client_id=${CREDS.client_id}&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=spark%3Aall&state=CANARYSTATE`,
        { redirect: 'manual' },
      );
      const code = new URL(r.headers.get('location') as string).searchParams.get('code') as string;
      const q = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, ...CREDS });
      const t = await fetch(`${emu.apiBase}/access_token?${q}`, { method: 'POST' });
      const body = await t.json();
      await token(emu, { grant_type: 'refresh_token', refresh_token: body.refresh_token, ...CREDS });
      await fetch(`${emu.apiBase}/people/me`, { headers: { authorization: `Bearer ${body.access_token}` } });
      const log = lines.join('');
      expect(log).toContain('/v1/access_token');
      for (const secret of [CREDS.client_secret, code, body.access_token, body.refresh_token, 'CANARYSTATE'])
        expect(log).not.toContain(secret);
    } finally {
      await emu.close();
    }
  });
});
