/**
 * A seed with two orgs, admins, a Service App and an integration that may fetch its tokens and administer
 * authorizations (for the service-apps, authorizations and guests tests).
 */
import { randomUUID } from 'node:crypto';
import { DEMO_SEED } from '../../src/emulator/index.js';
import { authorize, type Emu, REDIRECT, token } from './helpers.js';

export const ORG_A = randomUUID();
export const ORG_B = randomUUID();
/** REST form of an org id. */
export const orgRestId = (uuid: string) =>
  Buffer.from(`ciscospark://us/ORGANIZATION/${uuid}`).toString('base64').replace(/=+$/, '');

export const ADMIN_IT = {
  name: 'Admin tool',
  clientId: `C${'a1'.repeat(32)}`,
  clientSecret: 'b2'.repeat(32),
  redirectUris: ['http://localhost:8080/oauth'],
  scopes: [
    'spark:people_read',
    'spark:applications_token',
    'identity:tokens_read',
    'identity:tokens_write',
    'spark-admin:people_read',
    'guest-issuer:write',
  ],
};

/** The admin tool as a vault integration (what `connectPerson` of test/vault/lifecycle-support.ts takes). */
export const ADMIN_INTEGRATION = {
  clientId: ADMIN_IT.clientId,
  clientSecret: ADMIN_IT.clientSecret,
  redirectUri: 'http://localhost:8080/oauth',
  scopes: ADMIN_IT.scopes,
};

/** What an admin connection asks for to list and delete the org's grants (the Authorizations API). */
export const ADMIN_SCOPES = ['spark:people_read', 'identity:tokens_read', 'identity:tokens_write'];

export const SA = {
  id: 'Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL3NhLTE',
  clientId: `C${'5a'.repeat(32)}`,
  clientSecret: '5b'.repeat(32),
  name: 'Reporting service app',
  scopes: ['spark:people_read', 'spark-admin:people_read', 'guest-issuer:write', 'guest-issuer:read'],
  authorizedOrgs: [ORG_A],
};

export const ADMIN_SEED = {
  ...DEMO_SEED,
  integrations: [...DEMO_SEED.integrations, ADMIN_IT],
  users: [
    ...DEMO_SEED.users,
    { email: 'admin-a@a.example', displayName: 'Admin A', orgId: ORG_A, roles: ['full_admin' as const] },
    { email: 'dev-a@a.example', displayName: 'Device Admin A', orgId: ORG_A, roles: ['device_admin' as const] },
    { email: 'carol@a.example', displayName: 'Carol A', orgId: ORG_A },
    { email: 'admin-b@b.example', displayName: 'Admin B', orgId: ORG_B, roles: ['user_admin' as const] },
    { email: 'dave@b.example', displayName: 'Dave B', orgId: ORG_B },
  ],
  serviceApps: [SA],
};

/** A code grant through the admin tool for `email`: the token response body. */
export async function adminLogin(emu: Emu, email: string, scope = ADMIN_IT.scopes.join(' ')) {
  const cb = await authorize(emu, { client_id: ADMIN_IT.clientId, scope }, email);
  const code = cb.searchParams.get('code') as string;
  const res = await token(emu, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    client_id: ADMIN_IT.clientId,
    client_secret: ADMIN_IT.clientSecret,
  });
  if (res.status !== 200) throw new Error(`token ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { access_token: string; refresh_token: string; expires_in: number };
}

/** Calls the Service App token endpoint. */
export async function fetchAppToken(emu: Emu, bearer: string, body: Record<string, unknown>, appId = SA.id) {
  const r = await fetch(`${emu.apiBase}/applications/${appId}/token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, any> };
}

/** The Service App's credentials for `org` (a uuid). */
export const appCreds = (org: string) => ({
  clientId: SA.clientId,
  clientSecret: SA.clientSecret,
  targetOrgId: orgRestId(org),
});
