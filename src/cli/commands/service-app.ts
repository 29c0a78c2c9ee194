/**
 * `webex-auth service-app add`: fetches a Service App's token pair for an org through an integration connection
 * holding `spark:applications_token`, and stores it as a connection of kind `service_app` (refreshed under the app's
 * own client, kept alive, fetched again when its refresh token dies). The client secret is read from stdin or a
 * prompt, never from argv (argv shows in `ps`).
 */
import { recordCliAudit } from '../audit.js';
import type { Command } from '../command.js';
import { loadCliConfig, resolveConnection, withVault } from '../context.js';
import { CliError, EXIT } from '../io.js';
import { createOutput, JSON_FLAG, JSON_HELP } from '../ui/output.js';
import { terminalSafe } from '../ui/terminal-safe.js';
import { identityError, onlyAdd, readSecretInput } from './identity-input.js';

const REQUIRED = ['app-id', 'client-id', 'org', 'fetcher'] as const;

const command: Command = {
  summary: "Fetch a Service App's tokens for an org and store them (client secret from stdin or a prompt)",
  usage: 'service-app add --app-id <id> --client-id <id> --org <org id> --fetcher <connection id|email>',
  flags: {
    'app-id': { type: 'string' },
    'client-id': { type: 'string' },
    org: { type: 'string' },
    fetcher: { type: 'string' },
    ...JSON_FLAG,
  },
  help: {
    'app-id': "The Service App's application id (developer portal)",
    'client-id': "The Service App's client id",
    org: 'The org an admin authorized the app in (Control Hub id or REST id)',
    fetcher: 'The integration connection (with spark:applications_token) that fetches the tokens',
    ...JSON_HELP,
  },
  positionals: true,
  completions: ['add'],
  details: 'The client secret is never taken as an argument: argv is visible to every user of the machine in `ps`.',
  async run(args, io) {
    const [sub, ...rest] = args.positionals;
    if (sub !== 'add' || rest.length) throw onlyAdd('service-app', sub, 'client secret');
    const missing = REQUIRED.filter((f) => typeof args.values[f] !== 'string' || args.values[f] === '');
    if (missing.length) {
      throw new CliError(`missing --${missing.join(', --')}`, EXIT.usage, 'Run `webex-auth service-app --help`.');
    }
    const value = (f: (typeof REQUIRED)[number]) => String(args.values[f]);
    const out = createOutput(io, args.values);
    const config = await loadCliConfig(io);
    return withVault(config, async (vault) => {
      const fetcher = await resolveConnection(vault, value('fetcher'));
      const clientSecret = await readSecretInput(io, 'Service App client secret', 'client secret');
      const app = await vault.identities
        .addServiceApp({
          ownerId: fetcher.ownerId,
          appId: value('app-id'),
          clientId: value('client-id'),
          clientSecret,
          orgId: value('org'),
          fetcherConnectionId: fetcher.id,
        })
        .catch(identityError);
      await recordCliAudit(
        vault,
        { action: 'connect', target: app.id, ownerId: app.ownerId, detail: 'service_app' },
        (l) => out.warn(l),
      );
      out.data(
        { id: app.id, kind: 'service_app', appId: app.appId, orgId: app.orgId, name: app.displayName },
        () => `${app.id}\n`,
      );
      out.success(
        `Stored Service App ${terminalSafe(app.displayName)} in org ${terminalSafe(app.orgId ?? '')} as ${app.id}.`,
      );
      return EXIT.ok;
    });
  },
};

export default command;
