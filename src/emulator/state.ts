/**
 * The emulator's in-memory state: the seeded directory (integrations, people, rooms, memberships, messages) and every
 * credential it has issued, in Maps keyed by id or token string. `reset()` goes back to the seed.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from './clock.js';
import { ORG_ID, ORG_UUID, parseOrgId, restId, seededRoomUuid, stableUuid } from './ids.js';
import type { AdminRole, Seed } from './seed.js';

/** A registered integration. */
export interface IntegrationRec {
  clientId: string;
  clientSecret: string;
  name: string;
  redirectUris: Set<string>;
  /** The only registered URI when there is exactly one (then `redirect_uri` may be omitted). */
  soleRedirectUri: string | undefined;
  scopes: Set<string>;
  /** Set for a Service App's client: the app's id (it has no redirect URIs; only its refresh grants use the client). */
  serviceAppId?: string;
}

/** A Service App (seed `serviceApps`): its client and the orgs whose admins authorized it. */
export interface ServiceAppRec {
  id: string;
  clientId: string;
  clientSecret: string;
  name: string;
  scopes: string[];
  /** REST ids of the orgs where the app is authorized. */
  authorizedOrgs: Set<string>;
}

/** A person, bot, or an `appuser` (a Service App's machine account, or a guest). */
export interface PersonRec {
  uuid: string;
  id: string;
  email: string;
  displayName: string;
  firstName?: string;
  lastName?: string;
  nickName?: string;
  locale?: string;
  phone?: string;
  type: 'person' | 'bot' | 'appuser';
  /** For a machine account or a guest: the Service App it belongs to. */
  serviceAppId?: string;
  /** For a guest: the issuer's `subject`. */
  guestSubject?: string;
  /** The org's REST id (base64 of `ciscospark://us/ORGANIZATION/<orgUuid>`). */
  orgId: string;
  orgUuid: string;
  /** Admin roles (seeded users only; empty for everyone else). */
  roles: readonly AdminRole[];
  created: string;
}

/** A room (space). */
export interface RoomRec {
  uuid: string;
  id: string;
  title: string;
  type: 'group' | 'direct';
  creatorId: string;
  /** The creator's org (Webex shows the owning org's id as a room's `ownerId`). */
  ownerId: string;
  created: string;
  lastActivity: string;
  /** person uuid → membership */
  members: Map<string, MembershipRec>;
}

/** A membership. */
export interface MembershipRec {
  id: string;
  roomId: string;
  personUuid: string;
  isModerator: boolean;
  /** Hidden from the person's room list (direct spaces; set with `PUT /v1/memberships/{id}`). */
  isRoomHidden?: boolean;
  created: string;
}

/** A message. */
export interface MessageRec {
  id: string;
  roomUuid: string;
  personUuid: string;
  text?: string;
  markdown?: string;
  html?: string;
  parentId?: string;
  toPersonId?: string;
  toPersonEmail?: string;
  mentionedPeople?: string[];
  /** Whether it was posted with `files` or `attachments` (such messages cannot be edited). */
  hasFiles?: boolean;
  /** The `files` URLs the message shows. */
  files?: string[];
  created: string;
  /** When it was last edited (`PUT /v1/messages/{id}`). */
  updated?: string;
  /** How many times it has been edited. */
  edits?: number;
  seq: number;
}

/** An issued authorization code (single use, bound to client, redirect URI, PKCE challenge and nonce). */
export interface CodeRec {
  clientId: string;
  /** The `redirect_uri` sent to authorize, or undefined when it was omitted. */
  redirectUri: string | undefined;
  personUuid: string;
  scopes: string[];
  challenge?: string;
  method?: 'S256' | 'plain';
  nonce?: string;
  authTime: number;
  expiresAt: number;
  used: boolean;
}

/** A refresh token: the grant that access tokens hang off. */
export interface RefreshRec {
  /** The authorization id (`/v1/authorizations`), kept across rotation. */
  id: string;
  /** When the grant was made (emulator ms). */
  created: number;
  token: string;
  clientId: string;
  personUuid: string;
  scopes: string[];
  /** The scopes as one shared Set (every access token of the grant points at it). */
  scopeSet: ReadonlySet<string>;
  scope: string;
  authTime: number;
  expiresAt: number;
  /** When the revocation takes effect (emulator ms), if revoked. */
  revokedAt?: number;
  /** Access tokens minted from this grant (killed with it). */
  accessTokens: Set<string>;
  /** The last access token a refresh returned, and when (`--refresh-unchanged-within`). */
  lastRefresh?: { access: AccessRec; at: number };
}

/** An access token (or a bot token). */
export interface AccessRec {
  token: string;
  clientId: string | undefined;
  personUuid: string;
  scopes: ReadonlySet<string>;
  /** When it was minted (emulator ms; 0 for seeded bot tokens). */
  created: number;
  expiresAt: number;
  revokedAt?: number;
  refresh?: RefreshRec;
}

/** An uploaded file (`POST /v1/messages` multipart), served by `GET /v1/contents/{id}`. */
export interface ContentRec {
  id: string;
  roomUuid: string;
  filename: string;
  contentType: string;
  bytes: Buffer;
}

/** A pending device authorization. */
export interface DeviceRec {
  deviceCode: string;
  userCode: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  interval: number;
  lastPoll?: number;
  status: 'pending' | 'approved' | 'denied' | 'done';
  personUuid?: string;
}

/** A consent page waiting for the person's decision. */
export interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  redirectUriGiven: boolean;
  scopes: string[];
  state?: string;
  challenge?: string;
  method?: 'S256' | 'plain';
  nonce?: string;
  loginHint?: string;
  expiresAt: number;
}

/** All mutable state of one emulator instance. */
export class EmulatorState {
  integrations = new Map<string, IntegrationRec>();
  people = new Map<string, PersonRec>();
  peopleByEmail = new Map<string, PersonRec>();
  peopleByUuid = new Map<string, PersonRec>();
  rooms = new Map<string, RoomRec>();
  messages: MessageRec[] = [];
  codes = new Map<string, CodeRec>();
  accessTokens = new Map<string, AccessRec>();
  refreshTokens = new Map<string, RefreshRec>();
  /** Rotated-out refresh token strings → when they stop working. */
  retiredRefreshTokens = new Map<string, number>();
  /** person uuid → live access tokens (pruned lazily for the cap). */
  liveByPerson = new Map<string, Set<string>>();
  devices = new Map<string, DeviceRec>();
  devicesByUserCode = new Map<string, DeviceRec>();
  pending = new Map<string, PendingAuthorization>();
  /** browser session id → person uuid (for `prompt=none`). */
  sessions = new Map<string, string>();
  serviceApps = new Map<string, ServiceAppRec>();
  /** Uploaded files by content id. */
  contents = new Map<string, ContentRec>();
  private messageSeq = 0;

  constructor(
    private readonly seed: Seed,
    private readonly clock: Clock,
  ) {
    this.load();
  }

  /** Forgets every issued credential and goes back to the seed. */
  reset(): void {
    for (const m of [this.integrations, this.people, this.peopleByEmail, this.peopleByUuid, this.rooms, this.codes])
      m.clear();
    for (const m of [this.accessTokens, this.refreshTokens, this.liveByPerson, this.devices, this.devicesByUserCode])
      m.clear();
    this.pending.clear();
    this.serviceApps.clear();
    this.contents.clear();
    this.retiredRefreshTokens.clear();
    this.sessions.clear();
    this.messages = [];
    this.messageSeq = 0;
    this.load();
  }

  /** An ISO timestamp (`…T14:26:16.000Z`) of the emulator clock. */
  iso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /** Finds a person or bot by email (case-insensitive). */
  personByEmail(email: string): PersonRec | undefined {
    return this.peopleByEmail.get(email.toLowerCase());
  }

  /** Finds a person or bot by bare UUID. */
  personByUuid(uuid: string): PersonRec | undefined {
    return this.peopleByUuid.get(uuid);
  }

  /** Adds a membership (used by the seed and `POST /memberships`). */
  addMember(room: RoomRec, person: PersonRec, isModerator = false): MembershipRec {
    const m: MembershipRec = {
      id: restId('MEMBERSHIP', `${person.uuid}:${room.uuid}`),
      roomId: room.id,
      personUuid: person.uuid,
      isModerator,
      created: this.iso(),
    };
    room.members.set(person.uuid, m);
    return m;
  }

  /** Creates a room with the given members (the first is the creator). */
  addRoom(title: string, type: 'group' | 'direct', members: PersonRec[], uuid: string = randomUUID()): RoomRec {
    const now = this.iso();
    const room: RoomRec = {
      uuid,
      id: restId('ROOM', uuid),
      title,
      type,
      creatorId: members[0]?.id ?? '',
      ownerId: members[0]?.orgId ?? ORG_ID,
      created: now,
      lastActivity: now,
      members: new Map(),
    };
    this.rooms.set(room.id, room);
    for (const p of members) this.addMember(room, p);
    return room;
  }

  /** Deletes a room with its memberships and messages. */
  deleteRoom(room: RoomRec): void {
    this.rooms.delete(room.id);
    room.members.clear();
    this.messages = this.messages.filter((m) => m.roomUuid !== room.uuid);
  }

  /** Posts a message into a room. */
  addMessage(room: RoomRec, person: PersonRec, fields: Partial<MessageRec>): MessageRec {
    const uuid = randomUUID();
    const msg: MessageRec = {
      ...fields,
      id: restId('MESSAGE', uuid),
      roomUuid: room.uuid,
      personUuid: person.uuid,
      created: this.iso(),
      seq: ++this.messageSeq,
    };
    this.messages.push(msg);
    room.lastActivity = msg.created;
    return msg;
  }

  /** A Service App's machine account in an org (created on first use; stable ids across resets). */
  machineAccount(app: ServiceAppRec, orgId: string): PersonRec {
    const uuid = stableUuid(`machine:${app.id}:${orgId}`);
    const found = this.peopleByUuid.get(uuid);
    if (found) return found;
    return this.addPerson({
      email: `${uuid}@appid.ciscospark.com`,
      displayName: app.name,
      type: 'appuser',
      orgId,
      serviceAppId: app.id,
    });
  }

  /**
   * A Service App's guest for `subject` (created on first use). A new `displayName` renames the guest: the record is
   * replaced, so caches keyed by the old record see the change.
   */
  guest(app: ServiceAppRec, orgId: string, subject: string, displayName: string): PersonRec {
    const uuid = stableUuid(`guest:${app.id}:${subject}`);
    const found = this.peopleByUuid.get(uuid);
    if (found?.displayName === displayName) return found;
    return this.addPerson({
      email: `${uuid}@appid.ciscospark.com`,
      displayName,
      type: 'appuser',
      orgId,
      serviceAppId: app.id,
      guestSubject: subject,
    });
  }

  private addPerson(
    p: Omit<PersonRec, 'uuid' | 'id' | 'created' | 'orgId' | 'orgUuid' | 'roles'> & {
      orgId?: string;
      roles?: readonly AdminRole[];
    },
  ): PersonRec {
    // Machine accounts and guests are named `<uuid>@appid.ciscospark.com`: their uuid is that local part.
    const uuid =
      p.type === 'appuser' ? (p.email.split('@')[0] as string) : stableUuid(`person:${p.email.toLowerCase()}`);
    // The seed schema has already checked and normalized orgId; no orgId means the default org.
    const org = p.orgId !== undefined ? parseOrgId(p.orgId) : undefined;
    const rec: PersonRec = {
      ...p,
      uuid,
      id: restId('PEOPLE', uuid),
      orgId: org?.id ?? ORG_ID,
      orgUuid: org?.uuid ?? ORG_UUID,
      roles: p.roles ?? [],
      created: '2024-01-15T09:30:00.000Z',
    };
    this.people.set(rec.id, rec);
    this.peopleByEmail.set(p.email.toLowerCase(), rec);
    this.peopleByUuid.set(uuid, rec);
    return rec;
  }

  private load(): void {
    const s = this.seed;
    for (const it of s.integrations) {
      this.integrations.set(it.clientId, {
        clientId: it.clientId,
        clientSecret: it.clientSecret,
        name: it.name ?? 'Webex integration',
        redirectUris: new Set(it.redirectUris),
        soleRedirectUri: it.redirectUris.length === 1 ? it.redirectUris[0] : undefined,
        scopes: new Set(it.scopes),
      });
    }
    for (const a of s.serviceApps) {
      this.serviceApps.set(a.id, {
        ...a,
        name: a.name ?? 'Webex service app',
        authorizedOrgs: new Set(a.authorizedOrgs),
      });
      // The app's own client: only the refresh_token grant uses it (no redirect URIs, so no authorization codes).
      this.integrations.set(a.clientId, {
        clientId: a.clientId,
        clientSecret: a.clientSecret,
        name: a.name ?? 'Webex service app',
        redirectUris: new Set(),
        soleRedirectUri: undefined,
        scopes: new Set(a.scopes),
        serviceAppId: a.id,
      });
    }
    for (const u of s.users) this.addPerson({ ...u, type: 'person' });
    for (const b of s.bots) {
      // Bots keep the default org.
      const bot = this.addPerson({ email: b.email, displayName: b.displayName, type: 'bot' });
      // Bot tokens never expire in practice ("100 years") and carry every user scope.
      this.accessTokens.set(b.token, {
        token: b.token,
        clientId: undefined,
        personUuid: bot.uuid,
        scopes: new Set(['spark:all', 'spark:kms']),
        created: 0,
        expiresAt: Number.POSITIVE_INFINITY,
      });
    }
    s.rooms.forEach((r, i) => {
      const members = r.members.map((e) => this.personByEmail(e)).filter((p): p is PersonRec => !!p);
      const room = this.addRoom(r.title, r.type ?? 'group', members, seededRoomUuid(i, r.title));
      for (const m of r.messages ?? []) {
        const from = this.personByEmail(m.from);
        if (from) this.addMessage(room, from, { text: m.text ?? m.markdown, markdown: m.markdown });
      }
    });
  }
}
