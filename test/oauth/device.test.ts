import { describe, expect, it } from 'vitest';
import { pollDeviceToken, startDeviceAuthorization } from '../../src/oauth/device.js';
import { ScopeError, WebexOAuthError } from '../../src/oauth/errors.js';
import { fakeFetch, integration, json, tokenBody } from './helpers.js';

const deviceAnswer = {
  device_code: 'DC-1',
  user_code: 'ABCD-EFGH',
  verification_uri: 'https://webexapis.example/v1/device/verify',
  verification_uri_complete: 'https://webexapis.example/v1/device/verify?user_code=ABCD-EFGH',
  expires_in: 300,
  interval: 2,
};

describe('startDeviceAuthorization', () => {
  it('POSTs client_id and scope to /device/authorize and maps the answer', async () => {
    const { fetch, seen } = fakeFetch(json(deviceAnswer));
    const d = await startDeviceAuthorization(integration, ['spark:people_read'], { fetch });
    expect(seen[0]?.url).toBe('https://webexapis.example/v1/device/authorize');
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({
      client_id: integration.clientId,
      scope: 'spark:people_read',
    });
    expect(d).toEqual({
      deviceCode: 'DC-1',
      userCode: 'ABCD-EFGH',
      verificationUri: deviceAnswer.verification_uri,
      verificationUriComplete: deviceAnswer.verification_uri_complete,
      expiresIn: 300,
      interval: 2,
      scopes: ['spark:people_read'],
    });
  });

  it('refuses OIDC scopes and unknown scopes before calling Webex', async () => {
    await expect(
      startDeviceAuthorization(integration, ['openid'], { fetch: fakeFetch().fetch }),
    ).rejects.toBeInstanceOf(ScopeError);
    await expect(startDeviceAuthorization(integration, ['x:y'], { fetch: fakeFetch().fetch })).rejects.toThrow(/x:y/);
  });

  it('maps the gateway envelope error (bad client id) and a malformed answer', async () => {
    const bad = fakeFetch(
      json({ message: 'Bad Request', errors: [{ description: 'Client Id is invalid' }], trackingId: 'T' }, 400),
    );
    await expect(startDeviceAuthorization(integration, ['spark:all'], { fetch: bad.fetch })).rejects.toMatchObject({
      description: 'Client Id is invalid',
      status: 400,
    });
    const odd = fakeFetch(json({ device_code: 'x' }));
    await expect(startDeviceAuthorization(integration, ['spark:all'], { fetch: odd.fetch })).rejects.toMatchObject({
      code: 'invalid_response',
    });
  });
});

describe('pollDeviceToken', () => {
  const pending428 = () => json({ error: 'authorization_pending' }, 428);

  it('waits through 428 authorization_pending and slow_down (+5 s), then returns the token set', async () => {
    const { fetch, seen } = fakeFetch(
      pending428(),
      new Response('', { status: 428 }),
      json({ error: 'slow_down' }, 400),
      json(tokenBody({ expires_in: 64799, scope: undefined })),
    );
    const waits: number[] = [];
    const polls: string[] = [];
    const t = await pollDeviceToken(integration, 'DC-1', {
      interval: 2,
      fetch,
      clock: () => 0,
      sleep: async (ms) => {
        waits.push(ms);
      },
      onPoll: (e) => polls.push(`${e.attempt}:${e.outcome}:${e.interval}`),
      requestedScopes: ['spark:people_read'],
    });
    expect(waits).toEqual([2000, 2000, 2000, 7000]);
    expect(polls).toEqual(['1:authorization_pending:2', '2:authorization_pending:2', '3:slow_down:7']);
    expect(t.expiresAt).toBe(64799_000);
    expect(t.scopes).toEqual(['spark:people_read']);
    expect(seen[0]?.url).toBe('https://webexapis.example/v1/device/token');
    const form = new URLSearchParams(seen[0]?.body);
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:device_code');
    expect(form.get('device_code')).toBe('DC-1');
    expect(form.has('client_secret')).toBe(false);
    expect(seen[0]?.headers.get('authorization')).toMatch(/^Basic /);
  });

  it.each(['access_denied', 'expired_token', 'invalid_grant'])('stops on %s', async (error) => {
    const { fetch } = fakeFetch(pending428(), json({ error }, 400));
    const e = await pollDeviceToken(integration, 'DC', { interval: 1, fetch, sleep: async () => {} }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(WebexOAuthError);
    expect((e as WebexOAuthError).code).toBe(error);
  });

  it('honours Retry-After on 429 and stops by itself after expiresIn', async () => {
    let now = 0;
    const waits: number[] = [];
    const { fetch } = fakeFetch(new Response('', { status: 429, headers: { 'Retry-After': '30' } }), pending428());
    const e = await pollDeviceToken(integration, 'DC', {
      interval: 5,
      expiresIn: 40,
      fetch,
      clock: () => now,
      sleep: async (ms) => {
        waits.push(ms);
        now += ms;
      },
    }).catch((x: unknown) => x);
    expect(waits).toEqual([5000, 30000, 5000]);
    expect(e).toMatchObject({ code: 'expired_token' });
  });

  it('stops when the signal aborts', async () => {
    const ac = new AbortController();
    const p = pollDeviceToken(integration, 'DC', { interval: 3600, signal: ac.signal, fetch: fakeFetch().fetch });
    ac.abort(new Error('cancelled'));
    await expect(p).rejects.toThrow('cancelled');
  });
});
