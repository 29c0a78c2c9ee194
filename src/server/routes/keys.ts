/**
 * The keys page (members): `GET /keys` lists the broker API keys the viewer may see — a member's own, every key for
 * an admin — with a form to make one; `POST /keys` makes one and shows it once (never stored in the session nor put
 * in a URL); `POST /keys/:id/revoke` and `POST /keys/:id/narrow` act on a key the viewer may see. A key another
 * member owns, or a connection they may not act on, is the same 404 as an unknown id. Each action is audited.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import {
  type ApiKeyRecord,
  type AuditAction,
  KEY_PERMISSIONS,
  type KeyPermission,
  LOCAL_OPERATOR,
  type Vault,
  VaultError,
} from '../../vault/types.js';
import { owns, type Principal } from '../access/principal.js';
import { recordAudit } from '../audit.js';
import type { ServerVault } from '../ports.js';
import { type KeyConnection, type KeyFormValues, keyCreatedView, keysView } from '../views/keys.js';
import type { RouteOptions } from './signin.js';

/** The vault calls of this page (the API keys are absent from a page-only stand-in vault). */
type KeysVault = ServerVault & Pick<Vault, 'apiKeys'>;

const ID = /^[A-Za-z0-9_-]{1,100}$/;
const idParams = z.object({ id: z.string().regex(ID) });
/** One form value or several (checkboxes), as @fastify/formbody parses them. */
const many = (item: z.ZodString, max: number, tooMany: string) =>
  z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(item).max(max, tooMany));
const PATH = /^[a-z][A-Za-z0-9_-]*(?:\/[A-Za-z0-9_-]+)*$/;
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** Words of a free-text list: split on spaces and commas. */
const words = (s: string) => s.split(/[\s,]+/).filter(Boolean);

const createBody = z.object({
  _csrf: z.string().optional(),
  name: z.string().max(100, 'The name is longer than 100 characters.').default(''),
  connection: many(z.string().regex(ID, 'That is not a connection id.'), 50, 'A key names at most 50 connections.'),
  permission: many(z.string().max(20), KEY_PERMISSIONS.length, 'Pick each permission once.'),
  paths: z.string().max(1000, 'Too many paths.').default(''),
  methods: z.string().max(100, 'Too many methods.').default(''),
});

/** What a valid form asks for, or the message that refuses it. */
function checkForm(
  body: z.infer<typeof createBody>,
):
  | { ok: true; name: string; permissions: KeyPermission[]; paths?: string[]; methods?: string[] }
  | { ok: false; error: string } {
  const name = body.name.replace(/\s+/g, ' ').trim();
  if (!name) return { ok: false, error: 'Give the key a name (what will use it).' };
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name))
    return { ok: false, error: 'The name may not hold control characters.' };
  if (!body.connection.length) return { ok: false, error: 'Pick at least one connection.' };
  const unknown = body.permission.find((p) => !(KEY_PERMISSIONS as readonly string[]).includes(p));
  if (unknown !== undefined) return { ok: false, error: `There is no permission “${unknown.slice(0, 20)}”.` };
  const permissions = KEY_PERMISSIONS.filter((p) => body.permission.includes(p));
  if (!permissions.length) return { ok: false, error: 'Pick at least one permission.' };
  const paths = words(body.paths).map((p) => p.replace(/^\/+|\/+$/g, ''));
  const methods = words(body.methods).map((m) => m.toUpperCase());
  if ((paths.length || methods.length) && !permissions.includes('proxy'))
    return { ok: false, error: 'Paths and methods limit the proxy permission only: pick proxy, or leave them empty.' };
  const badPath = paths.find((p) => !PATH.test(p) || p.length > 100);
  if (badPath !== undefined || paths.length > 20)
    return {
      ok: false,
      error:
        'Paths are up to 20 API paths such as rooms or messages (a lower-case letter first, then letters, digits, - _ /).',
    };
  const badMethod = methods.find((m) => !(METHODS as readonly string[]).includes(m));
  if (badMethod !== undefined) return { ok: false, error: `Methods are ${METHODS.join(', ')}.` };
  return {
    ok: true,
    name,
    permissions,
    ...(paths.length ? { paths: [...new Set(paths)] } : {}),
    ...(methods.length ? { methods: [...new Set(methods)] } : {}),
  };
}

const NOTICES: Record<string, string> = {
  revoked: 'The key was revoked: it no longer works.',
  narrowed: 'The key may now only read tokens.',
};

const notFound = {
  status: 404,
  title: 'Not found',
  explanation: 'There is no key or connection with this id that you may manage.',
  action: 'Go back to the keys page.',
  retryHref: '/keys',
};

/** Registers `/keys` and its actions. */
export const keysRoutes: FastifyPluginAsync<RouteOptions> = async (app: FastifyInstance, { ctx }) => {
  if (!('apiKeys' in ctx.vault)) return;
  const vault = ctx.vault as KeysVault;

  /** Records an audit entry (server/audit.ts: the request's actor and address; a failure never fails the request). */
  const audit = (request: FastifyRequest, action: AuditAction, key: ApiKeyRecord, detail?: string) =>
    recordAudit(ctx, request, { action, target: key.id, ownerId: key.ownerId, ...(detail ? { detail } : {}) });

  /** The keys this request may see: a member's own, every key for an admin. */
  async function visibleKeys(principal: Principal): Promise<ApiKeyRecord[]> {
    if (principal.admin) return vault.apiKeys.list();
    return principal.ownerId === undefined ? [] : vault.apiKeys.list(principal.ownerId);
  }

  /** The key of `:id` if this request may see it. */
  async function load(request: FastifyRequest): Promise<ApiKeyRecord | undefined> {
    const parsed = idParams.safeParse(request.params);
    if (!parsed.success) return undefined;
    const key = (await visibleKeys(request.principal)).find((k) => k.id === parsed.data.id);
    return key && owns(request.principal, key.ownerId) ? key : undefined;
  }

  /** Owner id → label, for admins. */
  async function ownerLabels(): Promise<Map<string, string>> {
    const owners = new Map([[LOCAL_OPERATOR, 'local operator']]);
    for (const a of await vault.accounts.list()) owners.set(a.id, a.email);
    return owners;
  }

  /** Renders `/keys` (with a notice, or a refused form and its message). */
  async function page(
    request: FastifyRequest,
    reply: FastifyReply,
    extra: { status?: number; notice?: string; error?: string; form?: KeyFormValues } = {},
  ) {
    const p = request.principal;
    const admin = p.admin;
    const owners = admin ? await ownerLabels() : new Map<string, string>();
    const all = admin ? await vault.connections.list() : p.ownerId ? await vault.connections.list(p.ownerId) : [];
    const connections: KeyConnection[] = all
      .filter((c) => owns(p, c.ownerId))
      .map((c) => ({
        id: c.id,
        name: c.displayName,
        email: c.personEmail,
        ...(admin ? { owner: owners.get(c.ownerId) ?? c.ownerId } : {}),
      }));
    return reply.page(
      'API keys',
      keysView({
        csrf: request.csrf,
        keys: await visibleKeys(p),
        connections,
        admin,
        owners,
        notice: extra.notice,
        error: extra.error,
        form: extra.form,
      }),
      extra.status ?? 200,
    );
  }

  app.get('/keys', { config: { access: 'member' } }, async (request, reply) => {
    const notice = (request.query as { notice?: unknown } | undefined)?.notice;
    return page(request, reply, { notice: typeof notice === 'string' ? NOTICES[notice] : undefined });
  });

  app.post('/keys', { config: { access: 'member' } }, async (request, reply) => {
    const parsed = createBody.safeParse(request.body ?? {});
    if (!parsed.success) {
      const error = parsed.error.issues.find((i) => !i.message.startsWith('Invalid'))?.message;
      return page(request, reply, { status: 400, error: error ?? 'The form could not be read: reload the page.' });
    }
    const body = parsed.data;
    const form: KeyFormValues = {
      name: body.name,
      connectionIds: body.connection,
      permissions: KEY_PERMISSIONS.filter((p) => body.permission.includes(p)),
      paths: body.paths,
      methods: body.methods,
    };
    const checked = checkForm(body);
    if (!checked.ok) return page(request, reply, { status: 400, error: checked.error, form });
    // Every connection must be one the viewer may act on; any other is the same 404 as an unknown id.
    const owners = new Set<string>();
    for (const id of new Set(body.connection)) {
      const connection = await vault.connections.get(id);
      if (!connection || !owns(request.principal, connection.ownerId)) return reply.errorPage(notFound);
      owners.add(connection.ownerId);
    }
    if (owners.size !== 1) {
      return page(request, reply, {
        status: 400,
        error: 'A key belongs to one owner: these connections have different owners. Make one key per owner.',
        form,
      });
    }
    const ownerId = [...owners][0] as string;
    let created: Awaited<ReturnType<KeysVault['apiKeys']['create']>>;
    try {
      created = await vault.apiKeys.create({
        name: checked.name,
        connectionIds: [...new Set(body.connection)],
        ownerId,
        permissions: checked.permissions,
        ...(checked.paths ? { paths: checked.paths } : {}),
        ...(checked.methods ? { methods: checked.methods } : {}),
      });
    } catch (error) {
      if (error instanceof VaultError && error.code === 'not_found') return reply.errorPage(notFound);
      if (error instanceof VaultError && error.code === 'invalid_request')
        return page(request, reply, { status: 400, error: error.message, form });
      throw error;
    }
    await audit(request, 'key.create', created.record, created.record.permissions.join(','));
    const origin = ctx.config.publicUrl ?? `${request.protocol}://${request.host}`;
    return reply
      .code(201)
      .page(
        'Key made',
        keyCreatedView({ key: created.key, record: created.record, origin, apiBase: ctx.config.apiBase }),
      );
  });

  app.post('/keys/:id/revoke', { config: { access: 'member' } }, async (request, reply) => {
    const key = await load(request);
    if (!key) return reply.errorPage(notFound);
    if (await vault.apiKeys.revoke(key.id)) await audit(request, 'key.revoke', key);
    return reply.code(303).redirect('/keys?notice=revoked');
  });

  app.post('/keys/:id/narrow', { config: { access: 'member' } }, async (request, reply) => {
    const key = await load(request);
    if (!key) return reply.errorPage(notFound);
    // Only a legacy key is narrowed here (to `token`, which it has): narrowing a newer key to `token` could add it.
    if (!key.legacy) {
      return reply.errorPage({
        status: 400,
        title: 'Nothing to narrow',
        explanation: 'This key already has only the permissions it was made with.',
        action: 'Revoke it and make a new key with the permissions you want.',
        retryHref: '/keys',
      });
    }
    if (!(await vault.apiKeys.narrow(key.id, ['token']))) return reply.errorPage(notFound);
    await audit(request, 'key.narrow', key, 'token');
    return reply.code(303).redirect('/keys?notice=narrowed');
  });
};
