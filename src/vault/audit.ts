/**
 * The `audit` part of the vault: who did what, when, from which address — sign-ins, connections made and
 * re-authorized, forced refreshes, key changes, deletes, integrations configured — kept in the store for
 * `AUDIT_RETENTION_DAYS` (config.auditRetentionDays).
 *
 * Entries are checked at this boundary: a known action and actor kind, short plain text (no C0/C1 control or bidi
 * character), and nothing that looks like a secret — an entry holding a broker key (`wak_…`) or a long base64/hex run
 * (an access or refresh token, a client secret) is refused with `invalid_request`, so the log never holds a secret.
 * `record` throws for a bad entry and for a store failure: callers catch (an audit failure never fails the action).
 */
import type { Clock } from '../oauth/types.js';
import { secureRandomBytes } from './crypto/random.js';
import type { AuditRow, Store } from './store/types.js';
import {
  type AuditAction,
  type AuditActor,
  type AuditEntry,
  type AuditFilter,
  type Vault,
  VaultError,
} from './types.js';

/** Every audit action, in the order the page's filter lists them. */
export const AUDIT_ACTIONS: readonly AuditAction[] = [
  'signin',
  'signin.refused',
  'signout',
  'admin.unlock',
  'connect',
  'reauthorize',
  'refresh.forced',
  'refresh.refused',
  'key.create',
  'key.revoke',
  'key.narrow',
  'connection.delete',
  'connection.revoke',
  'integration.configure',
  'webhook.create',
  'webhook.delete',
  'webhook.redeliver',
  'guest.token',
];

/** Every actor kind. */
export const AUDIT_ACTOR_KINDS: readonly AuditActor['kind'][] = [
  'account',
  'local',
  'admin-token',
  'key',
  'cli',
  'anonymous',
];

/** Bounds of an entry's text and of a listing. */
export const AUDIT_LIMITS = {
  /** `detail`, in characters. */
  detail: 500,
  /** `address`, in characters. */
  address: 100,
  /** Ids, labels, owner and target, in characters. */
  field: 200,
  /** Entries `list` returns when no limit is given, and at most. */
  defaultList: 100,
  maxList: 1000,
} as const;

const DAY_MS = 86_400_000;

/** C0 and C1 controls, DEL, line/paragraph separators, and the bidi marks, embeddings, overrides and isolates. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** A terminal's CSI escape sequence (`ESC [ … final byte`), dropped whole by {@link plainText}. */
const CSI = /(?:\u001b\[|\u009b)[\u0030-\u003f]*[\u0020-\u002f]*[\u0040-\u007e]?/g;
/** A broker API key, or its marker. */
const API_KEY = /wak_/i;
/** A run of 40+ base64/base64url/hex characters: an access or refresh token, a client secret, a whole key. */
const LONG_RUN = /[A-Za-z0-9+/=_-]{40,}/;

/**
 * `text` as one line of plain text for an audit entry: terminal escape sequences are dropped, control and bidi
 * characters become spaces, runs of spaces one, and it is cut to `max` characters. For text from Webex (display names) or a request before it is recorded.
 */
export function plainText(text: string, max: number = AUDIT_LIMITS.detail): string {
  const clean = text.replace(CSI, '').replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** Whether `text` looks like it holds a secret: a broker key (`wak_`) or a base64/hex run of 40+ characters. */
export function looksLikeSecret(text: string): boolean {
  return API_KEY.test(text) || LONG_RUN.test(text);
}

/** Who did it, in words (the page and the CLI): an account's email, `API key wak_AbCd`, `CLI`, `local operator`… */
export function actorText(actor: AuditActor): string {
  switch (actor.kind) {
    case 'account':
      return actor.label ?? actor.id ?? 'an account';
    case 'key':
      return `API key ${actor.label ?? actor.id ?? ''}`.trim();
    case 'cli':
      return 'CLI';
    case 'local':
      return 'local operator';
    case 'admin-token':
      return 'admin token';
    default:
      return 'anonymous';
  }
}

/** Which entries `list` returns: the vault's contract plus the page's cursor and action filter. */
/** The vault's audit log. */
export type AuditLog = Vault['audit'];

const invalid = (what: string) => new VaultError('invalid_request', `Invalid audit entry: ${what}.`);

/** An optional text field, checked (never echoed in the error). */
function optionalText(value: unknown, field: string, max: number, secretCheck: (s: string) => boolean) {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`${field} must be a string`);
  if (value.length > max) throw invalid(`${field} is longer than ${max} characters`);
  if (value.replace(CONTROL, '') !== value) throw invalid(`${field} holds a control character`);
  if (secretCheck(value)) throw invalid(`${field} looks like it holds a secret`);
  return value;
}

/** An id, label, owner or target: short, plain, and no key or token in it (a key's short prefix is fine). */
const fieldCheck = (s: string) => /wak_[A-Za-z0-9_-]{16,}/i.test(s) || LONG_RUN.test(s);
/**
 * An actor's label: an email address (an account's) is kept whatever its local part looks like — a long plus-address
 * or `first_last_platform-team-2024@…` must not drop the account's entries — unless it holds a key; anything else
 * gets {@link fieldCheck}.
 */
const labelCheck = (s: string) => (/^[^\s@]{1,64}@[^\s@]{1,255}$/.test(s) ? /wak_/i.test(s) : fieldCheck(s));

/** The entry as a store row, or a VaultError `invalid_request` naming the bad field. */
function validEntry(entry: Omit<AuditEntry, 'id' | 'at'>, id: string, at: number): AuditRow {
  if (typeof entry !== 'object' || entry === null) throw invalid('not an object');
  if (!AUDIT_ACTIONS.includes(entry.action)) throw invalid('unknown action');
  const actor = entry.actor;
  if (typeof actor !== 'object' || actor === null || !AUDIT_ACTOR_KINDS.includes(actor.kind)) {
    throw invalid('unknown actor kind');
  }
  return {
    id,
    at,
    actorKind: actor.kind,
    actorId: optionalText(actor.id, 'actor.id', AUDIT_LIMITS.field, fieldCheck),
    actorLabel: optionalText(actor.label, 'actor.label', AUDIT_LIMITS.field, labelCheck),
    action: entry.action,
    ownerId: optionalText(entry.ownerId, 'ownerId', AUDIT_LIMITS.field, fieldCheck),
    target: optionalText(entry.target, 'target', AUDIT_LIMITS.field, fieldCheck),
    address: optionalText(entry.address, 'address', AUDIT_LIMITS.address, fieldCheck),
    detail: optionalText(entry.detail, 'detail', AUDIT_LIMITS.detail, looksLikeSecret),
  };
}

/** A stored row as an entry (fields the row lacks are left out). */
function entryOf(row: AuditRow): AuditEntry {
  const kind = AUDIT_ACTOR_KINDS.find((k) => k === row.actorKind) ?? 'anonymous';
  const actor: AuditActor = { kind };
  if (row.actorId !== undefined) actor.id = row.actorId;
  if (row.actorLabel !== undefined) actor.label = row.actorLabel;
  const entry: AuditEntry = { id: row.id, at: row.at, actor, action: row.action as AuditAction };
  if (row.ownerId !== undefined) entry.ownerId = row.ownerId;
  if (row.target !== undefined) entry.target = row.target;
  if (row.address !== undefined) entry.address = row.address;
  if (row.detail !== undefined) entry.detail = row.detail;
  return entry;
}

/** The filter checked, with the limit resolved. */
function validFilter(filter: AuditFilter) {
  const bad = (what: string) => new VaultError('invalid_request', `Invalid audit filter: ${what}.`);
  const time = (v: unknown, name: string) => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${name} must be a time in epoch ms`);
    return v;
  };
  if (filter.ownerId !== undefined && (typeof filter.ownerId !== 'string' || filter.ownerId.length > 200)) {
    throw bad('ownerId must be an id');
  }
  if (filter.beforeId !== undefined && (typeof filter.beforeId !== 'string' || filter.beforeId.length > 200)) {
    throw bad('beforeId must be an id');
  }
  if (filter.action !== undefined && !AUDIT_ACTIONS.includes(filter.action)) throw bad('unknown action');
  const limit = filter.limit ?? AUDIT_LIMITS.defaultList;
  if (!Number.isInteger(limit) || limit < 1) throw bad('limit must be a positive integer');
  return {
    ownerId: filter.ownerId,
    since: time(filter.since, 'since'),
    before: time(filter.before, 'before'),
    beforeId: filter.before === undefined ? undefined : filter.beforeId,
    action: filter.action,
    limit: Math.min(limit, AUDIT_LIMITS.maxList),
  };
}

/** The audit log over a store; ids are `aud_` + 12 random bytes (base64url), times from `clock`. */
export function createAudit(store: Store, clock: Clock, retentionDays: number): AuditLog {
  if (!Number.isFinite(retentionDays) || retentionDays <= 0) {
    throw new VaultError('invalid_request', 'The audit retention must be a positive number of days.');
  }
  return {
    async record(entry) {
      await store.insertAudit(validEntry(entry, `aud_${secureRandomBytes(12).toString('base64url')}`, clock()));
    },
    async list(filter = {}) {
      return (await store.listAudit(validFilter(filter))).map(entryOf);
    },
    purge() {
      return store.purgeAudit(clock() - retentionDays * DAY_MS);
    },
  };
}
