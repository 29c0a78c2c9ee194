/**
 * `webex-auth webhooks add|list|remove|deliveries|redeliver`: the local operator's lifecycle-event endpoints (Standard
 * Webhooks; see the Webhooks page). `add` prints the endpoint's secret once; `deliveries` shows an endpoint's last
 * deliveries and `redeliver` sends one again with the same `webhook-id`. Adds, removals and redeliveries are recorded
 * in the audit log (actor `cli`).
 */
import { type AuditAction, LOCAL_OPERATOR, type Vault } from '../../vault/types.js';
import { OPERATOR_ENDPOINT } from '../../vault/webhook-types.js';
import { recordCliAudit } from '../audit.js';
import type { Command } from '../command.js';
import { loadCliConfig, resolveConnection, withVault } from '../context.js';
import { CliError, EXIT } from '../io.js';
import { stripAnsi, table } from '../ui/format.js';
import { createOutput, JSON_FLAG, JSON_HELP, type Output } from '../ui/output.js';
import { terminalSafe } from '../ui/terminal-safe.js';
import { assertSubcommand } from './subcommand.js';

const SUBCOMMANDS = ['add', 'list', 'remove', 'deliveries', 'redeliver'];
const ARGS: Record<string, number> = { add: 1, list: 0, remove: 1, deliveries: 1, redeliver: 1 };
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function audit(vault: Vault, out: Output, action: AuditAction, target: string, ownerId: string, detail?: string) {
  return recordCliAudit(vault, { action, target, ownerId, ...(detail ? { detail } : {}) }, (line) => out.warn(line));
}

const command: Command = {
  summary: 'Manage lifecycle-event webhook endpoints (Standard Webhooks)',
  usage:
    'webhooks add <url> [--connection <id|email>] [--note <text>] | list | remove <id> | deliveries <id> | redeliver <delivery-id>',
  flags: { connection: { type: 'string', short: 'c' }, note: { type: 'string' }, ...JSON_FLAG },
  help: {
    connection: "With add: only this connection's events (default: every event of the local operator)",
    note: 'With add: a short note shown beside the endpoint',
    ...JSON_HELP,
  },
  positionals: true,
  completions: SUBCOMMANDS,
  details: [
    'add         add an endpoint; its secret (whsec_…) is printed once — verify events with the standardwebhooks library',
    "list        list the local operator's endpoints (never their secrets)",
    'remove      remove an endpoint by id',
    'deliveries  the last deliveries of an endpoint (id `operator`: WEBHOOK_URL)',
    'redeliver   send a delivery again: same webhook-id, a new timestamp and signature',
    'Private, loopback and link-local targets are refused unless ALLOW_PRIVATE_WEBHOOKS=true.',
  ].join('\n'),
  async run(args, io) {
    const [sub, ...rest] = args.positionals;
    const out = createOutput(io, args.values);
    assertSubcommand('webhooks', sub, SUBCOMMANDS);
    if (rest.length !== ARGS[sub]) {
      throw new CliError(
        `webhooks ${sub} takes ${ARGS[sub] ? 'one argument' : 'no argument'}`,
        EXIT.usage,
        'Run `webex-auth webhooks --help`.',
      );
    }
    if (sub !== 'add' && (args.values.connection !== undefined || args.values.note !== undefined)) {
      throw new CliError('--connection and --note go with webhooks add', EXIT.usage);
    }
    const arg = rest[0] as string;
    const config = await loadCliConfig(io);
    return withVault(config, async (vault) => {
      const unknown = (what: string) =>
        new CliError(
          `no ${what} with id "${stripAnsi(terminalSafe(arg)).slice(0, 60)}"`,
          EXIT.failure,
          'Run `webex-auth webhooks list`.',
        );
      if (sub === 'add') {
        const connection =
          typeof args.values.connection === 'string'
            ? await resolveConnection(vault, args.values.connection)
            : undefined;
        const ownerId = connection?.ownerId ?? LOCAL_OPERATOR;
        let made: Awaited<ReturnType<Vault['webhooks']['create']>>;
        try {
          made = await vault.webhooks.create({
            ownerId,
            url: arg,
            ...(connection ? { connectionId: connection.id } : {}),
            ...(typeof args.values.note === 'string' ? { description: args.values.note } : {}),
          });
        } catch (err) {
          const e = err as { code?: string; message?: string };
          if (e.code === 'invalid_request' || e.code === 'not_found') throw new CliError(String(e.message), EXIT.usage);
          throw err;
        }
        await audit(vault, out, 'webhook.create', made.endpoint.id, ownerId, new URL(made.endpoint.url).origin);
        out.data(
          { ...made.endpoint, createdAt: iso(made.endpoint.createdAt), secret: made.secret },
          () => `${made.secret}\n`,
        );
        out.success(`Added webhook endpoint ${made.endpoint.id}; its secret is shown only once.`);
        return EXIT.ok;
      }
      if (sub === 'list') {
        const endpoints = await vault.webhooks.list(LOCAL_OPERATOR);
        out.data(
          endpoints.map((e) => ({ ...e, createdAt: iso(e.createdAt) })),
          () =>
            endpoints.length === 0
              ? ''
              : table(
                  [
                    ['ID', 'URL', 'EVENTS OF', 'CREATED'].map((h) => out.out.bold(h)),
                    ...endpoints.map((e) => [
                      e.id,
                      terminalSafe(e.url),
                      e.connectionId ?? 'all',
                      iso(e.createdAt)?.slice(0, 19) ?? '',
                    ]),
                  ],
                  (s) => stripAnsi(s).length,
                ),
        );
        if (endpoints.length === 0) out.info('No webhook endpoints. Add one with `webex-auth webhooks add <url>`.');
        return EXIT.ok;
      }
      if (sub === 'remove') {
        const endpoint = await vault.webhooks.get(arg);
        if (!endpoint || !(await vault.webhooks.remove(arg))) throw unknown('webhook endpoint');
        await audit(vault, out, 'webhook.delete', endpoint.id, endpoint.ownerId);
        out.success(`Removed webhook endpoint ${endpoint.id}`);
        out.data({ removed: endpoint.id }, () => '');
        return EXIT.ok;
      }
      if (sub === 'deliveries') {
        if (arg !== OPERATOR_ENDPOINT && !(await vault.webhooks.get(arg))) throw unknown('webhook endpoint');
        const log = await vault.webhooks.deliveries(arg);
        out.data(
          log.map((d) => ({
            ...d,
            createdAt: iso(d.createdAt),
            updatedAt: iso(d.updatedAt),
            deliveredAt: iso(d.deliveredAt),
          })),
          () =>
            log.length === 0
              ? ''
              : table(
                  [
                    ['DELIVERY', 'TIME (UTC)', 'TYPE', 'WEBHOOK-ID', 'ATTEMPTS', 'RESULT'].map((h) => out.out.bold(h)),
                    ...log.map((d) => [
                      d.id,
                      iso(d.createdAt)?.slice(0, 19).replace('T', ' ') ?? '',
                      d.type,
                      d.eventId,
                      String(d.attempts),
                      d.deliveredAt ? String(d.lastStatus ?? 'ok') : (d.lastError ?? 'pending'),
                    ]),
                  ],
                  (s) => stripAnsi(s).length,
                ),
        );
        if (log.length === 0) out.info('No deliveries yet.');
        return EXIT.ok;
      }
      // redeliver
      const delivery = await vault.webhooks.getDelivery(arg);
      const again = delivery ? await vault.webhooks.redeliver(delivery.id) : undefined;
      if (!delivery || !again) throw unknown('delivery');
      const owner =
        delivery.endpointId === OPERATOR_ENDPOINT
          ? LOCAL_OPERATOR
          : ((await vault.webhooks.get(delivery.endpointId))?.ownerId ?? LOCAL_OPERATOR);
      await audit(vault, out, 'webhook.redeliver', delivery.endpointId, owner, `${delivery.type} ${delivery.eventId}`);
      out.success(`Sent ${delivery.type} again (webhook-id ${delivery.eventId})`);
      out.data({ delivery: again.id, eventId: again.eventId }, () => '');
      return EXIT.ok;
    });
  },
};

export default command;
