/**
 * examples/out-of-office-bot's polling fallback (MODE=poll) against the real emulator and a listening broker: it
 * answers a new direct message once, as the person or as the bot, honours Retry-After, and stops when the broker
 * refuses (a wrong key, needs_reauth). The webhook mode is in out-of-office-webhooks.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error — a plain JavaScript example without type declarations
import { createOutOfOfficeBot } from '../../examples/out-of-office-bot/bot.mjs';
import { BOT_EMAIL, BOT_TOKEN, type OooStack, startOooStack } from './ooo-support.js';

const ALICE = 'alice@example.com';
const MESSAGE = 'Alice is out of office.';

describe('out-of-office bot, polling', () => {
  let stack: OooStack;
  let alice: Awaited<ReturnType<OooStack['connect']>>;
  let bobToken: string;
  let carolToken: string;

  beforeAll(async () => {
    stack = await startOooStack();
    alice = await stack.connect(ALICE, ['spark:rooms_read', 'spark:messages_read', 'spark:messages_write', 'openid']);
    bobToken = (await stack.authorize('bob@example.com', ['spark:all'])).tokens.accessToken;
    carolToken = (await stack.authorize('carol@example.com', ['spark:all'])).tokens.accessToken;
  });
  afterAll(async () => {
    await stack?.close();
  });

  const poller = (extra: Record<string, unknown> = {}) =>
    createOutOfOfficeBot({
      brokerUrl: stack.brokerUrl,
      apiKey: alice.apiKey,
      connectionId: alice.connectionId,
      apiBase: stack.emulator.apiBase,
      message: MESSAGE,
      mode: 'poll',
      since: Date.now() - 1000,
      ...extra,
    });

  async function send(token: string, body: Record<string, string>) {
    const res = await stack.webex(token, '/messages', { method: 'POST', body });
    expect(res.status).toBe(200);
    return res.body as { id: string; roomId: string };
  }

  it('answers a new direct message once, as the person (REPLY_AS=person)', async () => {
    const bot = poller({ replyAs: 'person' });
    expect(await bot.pollOnce()).toBe(0);
    const sent = await send(bobToken, { toPersonEmail: ALICE, text: 'Hi Alice, quick question' });
    expect(await bot.pollOnce()).toBe(1);
    const { body } = await stack.webex(bobToken, `/messages?roomId=${encodeURIComponent(sent.roomId)}`);
    const replies = body.items.filter((m: { text?: string }) => m.text === MESSAGE);
    expect(replies).toHaveLength(1);
    expect(replies[0].personEmail).toBe(ALICE);
    // Nothing new (its own reply is not answered); a second message within the cool-down is not answered either.
    expect(await bot.pollOnce()).toBe(0);
    await send(bobToken, { roomId: sent.roomId, text: 'Still there?' });
    expect(await bot.pollOnce()).toBe(0);
  });

  it('answers as the bot by default, honouring Retry-After on the way', async () => {
    const lines: string[] = [];
    // Only what comes after this point (Bob's messages above are not this test's).
    const bot = poller({ botToken: BOT_TOKEN, since: Date.now(), log: (l: string) => lines.push(l) });
    await send(carolToken, { toPersonEmail: ALICE, text: 'Hello Alice' });
    const fault = await fetch(`${stack.emulator.url}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'rest', status: 429, count: 1, retryAfter: 1 }),
    });
    expect(fault.ok).toBe(true);
    expect(await bot.pollOnce()).toBe(1);
    expect(lines.some((l) => l.includes('HTTP 429, trying again in 1 s'))).toBe(true);
    const rooms = await stack.webex(carolToken, '/rooms?type=direct');
    const texts: string[] = [];
    for (const room of rooms.body.items) {
      const { body } = await stack.webex(carolToken, `/messages?roomId=${encodeURIComponent(room.id)}`);
      for (const m of body.items) if (m.personEmail === BOT_EMAIL) texts.push(m.text);
    }
    expect(texts).toEqual([MESSAGE]);
  });

  it('stops when the broker refuses: a wrong key, then needs_reauth', async () => {
    const wrongKey = createOutOfOfficeBot({
      brokerUrl: stack.brokerUrl,
      apiKey: 'wak_wrong',
      connectionId: alice.connectionId,
      apiBase: stack.emulator.apiBase,
      replyAs: 'person',
      mode: 'poll',
    });
    await expect(wrongKey.start()).rejects.toMatchObject({ status: 401, code: 'unauthorized', fatal: true });
    await stack.vault.connections.markNeedsReauth(alice.connectionId);
    const bot = poller({ replyAs: 'person' });
    await expect(bot.start()).rejects.toMatchObject({ status: 409, code: 'needs_reauth', fatal: true });
    expect((await bot.done)?.message).toContain('must authorize again');
  });
});
