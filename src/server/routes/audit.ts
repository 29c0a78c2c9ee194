/**
 * `GET /audit` (members): the audit log — an admin sees every entry, a member the entries of their own things and
 * their own actions. Newest first, 50 a page; `?before=<at>&id=<entry id>` is the next page's cursor (`before` alone:
 * entries before that time), `?action=` a filter. A malformed query is a 400 page.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import * as z from 'zod';
import { AUDIT_ACTIONS } from '../../vault/audit.js';
import type { AuditAction } from '../../vault/types.js';
import { auditView } from '../views/audit.js';
import type { RouteOptions } from './signin.js';

/** Entries on one page. */
export const AUDIT_PAGE_SIZE = 50;

const auditQuery = z.object({
  before: z
    .string()
    .regex(/^\d{1,16}$/)
    .optional(),
  id: z
    .string()
    .regex(/^aud_[A-Za-z0-9_-]{1,40}$/)
    .optional(),
  action: z.union([z.literal(''), z.enum(AUDIT_ACTIONS as [AuditAction, ...AuditAction[]])]).optional(),
});

/** Registers `/audit`. */
export const auditRoutes: FastifyPluginAsync<RouteOptions> = async (app: FastifyInstance, { ctx }) => {
  app.get('/audit', { config: { access: 'member' } }, async (request, reply) => {
    const audit = ctx.vault.audit;
    const query = auditQuery.safeParse(request.query ?? {});
    if (!query.success) {
      return reply.errorPage({
        status: 400,
        title: 'Bad audit query',
        explanation: 'The page, cursor or action filter of this address is not valid.',
        action: 'Open the audit log from the header.',
        retryHref: '/audit',
      });
    }
    const principal = request.principal;
    // The access check lets no one without an owner id but an admin this far; were it to, they would see nothing.
    const ownerId = principal.admin ? undefined : (principal.ownerId ?? '(nobody)');
    const action = query.data.action || undefined;
    const before = query.data.before === undefined ? undefined : Number(query.data.before);
    // One more than a page: whether an older page exists.
    const found = await audit.list({
      ...(ownerId !== undefined ? { ownerId } : {}),
      ...(before !== undefined ? { before, beforeId: query.data.id } : {}),
      action,
      limit: AUDIT_PAGE_SIZE + 1,
    });
    // A member sees who acted on their things, but the client address only of their own actions (not an admin's).
    const entries = found
      .slice(0, AUDIT_PAGE_SIZE)
      .map((e) => (ownerId === undefined || e.actor.id === ownerId ? e : { ...e, address: undefined }));
    const last = entries.at(-1);
    const older =
      found.length > AUDIT_PAGE_SIZE && last
        ? `/audit?${new URLSearchParams({ before: String(last.at), id: last.id, ...(action ? { action } : {}) })}`
        : undefined;
    return reply.header('cache-control', 'no-store').page(
      'Audit log',
      auditView({
        entries,
        everyone: principal.admin,
        action,
        olderHref: older,
        paged: before !== undefined,
        retentionDays: ctx.config.auditRetentionDays,
      }),
    );
  });
};
