/**
 * examples/out-of-office-bot on webhooks, end to end and all real: the emulator, a listening broker, Alice's connection
 * with only `spark:messages_read openid` (made through the emulator's consent page and token endpoint), the bot
 * listening on loopback with its webhook registered. Bob writes to Alice → the bot answers Bob, once per cool-down;
 * Alice's own messages get no answer; a forged delivery is refused; a restart reuses the one webhook; a refused scope
 * stops the bot, naming the scope, without a retry loop.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error — a plain JavaScript example without type declarations
import { createOutOfOfficeBot } from '../../examples/out-of-office-bot/bot.mjs';
import { BOT_EMAIL, BOT_TOKEN, eventually, type OooStack, startOooStack } from './ooo-support.js';

const MESSAGE = 'Alice is out of the office until Monday.';
const SECRET = 'a-test-secret-known-to-this-test';
const ALICE = 'alice@example.com';

interface Delivery {
  webhookId: string;
  dataId: string;
  ok: boolean;
  statusCode?: number;
}

describe('out-of-office bot on webhooks', () => {
  let stack: OooStack;
  let alice: Awaited<ReturnType<OooStack['connect']>>;
  let bobToken: string;
  let carolToken: string;
  let aliceWriterToken: string;
  let bot: any;
  let started: { targetUrl: string; webhookId: string };
  const lines: string[] = [];

  /** Every message the bot sent, in every space it is in. */
  async function botMessages(): Promise<Array<{ id: string; roomId: string; text: string; toPersonEmail?: string }>> {
    const rooms = await stack.webex(BOT_TOKEN, '/rooms?max=1000');
    const out = [];
    for (const room of rooms.body.items) {
      const { body } = await stack.webex(BOT_TOKEN, `/messages?roomId=${encodeURIComponent(room.id)}&max=1000`);
      out.push(...body.items.filter((m: { personEmail: string }) => m.personEmail === BOT_EMAIL));
    }
    return out;
  }

  /** The bot's messages as `token`'s person sees them in their direct spaces. */
  async function seenBy(token: string): Promise<string[]> {
    const rooms = await stack.webex(token, '/rooms?type=direct&max=1000');
    const texts: string[] = [];
    for (const room of rooms.body.items) {
      const { body } = await stack.webex(token, `/messages?roomId=${encodeURIComponent(room.id)}&max=1000`);
      for (const m of body.items) if (m.personEmail === BOT_EMAIL) texts.push(m.text);
    }
    return texts;
  }

  /** Every webhook of Alice's, page by page (`Link: rel="next"`). */
  type Hook = { id: string; name: string; status: string };
  async function allWebhooks(): Promise<Hook[]> {
    const out: Hook[] = [];
    let next: string | undefined = `${stack.emulator.apiBase}/webhooks?max=100`;
    while (next) {
      const res: Response = await fetch(next, { headers: { authorization: `Bearer ${alice.accessToken}` } });
      expect(res.status).toBe(200);
      out.push(...((await res.json()) as { items: Hook[] }).items);
      next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
    }
    return out;
  }

  /** Waits until the emulator delivered `messageId` to the bot (2xx), then until the bot handled it. */
  async function delivered(messageId: string, webhookId = started.webhookId, handler = bot) {
    await eventually(async () => {
      const { deliveries } = (await stack.control('deliveries')) as { deliveries: Delivery[] };
      return deliveries.find((d) => d.dataId === messageId && d.webhookId === webhookId && d.ok) ? true : undefined;
    }, `the delivery of ${messageId}`);
    await handler.settled();
  }

  async function send(token: string, body: Record<string, string>) {
    const res = await stack.webex(token, '/messages', { method: 'POST', body });
    expect(res.status).toBe(200);
    return res.body as { id: string; roomId: string };
  }

  /** The bot on alice's connection through the broker, as the demo bot, logging into `lines`; `options` on top. */
  function aliceBot(options: Record<string, unknown>) {
    return createOutOfOfficeBot({
      brokerUrl: stack.brokerUrl,
      apiKey: alice.apiKey,
      connectionId: alice.connectionId,
      apiBase: stack.emulator.apiBase,
      botToken: BOT_TOKEN,
      log: (line: string) => lines.push(line),
      ...options,
    });
  }

  beforeAll(async () => {
    // One failed delivery (nobody listening) turns a webhook inactive, so the restart test can see it come back.
    stack = await startOooStack({ webhookRetries: 0, webhookInactiveAfter: 1 });
    alice = await stack.connect(ALICE, ['spark:messages_read', 'openid']);
    bobToken = (await stack.authorize('bob@example.com', ['spark:all'])).tokens.accessToken;
    carolToken = (await stack.authorize('carol@example.com', ['spark:all'])).tokens.accessToken;
    aliceWriterToken = (await stack.authorize(ALICE, ['spark:all'])).tokens.accessToken;
    bot = aliceBot({ message: MESSAGE, webhookSecret: SECRET });
    started = await bot.start();
  });
  afterAll(async () => {
    await bot?.stop();
    await stack?.close();
  });

  it('works from a connection that can only read messages, the person known from the id_token', async () => {
    expect((await stack.webex(alice.accessToken, '/people/me')).status).toBe(403);
    expect((await stack.webex(alice.accessToken, '/rooms')).status).toBe(403);
    const real = await stack.webex(bobToken, `/people?email=${encodeURIComponent(ALICE)}`);
    expect(alice.person.id).toBe(real.body.items[0].id);
    const { body } = await stack.webex(alice.accessToken, '/webhooks');
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({
      id: started.webhookId,
      targetUrl: started.targetUrl,
      resource: 'messages',
      event: 'created',
      filter: 'roomType=direct',
      status: 'active',
    });
    expect(started.targetUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhooks\/webex$/);
  });

  it("answers Bob's direct message to Alice as the bot, once per cool-down", async () => {
    const first = await send(bobToken, { toPersonEmail: ALICE, text: 'Hi Alice, quick question' });
    const replies = await eventually(async () => {
      const texts = await seenBy(bobToken);
      return texts.length > 0 ? texts : undefined;
    }, "the bot's reply to Bob");
    expect(replies).toEqual([MESSAGE]);
    // Alice's space with Bob holds only Bob's message: the answer came from the bot, not from Alice.
    const aliceView = await stack.webex(aliceWriterToken, `/messages?roomId=${encodeURIComponent(first.roomId)}`);
    expect(aliceView.body.items.map((m: { text: string }) => m.text)).toEqual(['Hi Alice, quick question']);

    const second = await send(bobToken, { roomId: first.roomId, text: 'Still there?' });
    await delivered(second.id);
    expect(await seenBy(bobToken)).toEqual([MESSAGE]);
    expect(lines.some((l) => l.includes('within the cool-down'))).toBe(true);
  });

  it("ignores Alice's own direct messages", async () => {
    const before = (await botMessages()).length;
    const own = await send(aliceWriterToken, { toPersonEmail: 'carol@example.com', text: 'Back on Monday' });
    await delivered(own.id);
    expect(await botMessages()).toHaveLength(before);
    expect(await seenBy(carolToken)).toEqual([]);
  });

  it('refuses a delivery whose signature is wrong or missing, and acts on a signed one', async () => {
    const carolId = (await stack.webex(carolToken, '/people/me')).body.id;
    const delivery = JSON.stringify({
      id: started.webhookId,
      name: 'out-of-office bot',
      resource: 'messages',
      event: 'created',
      actorId: carolId,
      data: {
        id: 'Y2lzY29zcGFyazovL3VzL01FU1NBR0UvZm9yZ2Vk',
        roomId: 'Y2lzY29zcGFyazovL3VzL1JPT00vZm9yZ2Vk',
        roomType: 'direct',
        personId: carolId,
        personEmail: 'carol@example.com',
        created: new Date().toISOString(),
      },
    });
    const post = (signature?: string) =>
      fetch(started.targetUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature ? { 'x-spark-signature': signature } : {}) },
        body: delivery,
      });
    const wrong = createHmac('sha1', 'not-the-secret').update(delivery).digest('hex');
    expect((await post(wrong)).status).toBe(401);
    expect((await post()).status).toBe(401);
    expect((await post('zz')).status).toBe(401);
    await bot.settled();
    expect(await seenBy(carolToken)).toEqual([]);
    // The same body signed with the webhook's secret is acted on: the refusals above were the signature's doing.
    expect((await post(createHmac('sha1', SECRET).update(delivery).digest('hex'))).status).toBe(204);
    await bot.settled();
    expect(await seenBy(carolToken)).toEqual([MESSAGE]);
  });

  it('reuses its one webhook across a restart, removing a duplicate and turning it active again', async () => {
    await bot.stop();
    // 100 other webhooks of Alice's, so that what follows lands on the second page of GET /webhooks?max=100.
    for (let i = 0; i < 100; i++) {
      const other = await stack.webex(alice.accessToken, '/webhooks', {
        method: 'POST',
        body: { name: `other ${i}`, targetUrl: 'http://127.0.0.1:59999/x', resource: 'rooms', event: 'deleted' },
      });
      expect(other.status).toBe(200);
    }
    // A duplicate of the bot's webhook (same name and target), as an earlier crash between two calls could leave.
    const dup = await stack.webex(alice.accessToken, '/webhooks', {
      method: 'POST',
      body: {
        name: 'out-of-office bot',
        targetUrl: started.targetUrl,
        resource: 'messages',
        event: 'created',
        filter: 'roomType=direct',
        secret: 'old',
      },
    });
    expect(dup.status).toBe(200);
    // Nobody listens now: the delivery fails and (one failure, as this emulator is set) the webhooks turn inactive.
    const missed = await send(bobToken, { toPersonEmail: ALICE, text: 'Anyone?' });
    await eventually(async () => {
      const ours = (await allWebhooks()).filter((w: { name: string }) => w.name === 'out-of-office bot');
      return ours.length === 2 && ours.every((w: { status: string }) => w.status === 'inactive') ? true : undefined;
    }, 'the webhooks to turn inactive');
    expect(missed.id).toBeTruthy();

    const port = Number(new URL(started.targetUrl).port);
    const again = aliceBot({ message: MESSAGE, port });
    bot = again;
    const restarted = await again.start();
    expect(restarted).toEqual(started);
    const all = await allWebhooks();
    const ours = all.filter((w: { name: string }) => w.name === 'out-of-office bot');
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({ id: started.webhookId, status: 'active' });
    expect(all).toHaveLength(101);
    // It delivers to the new instance, signed with the new instance's own secret.
    const next = await send(carolToken, { toPersonEmail: ALICE, text: 'Hello again' });
    await delivered(next.id, started.webhookId, again);
    expect(again.counts.deliveries).toBeGreaterThan(0);
  });

  it('stops on a refused scope, naming it, without trying again (polling without spark:rooms_read)', async () => {
    const before = (await stack.control('stats')).requests['GET /v1/rooms 403'] ?? 0;
    const poller = aliceBot({ mode: 'poll', pollIntervalMs: 10 });
    await poller.start();
    const error = await poller.done;
    expect(error?.message).toContain('GET /rooms was refused');
    expect(error?.message).toContain('spark:rooms_read');
    expect(lines.some((l) => l.includes('spark:rooms_read'))).toBe(true);
    const after = (await stack.control('stats')).requests['GET /v1/rooms 403'];
    expect(after - before).toBe(1);
  });

  it('refuses to register without spark:messages_read, naming it', async () => {
    const openidOnly = await stack.connect('bob@example.com', ['spark:people_read', 'openid']);
    const noRead = createOutOfOfficeBot({
      brokerUrl: stack.brokerUrl,
      apiKey: openidOnly.apiKey,
      connectionId: openidOnly.connectionId,
      apiBase: stack.emulator.apiBase,
      botToken: BOT_TOKEN,
    });
    await expect(noRead.start()).rejects.toThrow(/POST \/webhooks was refused: .*spark:messages_read/);
    expect((await noRead.done)?.message).toContain('spark:messages_read');
  });
});
