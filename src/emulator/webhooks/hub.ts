/**
 * The emulator's webhooks: the registered webhooks of one instance, the events the REST routes emit (messages,
 * memberships, rooms), who may see each event (a person: what they can read; a bot: its direct spaces and group-space
 * messages that @mention it), filters, and delivery — a JSON POST to `targetUrl`, signed with `X-Spark-Signature` (hex
 * HMAC-SHA1 of the raw body under `secret`), never following redirects, retried with exponential backoff, and the turn
 * to `inactive` after `webhookInactiveAfter` consecutive failed deliveries (knobs in options.ts). The contract is
 * docs/webex-api.md "Webhooks".
 *
 * One hub per emulator context, kept in a WeakMap so the context type stays as it is.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { EmulatorContext } from '../context.js';
import { trackingId } from '../ids.js';
import type { MembershipRec, MessageRec, PersonRec, RoomRec, ServiceAppRec } from '../state.js';
import { membershipJson, roomJson } from '../views/json.js';

export type WebhookResource = 'messages' | 'memberships' | 'rooms' | 'serviceApp';
export type WebhookEvent = 'created' | 'updated' | 'deleted' | 'authorized' | 'deauthorized';

/** A registered webhook. */
export interface WebhookRec {
  id: string;
  name: string;
  targetUrl: string;
  resource: WebhookResource;
  event: WebhookEvent | 'all';
  filter?: string;
  /** The parsed filter (keys as Webex spells them, values URL-decoded). */
  filters: Map<string, string>;
  secret?: string;
  status: 'active' | 'inactive';
  ownedBy: 'creator';
  created: string;
  /** Person id of the creator. */
  createdBy: string;
  ownerUuid: string;
  appId: string;
  orgId: string;
  /** Created with a token holding `spark:applications_token`: it hears `serviceApp` events. */
  developer?: boolean;
  /** Failed deliveries in a row (a delivery fails when every attempt failed). */
  consecutiveFailures: number;
}

/** One delivery attempt, as `GET /_emulator/deliveries` lists it. */
export interface DeliveryRec {
  webhookId: string;
  targetUrl: string;
  resource: WebhookResource;
  event: WebhookEvent;
  /** The `data.id` of the event. */
  dataId: string;
  attempt: number;
  /** HTTP status of the receiver's answer, when it answered. */
  statusCode?: number;
  /** Network error or timeout, when it did not. */
  error?: string;
  ok: boolean;
  at: string;
}

const MAX_DELIVERY_LOG = 1000;

/** The filter keys Webex accepts per resource. */
export const FILTER_KEYS: Record<WebhookResource, ReadonlySet<string>> = {
  messages: new Set(['roomId', 'roomType', 'personId', 'personEmail', 'mentionedPeople', 'hasFiles']),
  memberships: new Set(['roomId', 'personId', 'personEmail', 'isModerator']),
  rooms: new Set(['type', 'isLocked']),
  serviceApp: new Set(['id']),
};

/** Parses `k=v&k=v`; returns an error text for a malformed or unsupported filter. */
export function parseFilter(resource: WebhookResource, filter: string): Map<string, string> | string {
  const out = new Map<string, string>();
  for (const part of filter.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) return `Invalid filter '${part.slice(0, 100)}': expected key=value.`;
    const key = part.slice(0, eq);
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
    } catch {
      return `Invalid filter value for '${key.slice(0, 50)}'.`;
    }
    if (!FILTER_KEYS[resource].has(key)) return `Unsupported filter '${key.slice(0, 50)}' for resource ${resource}.`;
    if ((key === 'roomType' || key === 'type') && value !== 'direct' && value !== 'group')
      return `${key} must be 'direct' or 'group'.`;
    if (out.has(key)) return `Filter '${key}' is repeated.`;
    out.set(key, value);
  }
  return out;
}

/** The REST id Webex gives webhooks and applications (unpadded base64 of `ciscospark://us/<TYPE>/<id>`). */
export function sparkId(type: 'WEBHOOK' | 'APPLICATION', id: string): string {
  return Buffer.from(`ciscospark://us/${type}/${id}`).toString('base64').replace(/=+$/, '');
}

/** The fields of a webhook as the API and deliveries show them. */
export function webhookJson(w: WebhookRec): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: w.id,
    name: w.name,
    targetUrl: w.targetUrl,
    resource: w.resource,
    event: w.event,
  };
  if (w.filter !== undefined) body.filter = w.filter;
  if (w.secret !== undefined) body.secret = w.secret;
  Object.assign(body, {
    orgId: w.orgId,
    createdBy: w.createdBy,
    appId: w.appId,
    ownedBy: w.ownedBy,
    status: w.status,
    created: w.created,
  });
  return body;
}

/** The parts of an event a filter and the visibility rules look at. */
interface EventFacts {
  room: RoomRec;
  /** People who can see the event (room members; for a removed membership, the removed person too). */
  audience: ReadonlySet<string>;
  /** For messages: sender; for memberships: the member. */
  person?: PersonRec;
  mentionedPeople?: readonly string[];
  isModerator?: boolean;
  hasFiles?: boolean;
}

/** The webhooks of one emulator instance. */
export class WebhookHub {
  readonly webhooks = new Map<string, WebhookRec>();
  readonly deliveries: DeliveryRec[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private abort = new AbortController();

  constructor(private readonly ctx: EmulatorContext) {}

  /** Forgets every webhook and delivery and cancels pending retries (`/_emulator/reset`, app close). */
  reset(): void {
    this.stop();
    this.abort = new AbortController();
    this.webhooks.clear();
    this.deliveries.length = 0;
  }

  /** Cancels pending retries and in-flight deliveries. */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.abort.abort();
  }

  /**
   * A `rooms` event. Call it while the room still has its members (for `deleted`, before they are dropped): they are
   * who can see it.
   */
  roomEvent(event: WebhookEvent, actor: PersonRec, room: RoomRec): void {
    if (this.webhooks.size === 0) return;
    const facts: EventFacts = { room, audience: new Set(room.members.keys()) };
    this.emit('rooms', event, actor, facts, (viewer) => roomJson(this.ctx.state, room, viewer));
  }

  /** A `messages` event; the data never carries the text (the receiver reads it with `GET /v1/messages/{id}`). */
  messageEvent(event: WebhookEvent, actor: PersonRec, room: RoomRec, msg: MessageRec): void {
    if (this.webhooks.size === 0) return;
    const sender = this.ctx.state.personByUuid(msg.personUuid);
    const data: Record<string, unknown> = {
      id: msg.id,
      roomId: room.id,
      roomType: room.type,
      personId: sender?.id,
      personEmail: sender?.email,
      created: msg.created,
    };
    if (msg.parentId) data.parentId = msg.parentId;
    if (msg.mentionedPeople?.length) data.mentionedPeople = msg.mentionedPeople;
    const facts: EventFacts = {
      room,
      audience: new Set(room.members.keys()),
      person: sender,
      mentionedPeople: msg.mentionedPeople ?? [],
      hasFiles: msg.hasFiles ?? false,
    };
    this.emit('messages', event, actor, facts, () => data);
  }

  /** A `memberships` event; a removed member still sees the removal. */
  membershipEvent(event: WebhookEvent, actor: PersonRec, room: RoomRec, m: MembershipRec): void {
    if (this.webhooks.size === 0) return;
    const audience = new Set(room.members.keys());
    audience.add(m.personUuid);
    const facts: EventFacts = {
      room,
      audience,
      person: this.ctx.state.personByUuid(m.personUuid),
      isModerator: m.isModerator,
    };
    const data = membershipJson(this.ctx.state, room, m);
    this.emit('memberships', event, actor, facts, () => data);
  }

  /**
   * A `serviceApp` event (`authorized`/`deauthorized` in `orgId`). It goes to the `serviceApp` webhooks of the app's
   * developer: in the emulator, those created with a token that holds `spark:applications_token` (the integration
   * that fetches the app's tokens); the `id` filter narrows them to one app. The actor is a full admin of the org
   * when the seed has one, else the app's machine account there.
   */
  serviceAppEvent(event: 'authorized' | 'deauthorized', app: ServiceAppRec, orgId: string): void {
    const state = this.ctx.state;
    let actor: PersonRec | undefined;
    for (const p of state.people.values())
      if (p.orgId === orgId && p.roles.includes('full_admin')) {
        actor = p;
        break;
      }
    actor ??= state.machineAccount(app, orgId);
    const data = { id: app.id, applicationId: app.id, friendlyName: app.name, orgId, created: state.iso() };
    for (const w of this.webhooks.values()) {
      if (w.status !== 'active' || w.resource !== 'serviceApp' || !w.developer) continue;
      if (w.event !== 'all' && w.event !== event) continue;
      const only = w.filters.get('id');
      if (only !== undefined && only !== app.id) continue;
      const { secret: _secret, ...fields } = webhookJson(w);
      const body = JSON.stringify({ ...fields, event, actorId: actor.id, data });
      this.schedule(0, () => this.attempt(w, event, app.id, body, 1));
    }
  }

  /** Whether the webhook's owner may see the event (Webex's visibility rules). */
  private visible(w: WebhookRec, resource: WebhookResource, facts: EventFacts): boolean {
    if (!facts.audience.has(w.ownerUuid)) return false;
    const owner = this.ctx.state.personByUuid(w.ownerUuid);
    if (!owner) return false;
    if (owner.type === 'bot' && resource === 'messages' && facts.room.type === 'group')
      return facts.mentionedPeople?.includes(owner.id) ?? false;
    return true;
  }

  private matches(w: WebhookRec, resource: WebhookResource, facts: EventFacts): boolean {
    for (const [key, value] of w.filters) {
      const owner = this.ctx.state.personByUuid(w.ownerUuid);
      switch (key) {
        case 'roomId':
          if (facts.room.id !== value) return false;
          break;
        case 'roomType':
        case 'type':
          if (facts.room.type !== value) return false;
          break;
        case 'personId':
          if (facts.person?.id !== value) return false;
          break;
        case 'personEmail':
          if (facts.person?.email.toLowerCase() !== value.toLowerCase()) return false;
          break;
        case 'mentionedPeople': {
          const wanted = value.split(',').map((v) => {
            if (v === 'me') return owner?.id;
            return v.includes('@') ? this.ctx.state.personByEmail(v)?.id : v;
          });
          if (!wanted.some((id) => id !== undefined && facts.mentionedPeople?.includes(id))) return false;
          break;
        }
        case 'isModerator':
          if (String(facts.isModerator ?? false) !== value) return false;
          break;
        case 'hasFiles':
          if (String(facts.hasFiles ?? false) !== value) return false;
          break;
        case 'isLocked':
          if (value !== 'false') return false;
          break;
        default:
          return false;
      }
    }
    return resource === w.resource;
  }

  private emit(
    resource: WebhookResource,
    event: WebhookEvent,
    actor: PersonRec,
    facts: EventFacts,
    data: (viewer: PersonRec) => Record<string, unknown>,
  ): void {
    for (const w of this.webhooks.values()) {
      if (w.status !== 'active' || w.resource !== resource) continue;
      if (w.event !== 'all' && w.event !== event) continue;
      if (!this.visible(w, resource, facts) || !this.matches(w, resource, facts)) continue;
      const owner = this.ctx.state.personByUuid(w.ownerUuid);
      if (!owner) continue;
      const { secret: _secret, ...fields } = webhookJson(w);
      const eventData = data(owner);
      const body = JSON.stringify({ ...fields, event, actorId: actor.id, data: eventData });
      const dataId = String(eventData.id ?? '');
      // The first attempt goes out right after the API answers, never blocking it.
      this.schedule(0, () => this.attempt(w, event, dataId, body, 1));
    }
  }

  private schedule(ms: number, fn: () => Promise<void>): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn().catch(() => undefined);
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private async attempt(w: WebhookRec, event: WebhookEvent, dataId: string, body: string, attempt: number) {
    if (this.webhooks.get(w.id) !== w || w.status !== 'active') return;
    const o = this.ctx.options;
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'webex-auth-emulator-webhooks',
      trackingid: trackingId(),
    };
    if (w.secret !== undefined) headers['x-spark-signature'] = createHmac('sha1', w.secret).update(body).digest('hex');
    const rec: DeliveryRec = {
      webhookId: w.id,
      targetUrl: w.targetUrl,
      resource: w.resource,
      event,
      dataId,
      attempt,
      ok: false,
      at: this.ctx.state.iso(),
    };
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(o.webhookTimeoutMs)]);
    try {
      const r = await fetch(w.targetUrl, { method: 'POST', headers, body, redirect: 'manual', signal });
      await r.body?.cancel().catch(() => undefined);
      rec.statusCode = r.status;
      rec.ok = r.status >= 200 && r.status < 300;
    } catch (e) {
      if (this.abort.signal.aborted) return;
      rec.error = describe(e);
    }
    this.log(rec);
    if (this.webhooks.get(w.id) !== w) return;
    if (rec.ok) {
      w.consecutiveFailures = 0;
      return;
    }
    if (attempt <= o.webhookRetries) {
      const wait = o.webhookRetryBaseMs * 2 ** (attempt - 1);
      this.schedule(wait, () => this.attempt(w, event, dataId, body, attempt + 1));
      return;
    }
    w.consecutiveFailures += 1;
    if (w.consecutiveFailures >= o.webhookInactiveAfter) w.status = 'inactive';
  }

  private log(rec: DeliveryRec): void {
    this.deliveries.push(rec);
    if (this.deliveries.length > MAX_DELIVERY_LOG) this.deliveries.splice(0, this.deliveries.length - MAX_DELIVERY_LOG);
  }

  /** A fresh webhook id. */
  static newId(): string {
    return sparkId('WEBHOOK', randomUUID());
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
    if (e.name === 'TimeoutError') return 'timeout';
    return (cause?.code ?? cause?.message ?? e.message).slice(0, 200);
  }
  return String(e).slice(0, 200);
}

const hubs = new WeakMap<EmulatorContext, WebhookHub>();

/** The webhook hub of an emulator instance (created on first use). */
export function webhooks(ctx: EmulatorContext): WebhookHub {
  let hub = hubs.get(ctx);
  if (!hub) {
    hub = new WebhookHub(ctx);
    hubs.set(ctx, hub);
  }
  return hub;
}

/**
 * The people a message's markdown @mentions as Webex writes mentions: `<@personEmail:addr|Name>` or
 * `<@personId:id|Name>`; only members of the room count. Returns person ids, or undefined when none.
 */
export function mentionsIn(ctx: EmulatorContext, room: RoomRec, markdown: string | undefined): string[] | undefined {
  if (!markdown?.includes('<@')) return undefined;
  const out: string[] = [];
  for (const m of markdown.matchAll(/<@(personEmail|personId):([^|>]{1,320})(?:\|[^>]{0,200})?>/g)) {
    const p = m[1] === 'personEmail' ? ctx.state.personByEmail(m[2] ?? '') : ctx.state.people.get(m[2] ?? '');
    if (p && room.members.has(p.uuid) && !out.includes(p.id)) out.push(p.id);
  }
  return out.length ? out : undefined;
}
