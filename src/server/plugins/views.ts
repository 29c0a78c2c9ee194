/**
 * Views: `reply`-ready HTML pages in the shared frame, the error page, and the few static files (one stylesheet and
 * one small script) served from memory under /static/ with a long cache.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { CODE_ROOT } from '../../paths.js';
import type { SafeHtml } from '../html.js';
import { type ErrorInfo, errorView } from '../views/error.js';
import { type LayoutContext, layout, type Viewer } from '../views/layout.js';
import { globalPlugin } from './global.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** A whole HTML page around `body`. */
    renderPage(request: FastifyRequest, title: string, body: SafeHtml): string;
    /** A whole HTML error page. */
    renderError(request: FastifyRequest, info: ErrorInfo): string;
  }
  interface FastifyReply {
    /**
     * Sends an HTML page (with `status`, else the status already set, else 200). `canonical`: the page's own address,
     * when it is answered at another one (sent as `Content-Location` too).
     */
    page(title: string, body: SafeHtml, status?: number, canonical?: string): FastifyReply;
    /** Sends an error page with `info.status`. */
    errorPage(info: ErrorInfo): FastifyReply;
  }
}

const STATIC: Record<string, string> = {
  'style.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'space.js': 'text/javascript; charset=utf-8',
};

/** Registers the page helpers and the static files. */
export const viewsPlugin: FastifyPluginAsync<LayoutContext> = globalPlugin(async (app, ctx) => {
  const publicDir = join(CODE_ROOT, 'server', 'public');
  const files = new Map(
    Object.entries(STATIC).map(([name, type]) => [name, { type, body: readFileSync(join(publicDir, name)) }]),
  );

  /** Who the page is for (no principal yet: the Host check or a framework error answered before the session plugin). */
  const viewer = (request: FastifyRequest): Viewer | undefined =>
    request.principal
      ? { account: request.principal.account, admin: request.principal.admin, csrf: request.csrf }
      : undefined;
  /** Whether the request's session brought its own integration (the web form /configure). */
  const brought = (request: FastifyRequest): boolean =>
    typeof (request.session?.data as { integrationId?: unknown } | undefined)?.integrationId === 'string';
  app.decorate('renderPage', (request: FastifyRequest, title: string, body: SafeHtml) =>
    layout(ctx, title, body, viewer(request), brought(request)),
  );
  app.decorate('renderError', (request: FastifyRequest, info: ErrorInfo) =>
    layout(ctx, info.title, errorView(info), viewer(request), brought(request)),
  );
  // Without a status, the one already set stays (`reply.code(401).page(…)`), else 200.
  app.decorateReply('page', function (title: string, body: SafeHtml, status?: number, canonical?: string) {
    if (canonical) this.header('content-location', canonical);
    return this.code(status ?? this.statusCode)
      .type('text/html; charset=utf-8')
      .send(layout(ctx, title, body, viewer(this.request), brought(this.request), canonical));
  });
  app.decorateReply('errorPage', function (info: ErrorInfo) {
    return this.code(info.status)
      .type('text/html; charset=utf-8')
      .send(layout(ctx, info.title, errorView(info), viewer(this.request), brought(this.request)));
  });

  app.get<{ Params: { file: string } }>('/static/:file', { config: { access: 'anyone' } }, async (request, reply) => {
    const file = files.get(request.params.file);
    if (!file)
      return reply.errorPage({
        status: 404,
        title: 'Not found',
        explanation: 'There is no such file.',
        action: 'Go to the home page.',
      });
    return reply.type(file.type).header('Cache-Control', 'public, max-age=3600').send(file.body);
  });
});
