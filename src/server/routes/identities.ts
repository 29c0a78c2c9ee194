/**
 * Bots and Service Apps in the web app (vault/identities.ts):
 *
 * - `GET /identities` (members): the viewer's bots and Service Apps, with a form for each; `POST /identities/bots` and
 *   `POST /identities/service-apps` add one (CSRF-checked forms; the token and the client secret are never shown
 *   again nor put in a URL) and go to the new connection's page.
 * - `POST /service-apps/webhook/:fetcher`: where Webex delivers the `serviceApp` events of fetching connection
 *   `:fetcher` (a machine endpoint, open and exempt from the CSRF check, answered only when `X-Spark-Signature` is
 *   valid under that fetcher's own secret). It acts only on an app that fetcher fetches: `authorized` onboards the
 *   org by itself; `deauthorized` turns the org's connection `needs_reauth` (`deauthorized`).
 * - The webhook is registered with each fetching connection's token when this server is reachable (an https
 *   `PUBLIC_URL`, or loopback beside a loopback Webex such as the emulator): once listening, and after each new
 *   Service App. A failure is logged (step and status only) and never fatal.
 */
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import { APPLICATIONS_TOKEN_SCOPE } from '../../vault/identities.js';
import { type Vault, VaultError } from '../../vault/types.js';
import { WebexClient } from '../../webex/client.js';
import { owns } from '../access/principal.js';
import { recordAudit } from '../audit.js';
import type { ServerVault } from '../ports.js';
import {
  ensureServiceAppWebhook,
  FETCHER_ID,
  SERVICE_APP_WEBHOOK_PATH,
  serviceAppDelivery,
  serviceAppWebhookTarget,
  validDelivery,
  webhookSecrets,
} from '../service-apps/webhook.js';
import { type IdentitiesModel, identitiesView, type ServiceAppFormValues } from '../views/identities.js';
import { connectionPath } from '../views/paths.js';
import type { RouteOptions } from './signin.js';

/** The vault calls of these routes. */
type IdentitiesVault = ServerVault & Pick<Vault, 'identities'>;

/** The largest delivery accepted (Webex's `serviceApp` deliveries are well under 2 KB). */
const MAX_DELIVERY_BYTES = 16 * 1024;

const printable = (max: number, what: string) =>
  z
    .string()
    .trim()
    .min(1, `Fill in the ${what}.`)
    .max(max, `The ${what} is too long.`)
    .regex(/^[\x21-\x7e]+$/, `The ${what} has characters it cannot hold.`);

const botBody = z.object({ _csrf: z.string().optional(), token: printable(4096, 'bot token') });
const appBody = z.object({
  _csrf: z.string().optional(),
  appId: printable(300, 'application id'),
  clientId: printable(256, 'client id'),
  clientSecret: printable(256, 'client secret'),
  orgId: printable(200, 'org id'),
  fetcherConnectionId: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'Pick the connection that fetches the tokens.'),
});

/** `GET /identities?appId=…&orgId=…&fetcher=…`: the Service App form filled in ("Fetch again"); anything else ignored. */
const prefill = z.object({
  appId: printable(300, 'application id').optional(),
  orgId: printable(200, 'org id').optional(),
  fetcher: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/)
    .optional(),
});

const NOTICES: Record<string, string> = {};

/** Registers the identities page, its forms and the Service App webhook receiver. */
export const identityRoutes: FastifyPluginAsync<RouteOptions> = async (app: FastifyInstance, { ctx }) => {
  if (!('identities' in ctx.vault)) return;
  const vault = ctx.vault as IdentitiesVault;
  const tls = Boolean((app.initialConfig as { https?: unknown }).https);
  const secrets = (fetcherId: string) => webhookSecrets((purpose) => vault.deriveKeys(purpose), fetcherId);

  /** Registers the Service Apps webhook with the token of fetching connection `fetcherId`, when reachable. */
  async function registerWebhook(fetcherId: string, log: FastifyBaseLogger): Promise<void> {
    const fetcher = await vault.connections.get(fetcherId);
    const integration = fetcher && (await vault.integrations.get(fetcher.integrationId));
    if (!fetcher || !integration || fetcher.status !== 'active') return;
    const targetUrl = serviceAppWebhookTarget(ctx.config, integration.apiBase, app.server.address(), tls, fetcherId);
    if (!targetUrl) return;
    try {
      const { accessToken } = await vault.connections.getFreshToken(fetcherId, 60);
      const client = new WebexClient({ apiBase: integration.apiBase, accessToken, fetch: ctx.fetch });
      await ensureServiceAppWebhook(client, { targetUrl, secret: secrets(fetcherId)[0] as string });
    } catch (error) {
      const e = error as { name?: string; step?: string; status?: number; code?: string };
      log.warn(
        { err: { name: e.name, step: e.step, status: e.status, code: e.code } },
        'service apps: could not register the webhook',
      );
    }
  }

  // Once listening (the target URL needs the port): one webhook per fetching connection of a stored Service App.
  app.addHook('onListen', async () => {
    const fetchers = new Set(
      (await vault.connections.listByKind('service_app').catch(() => []))
        .filter((c) => c.fetcherConnectionId)
        .map((c) => c.fetcherConnectionId as string),
    );
    for (const id of fetchers) void registerWebhook(id, app.log);
  });

  /** The viewer's own connections (an admin acting as an owner sees that owner's). */
  async function mine(request: FastifyRequest) {
    const ownerId = request.principal.ownerId;
    return ownerId === undefined ? [] : vault.connections.list(ownerId);
  }

  async function page(
    request: FastifyRequest,
    reply: FastifyReply,
    extra: Partial<Pick<IdentitiesModel, 'notice' | 'botError' | 'appError' | 'appForm'>> & { status?: number } = {},
  ) {
    const all = await mine(request);
    const model: IdentitiesModel = {
      csrf: request.csrf,
      connections: all.filter((c) => c.kind === 'bot' || c.kind === 'service_app'),
      fetchers: all
        .filter(
          (c) =>
            (c.kind ?? 'integration') === 'integration' &&
            c.status === 'active' &&
            c.scopes.includes(APPLICATIONS_TOKEN_SCOPE),
        )
        .map((c) => ({ id: c.id, name: c.displayName, email: c.personEmail })),
      receivesEvents: serviceAppWebhookTarget(ctx.config, ctx.config.apiBase, app.server.address(), tls) !== undefined,
      ...extra,
    };
    return reply.page('Bots and Service Apps', identitiesView(model), extra.status ?? 200);
  }

  /** A vault refusal as the form's message, or undefined for a failure that is not the form's. */
  const refusal = (error: unknown): { status: number; message: string } | undefined => {
    if (!(error instanceof VaultError)) return undefined;
    const status: Partial<Record<VaultError['code'], number>> = {
      invalid_request: 400,
      forbidden: 403,
      not_found: 404,
      conflict: 409,
      refresh_failed: 502,
      upstream_unavailable: 503,
      needs_reauth: 409,
    };
    return { status: status[error.code] ?? 400, message: error.message };
  };
  const firstIssue = (e: z.ZodError) => e.issues[0]?.message ?? 'The form could not be read: reload the page.';

  app.get('/identities', { config: { access: 'member' } }, async (request, reply) => {
    const notice = (request.query as { notice?: unknown } | undefined)?.notice;
    // "Fetch again" of a Service App needing re-authorization links here with its app, org and fetcher filled in.
    const again = prefill.safeParse(request.query ?? {});
    const appForm: ServiceAppFormValues | undefined =
      again.success && again.data.appId
        ? {
            appId: again.data.appId,
            clientId: '',
            orgId: again.data.orgId ?? '',
            fetcherConnectionId: again.data.fetcher ?? '',
          }
        : undefined;
    return page(request, reply, { notice: typeof notice === 'string' ? NOTICES[notice] : undefined, appForm });
  });

  app.post('/identities/bots', { config: { access: 'member' } }, async (request, reply) => {
    const parsed = botBody.safeParse(request.body ?? {});
    if (!parsed.success) return page(request, reply, { status: 400, botError: firstIssue(parsed.error) });
    const ownerId = request.principal.ownerId;
    if (ownerId === undefined) return page(request, reply, { status: 403, botError: 'Sign in first.' });
    try {
      const bot = await vault.identities.addBot({ ownerId, apiBase: ctx.config.apiBase, token: parsed.data.token });
      await recordAudit(ctx, request, { action: 'connect', target: bot.id, ownerId, detail: 'bot' });
      return reply.code(303).redirect(connectionPath(bot.id));
    } catch (error) {
      const r = refusal(error);
      if (!r) throw error;
      return page(request, reply, { status: r.status, botError: r.message });
    }
  });

  app.post('/identities/service-apps', { config: { access: 'member' } }, async (request, reply) => {
    const parsed = appBody.safeParse(request.body ?? {});
    const raw = (request.body ?? {}) as Record<string, unknown>;
    const text = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string).slice(0, 300) : '');
    const appForm: ServiceAppFormValues = {
      appId: text('appId'),
      clientId: text('clientId'),
      orgId: text('orgId'),
      fetcherConnectionId: text('fetcherConnectionId'),
    };
    if (!parsed.success) return page(request, reply, { status: 400, appError: firstIssue(parsed.error), appForm });
    const ownerId = request.principal.ownerId;
    const fetcher = await vault.connections.get(parsed.data.fetcherConnectionId);
    if (ownerId === undefined || !fetcher || !owns(request.principal, fetcher.ownerId) || fetcher.ownerId !== ownerId) {
      return page(request, reply, {
        status: 404,
        appError: 'Pick one of your connections to fetch the tokens.',
        appForm,
      });
    }
    try {
      const { _csrf, ...input } = parsed.data;
      const sa = await vault.identities.addServiceApp({ ...input, ownerId });
      await recordAudit(ctx, request, { action: 'connect', target: sa.id, ownerId, detail: 'service_app' });
      // In the background: the person is not kept waiting for Webex's webhook calls.
      void registerWebhook(fetcher.id, request.log);
      return reply.code(303).redirect(connectionPath(sa.id));
    } catch (error) {
      const r = refusal(error);
      if (!r) throw error;
      return page(request, reply, { status: r.status, appError: r.message, appForm });
    }
  });

  // The receiver, in its own context: its JSON parser keeps the raw bytes (the signature is over them).
  await app.register(async (receiver) => {
    receiver.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );
    receiver.post(
      `${SERVICE_APP_WEBHOOK_PATH}/:fetcher`,
      { bodyLimit: MAX_DELIVERY_BYTES, config: { access: 'anyone', csrf: false } },
      async (request, reply) => {
        const body = request.body;
        const fetcherId = (request.params as { fetcher?: string }).fetcher ?? '';
        if (
          !FETCHER_ID.test(fetcherId) ||
          !Buffer.isBuffer(body) ||
          !validDelivery(body, request.headers['x-spark-signature'], secrets(fetcherId))
        ) {
          return reply
            .code(401)
            .type('application/problem+json')
            .send({ type: 'about:blank', title: 'Invalid signature', status: 401, code: 'invalid_signature' });
        }
        let json: unknown;
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch {
          json = undefined;
        }
        const delivery = serviceAppDelivery.safeParse(json);
        const appId = delivery.success ? (delivery.data.data.applicationId ?? delivery.data.data.id) : undefined;
        if (!delivery.success || !appId) {
          return reply
            .code(400)
            .type('application/problem+json')
            .send({ type: 'about:blank', title: 'Invalid delivery', status: 400, code: 'invalid_request' });
        }
        const { event, data } = delivery.data;
        // Only an app this fetcher fetches: a delivery of one fetcher's webhook never acts on another's Service Apps.
        const fetches = (await vault.connections.listByKind('service_app')).some(
          (c) => c.appId === appId && c.fetcherConnectionId === fetcherId,
        );
        if (!fetches) {
          request.log.info({ appId, event }, 'service app event for an app this fetcher does not fetch: ignored');
          return reply.code(204).send();
        }
        try {
          if (event === 'authorized') {
            const added = await vault.identities.serviceAppAuthorized(appId, data.orgId);
            request.log.info({ appId, orgs: added.length }, 'service app authorized: org onboarded');
          } else if (event === 'deauthorized') {
            const marked = await vault.identities.serviceAppDeauthorized(appId, data.orgId);
            if (marked.length) request.log.info({ appId, connections: marked.length }, 'service app deauthorized');
            // The app's token could still be fetched there (a replayed delivery), or nothing active was in that org.
            else request.log.warn({ appId }, 'service app deauthorized event not confirmed by Webex: ignored');
          }
        } catch (error) {
          // Answered 204 all the same: Webex would retry, and the cause (e.g. a fetcher needing re-authorization) is
          // not one a retry cures. Logged by name and code only.
          const e = error as { name?: string; code?: string };
          request.log.warn({ err: { name: e.name, code: e.code }, appId, event }, 'service app event not applied');
        }
        return reply.code(204).send();
      },
    );
  });
};
