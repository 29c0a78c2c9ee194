/**
 * The home page and the bring-your-own-credentials form (`POST /configure`, `POST /configure/paste`). A brought client
 * secret goes to the vault, encrypted; the session keeps only the integration's id.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import { WEBEX_API_BASE, WEBEX_FEDRAMP_API_BASE } from '../../config.js';
import { scopeInfo } from '../../scopes/catalog.js';
import { recordAudit } from '../audit.js';
import type { ServerContext } from '../context.js';
import { demoEmulatorBase, parseAuthorizationUrl } from '../paste.js';
import { type ByoModel, byoView } from '../views/byo.js';
import { type HomeModel, homeView, maskId } from '../views/home.js';
import { landingView } from '../views/signin.js';
import { integrationIdFor } from './oauth.js';
import type { RouteOptions } from './signin.js';

/** How many integrations one owner may bring with the form. */

/** What a first look pre-checks when nothing was configured: who you are and your spaces. */
const DEFAULT_PICKED_SCOPES = ['spark:people_read', 'spark:rooms_read'];

/**
 * The scopes the picker pre-checks: the configured WEBEX_SCOPES (outside demo mode, where they are the integration's
 * own list), else the first-look pair where the integration offers it, else everything it offers.
 */
function defaultPicked(configured: readonly string[], offered: readonly string[] | undefined): string[] {
  if (configured.length) return [...configured];
  // An integration without a registered list offers the whole catalog.
  const list = offered?.length ? offered : undefined;
  const pair = DEFAULT_PICKED_SCOPES.filter((s) => !list || list.includes(s));
  return pair.length ? pair : [...(list ?? DEFAULT_PICKED_SCOPES)];
}

export const MAX_BROUGHT_INTEGRATIONS = 10;

/** How the home page describes where tokens come from. */
export function modeDescription(ctx: ServerContext): string {
  switch (ctx.config.mode) {
    case 'demo':
      return 'Demo mode: the flow runs against the Webex emulator built into this server, offline. Tokens work only against the emulator.';
    case 'fedramp':
      return 'Tokens come from Webex for Government (FedRAMP).';
    case 'custom':
      return `Tokens come from ${ctx.config.apiBase}.`;
    default:
      return 'Tokens come from Webex (webexapis.com).';
  }
}

/** Where an integration at `apiBase` gets its tokens from, in words (the home page's integration section). */
export function tokenSource(ctx: ServerContext, apiBase: string): string {
  const base = apiBase.replace(/\/+$/, '');
  if (ctx.config.mode === 'demo' && base === demoEmulatorBase(ctx.config)) return 'the local Webex emulator';
  if (base === WEBEX_API_BASE) return 'Webex (webexapis.com)';
  if (base === WEBEX_FEDRAMP_API_BASE) return 'Webex for Government (FedRAMP)';
  return base;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

const configureBody = z.object({
  _csrf: z.string(),
  clientId: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, 'The client id has letters, digits, - and _ only.'),
  clientSecret: z
    .string()
    .trim()
    .regex(/^[\x21-\x7e]{1,200}$/, 'The client secret is 1 to 200 printable characters without spaces.'),
  redirectUri: z
    .string()
    .trim()
    .max(2000)
    .refine(
      (v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol),
      'The redirect URI must be an http(s) URL.',
    ),
  scopes: z
    .string()
    .max(4000)
    .optional()
    .transform((v) => (v ?? '').split(/[\s,]+/).filter((s) => s !== ''))
    .refine((list) => list.every((s) => scopeInfo(s)), 'Every scope must be a Webex scope, such as spark:people_read.'),
  // Webex, FedRAMP, or (demo mode only) the loopback emulator's base: checked against that list in the handler.
  apiBase: z.string().max(2000).optional(),
});
const pasteBody = z.object({ _csrf: z.string(), url: z.string().max(10_000) });

/** Registers the home page and the bring-your-own form. */
export const homeRoutes: FastifyPluginAsync<RouteOptions> = async (app: FastifyInstance, { ctx }) => {
  async function render(request: FastifyRequest, reply: FastifyReply, byo?: Partial<ByoModel>, status = 200) {
    const principal = request.principal;
    if (principal.ownerId === undefined && !principal.admin) {
      const notice = (request.query as { signin?: unknown }).signin;
      return reply.page(
        'Sign in',
        landingView({
          csrf: request.csrf,
          modeDescription: modeDescription(ctx),
          notice: notice === 'required' || notice === 'signed-out' ? notice : undefined,
          allowedDomains: ctx.config.allowedEmailDomains,
        }),
        status,
      );
    }
    const brought = request.server.sessions.data(request).integrationId;
    const integrationId = integrationIdFor(ctx, request);
    const integration = integrationId ? await ctx.vault.integrations.get(integrationId) : undefined;
    const source: 'configured' | 'demo' | 'this browser' = brought
      ? 'this browser'
      : ctx.config.mode === 'demo'
        ? 'demo'
        : 'configured';
    const connections = (await ctx.vault.connections.list(principal.ownerId))
      .sort((a, b) => b.updatedAt - a.updatedAt)
      .map((c) => ({
        id: c.id,
        name: c.person.displayName,
        email: c.person.email ?? c.person.emails?.[0] ?? '',
        kind: c.kind ?? 'integration',
      }));
    const tokensFrom = integration ? tokenSource(ctx, integration.apiBase) : undefined;
    const model: HomeModel = {
      csrf: request.csrf,
      // In demo mode a brought integration may be at Webex: the page says where its tokens come from instead.
      modeDescription:
        ctx.config.mode === 'demo' && brought && tokensFrom !== 'the local Webex emulator'
          ? "Demo mode: the configured integration is the Webex emulator's, built into this server; this browser uses the integration it brought."
          : modeDescription(ctx),
      integration: integration
        ? {
            clientIdMasked: maskId(integration.clientId),
            redirectUri: integration.redirectUri,
            source,
            scopes: integration.scopes,
            tokensFrom,
          }
        : undefined,
      defaultScopes: defaultPicked(ctx.config.mode === 'demo' ? [] : ctx.config.scopes, integration?.scopes),
      connections,
      selfSigned: integration ? integration.redirectUri.startsWith('https://') : false,
      byo: byoView({
        csrf: request.csrf,
        redirectUri: ctx.config.redirectUri,
        primary: !integration,
        brought: brought !== undefined,
        emulatorApiBase: demoEmulatorBase(ctx.config),
        ...byo,
      }),
    };
    return reply.page('Get a Webex token', homeView(model), status);
  }

  /**
   * `localhost` and `127.0.0.1` keep separate cookies: a flow started on one and answered on the other (the redirect
   * URI's) cannot find its session. The home page therefore moves to the redirect URI's loopback name first.
   */
  async function home(request: FastifyRequest, reply: FastifyReply) {
    const want = new URL(ctx.config.redirectUri);
    const here = URL.canParse(`http://${request.host}`) ? new URL(`http://${request.host}`) : undefined;
    const samePort = here && (here.port || '80') === (want.port || (want.protocol === 'https:' ? '443' : '80'));
    if (
      here &&
      samePort &&
      here.hostname !== want.hostname &&
      LOOPBACK.has(here.hostname) &&
      LOOPBACK.has(want.hostname)
    ) {
      return reply.redirect(`${want.origin}/`);
    }
    return render(request, reply);
  }
  app.get('/home', { config: { access: 'anyone' } }, home);
  if (!ctx.callbackPaths.has('/')) app.get('/', { config: { access: 'anyone' } }, home);

  app.post('/configure/paste', async (request, reply) => {
    const body = pasteBody.safeParse(request.body ?? {});
    if (!body.success) return render(request, reply, { message: 'Paste a URL of at most 10,000 characters.' }, 400);
    // In demo mode the emulator's own authorization URL is accepted too (its loopback origin, nothing else on http).
    const emulator = demoEmulatorBase(ctx.config);
    const result = parseAuthorizationUrl(body.data.url, emulator ? [new URL(emulator).origin] : []);
    if (!result.ok) return render(request, reply, { message: result.message }, 400);
    const i = result.integration;
    if (emulator && new URL(i.apiBase).origin === new URL(emulator).origin && i.apiBase !== emulator) {
      const path = `${new URL(emulator).pathname.replace(/\/+$/, '')}/authorize`;
      return render(
        request,
        reply,
        { message: `That emulator URL is not its authorization URL: its path should be ${path}.` },
        400,
      );
    }
    return render(request, reply, {
      apiBase: i.apiBase,
      clientId: i.clientId,
      redirectUri: i.redirectUri,
      scopes: i.scopes.join(' '),
      message: 'Filled from the URL. Now enter the client secret (the URL never contains it).',
      messageOk: true,
    });
  });

  app.post('/configure/forget', async (request, reply) => {
    if (request.session) {
      delete request.server.sessions.data(request).integrationId;
      await request.server.sessions.save(request);
    }
    return reply.code(303).redirect('/');
  });

  app.post('/configure', async (request, reply) => {
    const body = configureBody.safeParse(request.body ?? {});
    if (!body.success) {
      const first = body.error.issues[0];
      return render(request, reply, { message: first?.message ?? 'Check the form.' }, 400);
    }
    const d = body.data;
    const emulator = demoEmulatorBase(ctx.config);
    const bases: string[] = [WEBEX_API_BASE, WEBEX_FEDRAMP_API_BASE, ...(emulator ? [emulator] : [])];
    if (d.apiBase !== undefined && !bases.includes(d.apiBase)) {
      const message = emulator
        ? 'Choose Webex, Webex for Government, or the Webex emulator of this demo.'
        : 'Choose Webex or Webex for Government.';
      return render(request, reply, { message }, 400);
    }
    const ownerId = request.principal.ownerId;
    if (ownerId === undefined) {
      return reply.errorPage({
        status: 403,
        title: 'Sign in first',
        explanation: 'A brought integration belongs to the account that brings it.',
        action: 'Sign in with Webex, then bring your integration.',
      });
    }
    const apiBase = d.apiBase ?? (ctx.config.mode === 'demo' ? WEBEX_API_BASE : ctx.config.apiBase);
    const mine = await ctx.vault.integrations.findByClientId(d.clientId, apiBase, ownerId);
    if (!mine && (await ctx.vault.integrations.count(ownerId)) >= MAX_BROUGHT_INTEGRATIONS) {
      return render(
        request,
        reply,
        {
          message: `You have brought ${MAX_BROUGHT_INTEGRATIONS} integrations already; this server keeps no more per account.`,
        },
        429,
      );
    }
    await request.server.sessions.ensure(request, reply);
    // Keyed by owner + client id + API base: it never changes another owner's row, nor the configured integration.
    const stored = await ctx.vault.integrations.upsert({
      ownerId,
      clientId: d.clientId,
      clientSecret: d.clientSecret,
      redirectUri: d.redirectUri,
      // In demo mode the configured base is the emulator; a brought integration lives at Webex.
      apiBase,
      scopes: d.scopes,
    });
    // Neither the client id (a 64-character hex run) nor its secret: the integration id and where it points.
    await recordAudit(ctx, request, {
      action: 'integration.configure',
      ownerId,
      target: stored.id,
      detail: `${mine ? 'updated' : 'added'}; API ${new URL(apiBase).host}`,
    });
    await request.server.sessions.rotate(request, reply);
    request.server.sessions.data(request).integrationId = stored.id;
    await request.server.sessions.save(request);
    return reply.code(303).redirect('/');
  });
};
