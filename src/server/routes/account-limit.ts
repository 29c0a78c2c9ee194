/**
 * A per-account budget for page actions that make this server call out (a webhook's add or redelivery, a "Revoke at
 * Webex"): each one costs outbound requests and an audit row, so a member cannot turn the broker into a request cannon
 * nor grow the audit log at request rate. In memory, per process (SECURITY.md "Known limits").
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createRateLimiter, type RateLimitOptions } from './api/ratelimit.js';

/** The default budget: a burst of 10, then one every 6 s. */
export const ACCOUNT_ACTIONS = { burst: 10, perSecond: 1 / 6 } as const;

/** What the 429 page says about the action refused. */
export interface AccountLimitPage {
  /** The page's title, e.g. "Too many webhook actions". */
  title: string;
  /** What is limited, e.g. "Endpoints are added, and deliveries sent again," (the budget is appended). */
  what: string;
  /** Where "try again" leads. */
  retryHref: string;
}

/**
 * Answers a request with a 429 page when its account used up its budget of `action`; undefined when it may run.
 * Accounts are keyed by account id (else owner id, else one shared key for the local admin).
 */
export type AccountLimiter = (
  request: FastifyRequest,
  reply: FastifyReply,
  action: string,
  page: AccountLimitPage,
) => FastifyReply | undefined;

/** Creates a per-account limiter with its own buckets. */
export function createAccountLimiter(options: Required<RateLimitOptions> = ACCOUNT_ACTIONS): AccountLimiter {
  const limiter = createRateLimiter(options);
  return (request, reply, action, page) => {
    const p = request.principal;
    const wait = limiter(`${action} ${p.account?.id ?? p.ownerId ?? 'admin'}`);
    if (wait === 0) return undefined;
    reply.header('retry-after', String(wait));
    return reply.errorPage({
      status: 429,
      title: page.title,
      explanation: `${page.what} at most ${options.burst} at a time, then one every ${Math.round(1 / options.perSecond)} s.`,
      action: `Wait ${wait} s, then try again.`,
      retryHref: page.retryHref,
    });
  };
}
