/**
 * The emulator seed file (design.md "Emulator seed file"), validated with zod. A bad seed is reported as one line that
 * names the field path, e.g. `seed: rooms[0].members[1]: unknown person "nobody@example.com"`.
 */
import * as z from 'zod';
import { parseOrgId } from './ids.js';

const email = z
  .string()
  .min(3)
  .max(320)
  .regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address');
const httpUrl = z
  .string()
  .max(2048)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && !u.hash;
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL without a fragment');

const integration = z.object({
  clientId: z.string().min(1).max(256),
  clientSecret: z.string().min(1).max(256),
  name: z.string().max(200).optional(),
  redirectUris: z.array(httpUrl).min(1),
  scopes: z.array(z.string().min(1).max(200).regex(/^\S+$/, 'must not contain spaces')).min(1),
});

/** The admin roles a seeded user may hold (Webex role ids `ciscospark://us/ROLE/id_<name>`). */
export const ADMIN_ROLES = ['full_admin', 'user_admin', 'device_admin'] as const;
/** An admin role name. */
export type AdminRole = (typeof ADMIN_ROLES)[number];

/** An org id as the REST API shows it, or a bare UUID; normalized to the REST form (unpadded base64). */
const orgId = z
  .string()
  .max(200)
  .refine(
    (s) => parseOrgId(s) !== undefined,
    'must be a Webex org id (base64 of ciscospark://us/ORGANIZATION/<uuid>) or a bare UUID',
  )
  .transform((s) => parseOrgId(s)?.id ?? s);

const user = z.object({
  email,
  displayName: z.string().min(1).max(200),
  firstName: z.string().max(200).optional(),
  lastName: z.string().max(200).optional(),
  nickName: z.string().max(200).optional(),
  locale: z.string().max(20).optional(),
  phone: z.string().max(50).optional(),
  /** Default: the emulator's one org. */
  orgId: orgId.optional(),
  roles: z.array(z.enum(ADMIN_ROLES)).optional(),
});

const bot = z.object({
  email: email.refine((e) => e.endsWith('.bot'), 'a bot email ends in .bot (e.g. name@webex.bot)'),
  displayName: z.string().min(1).max(200),
  token: z.string().min(8).max(1024),
});

/** A Service App: its id (`applicationId`), client, scopes, and the orgs whose admins authorized it. */
const serviceApp = z.object({
  id: z
    .string()
    .min(1)
    .max(300)
    .regex(/^[A-Za-z0-9+=_-]+$/, 'must be letters, digits, + = _ or - (it goes in a URL path)'),
  clientId: z.string().min(1).max(256),
  clientSecret: z.string().min(1).max(256),
  name: z.string().max(200).optional(),
  scopes: z.array(z.string().min(1).max(200).regex(/^\S+$/, 'must not contain spaces')).min(1),
  authorizedOrgs: z.array(orgId).default([]),
});

const message = z.object({
  from: email,
  text: z.string().min(1).max(7439).optional(),
  markdown: z.string().min(1).max(7439).optional(),
});

const room = z.object({
  title: z.string().min(1).max(200),
  type: z.enum(['group', 'direct']).optional(),
  members: z.array(email).min(1),
  messages: z.array(message).optional(),
});

const seedSchema = z
  .object({
    _comment: z.string().optional(),
    integrations: z.array(integration).min(1),
    users: z.array(user).default([]),
    bots: z.array(bot).default([]),
    serviceApps: z.array(serviceApp).default([]),
    rooms: z.array(room).default([]),
  })
  .strict()
  .superRefine((seed, ctx) => {
    const people = new Set<string>();
    const add = (e: string, path: (string | number)[]) => {
      const key = e.toLowerCase();
      if (people.has(key)) ctx.addIssue({ code: 'custom', path, message: `duplicate person "${e}"` });
      people.add(key);
    };
    seed.users.forEach((u, i) => {
      add(u.email, ['users', i, 'email']);
      u.roles?.forEach((r, j) => {
        if (u.roles?.indexOf(r) !== j)
          ctx.addIssue({ code: 'custom', path: ['users', i, 'roles', j], message: `duplicate role "${r}"` });
      });
    });
    seed.bots.forEach((b, i) => {
      add(b.email, ['bots', i, 'email']);
    });
    const clients = new Set<string>();
    seed.integrations.forEach((it, i) => {
      if (clients.has(it.clientId))
        ctx.addIssue({ code: 'custom', path: ['integrations', i, 'clientId'], message: 'duplicate clientId' });
      clients.add(it.clientId);
    });
    const apps = new Set<string>();
    seed.serviceApps.forEach((a, i) => {
      if (clients.has(a.clientId))
        ctx.addIssue({ code: 'custom', path: ['serviceApps', i, 'clientId'], message: 'duplicate clientId' });
      clients.add(a.clientId);
      if (apps.has(a.id)) ctx.addIssue({ code: 'custom', path: ['serviceApps', i, 'id'], message: 'duplicate id' });
      apps.add(a.id);
    });
    seed.rooms.forEach((r, i) => {
      r.members.forEach((m, j) => {
        if (!people.has(m.toLowerCase()))
          ctx.addIssue({ code: 'custom', path: ['rooms', i, 'members', j], message: `unknown person "${m}"` });
      });
      r.messages?.forEach((msg, j) => {
        if (!r.members.some((m) => m.toLowerCase() === msg.from.toLowerCase()))
          ctx.addIssue({
            code: 'custom',
            path: ['rooms', i, 'messages', j, 'from'],
            message: `"${msg.from}" is not a member`,
          });
        if (!msg.text && !msg.markdown)
          ctx.addIssue({ code: 'custom', path: ['rooms', i, 'messages', j], message: 'needs text or markdown' });
      });
      if (r.type === 'direct' && r.members.length !== 2)
        ctx.addIssue({ code: 'custom', path: ['rooms', i, 'members'], message: 'a direct room has exactly 2 members' });
    });
  });

/** A validated emulator seed. */
export type Seed = z.output<typeof seedSchema>;
/** A seed as written in a file (optional lists may be missing). */
export type SeedInput = z.input<typeof seedSchema>;

/** A seed that failed validation; `message` is one line naming the field path. */
export class SeedError extends Error {
  override name = 'SeedError';
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

/**
 * Validates a parsed seed file. Throws {@link SeedError} with one line naming the first bad field's path.
 */
export function validateSeed(json: unknown): Seed {
  // jitless: a seed is parsed once, and zod's compiled fast path (a `new Function` per object shape) costs more to make
  // than it saves on one parse (~12 M instructions of every demo start, bench/limits.md "serve start").
  const result = seedSchema.safeParse(json, { jitless: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue ? formatPath(issue.path) : '(root)';
  const what = (issue?.message ?? 'invalid').replace(/\s+/g, ' ');
  throw new SeedError(`seed: ${where}: ${what}`);
}
