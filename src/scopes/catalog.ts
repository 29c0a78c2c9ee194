/**
 * The Webex integration scope catalog: every scope an integration can request, a one-line meaning, and the REST
 * endpoints it unlocks. Pure data plus pure lookups with **no imports**, because the emulator (which shares no other
 * code with the client side) reads it too.
 *
 * Source: developer.webex.com "Integration scopes" (docs/webex-api.md "Scopes").
 */

/** One Webex scope. */
export interface ScopeInfo {
  /** The scope string as Webex spells it, e.g. `spark:people_read`. */
  name: string;
  /** One-line, plain-text meaning for people choosing scopes. */
  meaning: string;
  /** Endpoints the scope unlocks, as `METHOD /path` relative to the `/v1` base; `{x}` is a path parameter. */
  endpoints: string[];
  /** `user`: acts as the person; `admin`: org admins only; `compliance`: compliance officers only; `oidc`: identity claims. */
  kind: 'user' | 'admin' | 'compliance' | 'oidc' | 'other';
}

/** The OpenID Connect scopes; they need no registration on the integration. */
export const OIDC_SCOPES: readonly string[] = ['openid', 'email', 'profile', 'phone', 'address'];

/** Every Webex integration scope known to this project. */
export const SCOPES: readonly ScopeInfo[] = [
  {
    name: 'spark:all',
    meaning: 'Full access to your Webex account (every user-level spark: scope)',
    endpoints: [],
    kind: 'user',
  },
  {
    name: 'spark:kms',
    meaning: 'Interact with encrypted content (messages, room titles)',
    endpoints: [],
    kind: 'user',
  },
  {
    name: 'spark:people_read',
    meaning: 'Read your profile and the company directory',
    endpoints: ['GET /people/me', 'GET /people', 'GET /people/{personId}'],
    kind: 'user',
  },
  {
    name: 'spark:rooms_read',
    meaning: 'List the titles of the spaces you are in',
    endpoints: ['GET /rooms', 'GET /rooms/{roomId}'],
    kind: 'user',
  },
  {
    name: 'spark:rooms_write',
    meaning: 'Create, rename and delete spaces on your behalf',
    endpoints: ['POST /rooms', 'PUT /rooms/{roomId}', 'DELETE /rooms/{roomId}'],
    kind: 'user',
  },
  {
    name: 'spark:memberships_read',
    meaning: 'List the people in the spaces you are in',
    endpoints: ['GET /memberships', 'GET /memberships/{membershipId}'],
    kind: 'user',
  },
  {
    name: 'spark:memberships_write',
    meaning: 'Invite people to and remove people from your spaces',
    endpoints: ['POST /memberships', 'PUT /memberships/{membershipId}', 'DELETE /memberships/{membershipId}'],
    kind: 'user',
  },
  {
    name: 'spark:messages_read',
    meaning: 'Read the content of the spaces you are in',
    endpoints: ['GET /messages', 'GET /messages/{messageId}', 'GET /contents/{contentId}'],
    kind: 'user',
  },
  {
    name: 'spark:messages_write',
    meaning: 'Post, edit and delete messages on your behalf',
    endpoints: ['POST /messages', 'PUT /messages/{messageId}', 'DELETE /messages/{messageId}'],
    kind: 'user',
  },
  {
    name: 'spark:devices_read',
    meaning: 'See your own devices',
    endpoints: ['GET /devices', 'GET /devices/{deviceId}'],
    kind: 'user',
  },
  {
    name: 'spark:devices_write',
    meaning: 'Change and remove your own devices',
    endpoints: ['PATCH /devices/{deviceId}', 'DELETE /devices/{deviceId}'],
    kind: 'user',
  },
  {
    name: 'spark:xapi_statuses',
    meaning: 'Read the status of your devices (xAPI)',
    endpoints: ['GET /xapi/status'],
    kind: 'user',
  },
  {
    name: 'spark:xapi_commands',
    meaning: 'Run commands on your devices (xAPI)',
    endpoints: ['POST /xapi/command/{commandName}'],
    kind: 'user',
  },
  {
    name: 'spark:applications_token',
    meaning: 'Fetch access tokens for service apps your org authorized',
    endpoints: ['POST /applications/{applicationId}/token'],
    kind: 'other',
  },
  {
    name: 'spark-admin:people_read',
    meaning: 'Read every person in your organization (admins only)',
    endpoints: ['GET /people', 'GET /people/{personId}'],
    kind: 'admin',
  },
  {
    name: 'spark-admin:people_write',
    meaning: 'Create, change and delete people in your organization (admins only)',
    endpoints: ['POST /people', 'PUT /people/{personId}', 'DELETE /people/{personId}'],
    kind: 'admin',
  },
  {
    name: 'spark-admin:devices_read',
    meaning: "Read your organization's devices (admins only)",
    endpoints: ['GET /devices', 'GET /devices/{deviceId}'],
    kind: 'admin',
  },
  {
    name: 'spark-admin:devices_write',
    meaning: "Change and delete your organization's devices (admins only)",
    endpoints: ['POST /devices/activationCode', 'PATCH /devices/{deviceId}', 'DELETE /devices/{deviceId}'],
    kind: 'admin',
  },
  {
    name: 'spark-admin:workspace_locations_read',
    meaning: 'Read workspace locations (admins only)',
    endpoints: ['GET /workspaceLocations', 'GET /workspaceLocations/{locationId}'],
    kind: 'admin',
  },
  {
    name: 'spark-admin:workspace_locations_write',
    meaning: 'Change workspace locations (admins only)',
    endpoints: [
      'POST /workspaceLocations',
      'PUT /workspaceLocations/{locationId}',
      'DELETE /workspaceLocations/{locationId}',
    ],
    kind: 'admin',
  },
  {
    name: 'spark-admin:reports_read',
    meaning: 'Read and download reports (admins only)',
    endpoints: ['GET /reports', 'GET /reports/{reportId}'],
    kind: 'admin',
  },
  {
    name: 'spark-admin:reports_write',
    meaning: 'Create and delete reports (admins only)',
    endpoints: ['POST /reports', 'DELETE /reports/{reportId}'],
    kind: 'admin',
  },
  {
    name: 'spark-admin:telephony_config_read',
    meaning: 'Read Webex Calling configuration (admins only)',
    endpoints: ['GET /telephony/config/locations', 'GET /telephony/config/locations/{locationId}'],
    kind: 'admin',
  },
  {
    name: 'spark-admin:telephony_config_write',
    meaning: 'Change Webex Calling configuration (admins only)',
    endpoints: ['PUT /telephony/config/locations/{locationId}'],
    kind: 'admin',
  },
  {
    name: 'spark-compliance:events_read',
    meaning: 'Read the events of your organization (compliance officers only)',
    endpoints: ['GET /events', 'GET /events/{eventId}'],
    kind: 'compliance',
  },
  {
    name: 'spark-compliance:messages_write',
    meaning: 'Delete any message in your organization (compliance officers only)',
    endpoints: ['DELETE /messages/{messageId}'],
    kind: 'compliance',
  },
  {
    name: 'identity:tokens_read',
    meaning: "List people's authorizations (admins only)",
    endpoints: ['GET /authorizations'],
    kind: 'admin',
  },
  {
    name: 'identity:tokens_write',
    meaning: "Revoke people's authorizations (admins only)",
    endpoints: ['DELETE /authorizations', 'DELETE /authorizations/{authorizationId}'],
    kind: 'admin',
  },
  {
    name: 'identity:placeonetimepassword_create',
    meaning: 'Create device activation codes for workspaces (admins only)',
    endpoints: ['POST /devices/activationCode'],
    kind: 'admin',
  },
  {
    name: 'identity:one_time_password',
    meaning: 'Create device activation codes for workspaces and persons (admins only)',
    endpoints: ['POST /devices/activationCode'],
    kind: 'admin',
  },
  {
    name: 'meeting:schedules_read',
    meaning: 'Read your meetings',
    endpoints: ['GET /meetings', 'GET /meetings/{meetingId}'],
    kind: 'user',
  },
  {
    name: 'meeting:schedules_write',
    meaning: 'Schedule, change and cancel your meetings',
    endpoints: ['POST /meetings', 'PUT /meetings/{meetingId}', 'DELETE /meetings/{meetingId}'],
    kind: 'user',
  },
  {
    name: 'meeting:participants_read',
    meaning: 'Read the participants of your meetings',
    endpoints: ['GET /meetingParticipants', 'GET /meetingParticipants/{participantId}'],
    kind: 'user',
  },
  {
    name: 'meeting:participants_write',
    meaning: 'Admit, mute and remove participants of your meetings',
    endpoints: ['PUT /meetingParticipants/{participantId}'],
    kind: 'user',
  },
  {
    name: 'meeting:admin_schedule_read',
    meaning: 'Read every meeting in your organization (admins only)',
    endpoints: ['GET /meetings', 'GET /meetings/{meetingId}'],
    kind: 'admin',
  },
  {
    name: 'meeting:admin_participants_read',
    meaning: 'Read the participants of any meeting in your organization (admins only)',
    endpoints: ['GET /meetingParticipants', 'GET /meetingParticipants/{participantId}'],
    kind: 'admin',
  },
  {
    name: 'guest-issuer:read',
    meaning: 'Count the guests a service app issued',
    endpoints: ['GET /guests/count'],
    kind: 'other',
  },
  {
    name: 'guest-issuer:write',
    meaning: 'Issue guest tokens',
    endpoints: ['POST /guests/token', 'GET /guests/count'],
    kind: 'other',
  },
  {
    name: 'openid',
    meaning: 'Sign you in with Webex (OpenID Connect id_token)',
    endpoints: ['GET /userinfo'],
    kind: 'oidc',
  },
  { name: 'email', meaning: 'Share your email address', endpoints: [], kind: 'oidc' },
  { name: 'profile', meaning: 'Share your name and locale', endpoints: [], kind: 'oidc' },
  { name: 'phone', meaning: 'Share your phone number', endpoints: [], kind: 'oidc' },
  { name: 'address', meaning: 'Share your address', endpoints: [], kind: 'oidc' },
];

const byName = new Map(SCOPES.map((s) => [s.name, s]));

/** The catalog entry of a scope, or `undefined` for a scope Webex does not know. */
export function scopeInfo(name: string): ScopeInfo | undefined {
  return byName.get(name);
}

/**
 * Whether `spark:all` grants `scope`: it aggregates every user-level `spark:` scope, never admin, compliance,
 * meeting, OIDC or service-app scopes (docs/webex-api.md "Scopes").
 */
export function sparkAllCovers(scope: string): boolean {
  return scope.startsWith('spark:') && byName.get(scope)?.kind === 'user';
}

/** Strips the query, a trailing slash and a leading `/v1` so that `/v1/people/me?x=1` reads `/people/me`. */
function normalisePath(path: string): string {
  let p = path.replace(/[?#].*$/, '');
  if (/^https?:\/\//i.test(p)) p = p.replace(/^https?:\/\/[^/]+/i, '');
  p = p.replace(/^\/v1(?=\/|$)/, '');
  if (p.length > 1) p = p.replace(/\/+$/, '');
  return p.startsWith('/') ? p : `/${p}`;
}

function templateMatches(template: string, path: string): boolean {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return false;
  return t.every((seg, i) => (seg.startsWith('{') && seg.endsWith('}') ? (p[i] ?? '') !== '' : seg === p[i]));
}

/**
 * The scopes any one of which would allow `method path` (path relative to the base, with or without `/v1`, query
 * ignored). `spark:all` is included whenever a user-level `spark:` scope is. Empty when the catalog does not know
 * the endpoint.
 */
export function scopesForEndpoint(method: string, path: string): string[] {
  const m = method.toUpperCase();
  const p = normalisePath(path);
  // A literal endpoint (`GET /people/me`) wins over a template that also matches (`GET /people/{personId}`).
  const literal = (e: string) => e === `${m} ${p}`;
  const templated = (e: string) => {
    const [em, ep] = e.split(' ');
    return em === m && ep !== undefined && templateMatches(ep, p);
  };
  let found = SCOPES.filter((s) => s.endpoints.some(literal)).map((s) => s.name);
  if (found.length === 0) found = SCOPES.filter((s) => s.endpoints.some(templated)).map((s) => s.name);
  if (found.some(sparkAllCovers)) found.push('spark:all');
  return found;
}
