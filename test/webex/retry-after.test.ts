/**
 * Issue 16 row 8: a REST call answered 429 with `Retry-After: 86400` used to sleep for a day (holding a callback
 * open). Now the wait is capped: the call fails at once with the retry-after surfaced. Against the real emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SEED, type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { WebexClient } from '../../src/webex/client.js';
import { WebexApiError } from '../../src/webex/errors.js';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(() => emu.close());

const BOT = DEMO_SEED.bots[0]?.token as string;

async function fault(body: unknown): Promise<void> {
  const r = await fetch(`${emu.url}/_emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(r.status).toBe(200);
}

async function restRequests(): Promise<number> {
  const stats = (await (await fetch(`${emu.url}/_emulator/stats`)).json()) as { requests: Record<string, number> };
  return Object.entries(stats.requests)
    .filter(([k]) => k.startsWith('GET /v1/people/me'))
    .reduce((n, [, v]) => n + v, 0);
}

/** A REST client of the demo bot on the emulator whose sleeps are only recorded (in ms), never waited. */
function botClient(): { client: WebexClient; waits: number[] } {
  const waits: number[] = [];
  const client = new WebexClient({
    apiBase: emu.apiBase,
    accessToken: BOT,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  return { client, waits };
}

describe('REST client and Retry-After', () => {
  it('a 429 with Retry-After: 86400 fails at once with the wait surfaced, without sleeping', async () => {
    await fetch(`${emu.url}/_emulator/stats`, { method: 'DELETE' });
    await fault({ endpoint: 'rest', status: 429, retryAfter: 86_400, count: 1 });
    const { client, waits } = botClient();
    const error = await client.peopleMe().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebexApiError);
    expect(error).toMatchObject({ status: 429, retryAfter: 86_400 });
    expect(waits).toEqual([]);
    expect(await restRequests()).toBe(1);
  });

  it('a short Retry-After is still honoured, then the call succeeds', async () => {
    await fault({ endpoint: 'rest', status: 429, retryAfter: 1, count: 1 });
    const { client, waits } = botClient();
    expect((await client.peopleMe()).id).toBeTruthy();
    expect(waits).toEqual([1000]);
  });
});
