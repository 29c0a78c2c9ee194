/**
 * The command table. Each command is imported only when it runs, so that `webex-auth token` loads nothing
 * the token path does not need.
 */
import type { CommandEntry } from './command.js';

/** Every command, in the order `--help` lists them. */
export const COMMANDS: Record<string, CommandEntry> = {
  login: {
    summary: 'Authorize a Webex integration for a person and store the token pair',
    load: () => import('./commands/login.js'),
  },
  token: {
    summary: 'Print a fresh access token (refreshing it first if needed)',
    load: () => import('./commands/token.js'),
  },
  refresh: { summary: "Refresh a connection's access token now", load: () => import('./commands/refresh.js') },
  whoami: {
    summary: 'Show who a connection acts as (a live people/me call)',
    load: () => import('./commands/whoami.js'),
  },
  api: {
    summary: 'Make an authenticated Webex REST call and print the JSON answer (as `gh api`)',
    load: () => import('./commands/api.js'),
  },
  status: {
    summary: 'Show every connection: status, expiry countdowns, scopes',
    load: () => import('./commands/status.js'),
  },
  list: { summary: 'List the stored connections', load: () => import('./commands/list.js') },
  keepalive: {
    summary: 'Run one keep-alive sweep and exit (for cron or a systemd timer)',
    load: () => import('./commands/keepalive.js'),
  },
  reconcile: {
    summary: 'Check every connection against Webex once and mark revoked grants (as `serve` does hourly)',
    load: () => import('./commands/reconcile.js'),
  },
  logout: {
    summary: 'Remove a stored connection (Webex has no self-service revocation)',
    load: () => import('./commands/logout.js'),
  },
  bot: {
    summary: 'Store a bot token (from stdin or a prompt) as a connection of kind bot',
    load: () => import('./commands/bot.js'),
  },
  'service-app': {
    summary: "Fetch a Service App's tokens for an org and store them (client secret from stdin or a prompt)",
    load: () => import('./commands/service-app.js'),
  },
  export: {
    summary: "Export a connection's token pair as env lines, JSON or a curl command",
    load: () => import('./commands/export.js'),
  },
  doctor: {
    summary: 'Check configuration, clock, store, key and every connection',
    load: () => import('./commands/doctor.js'),
  },
  keys: { summary: 'Manage broker API keys and rotate the encryption key', load: () => import('./commands/keys.js') },
  webhooks: {
    summary: 'Manage lifecycle-event webhook endpoints (Standard Webhooks)',
    load: () => import('./commands/webhooks.js'),
  },
  audit: {
    summary: 'Show the audit log: sign-ins, connections, refreshes, keys, deletes',
    load: () => import('./commands/audit.js'),
  },
  completion: {
    summary: 'Print a shell completion script (bash, zsh or fish)',
    // The table hands itself in, so that completion.ts need not import this module back (an import circle).
    load: async () => ({ default: (await import('./commands/completion.js')).completionCommand(COMMANDS) }),
  },
  serve: { summary: 'Run the web app and token broker (npm start)', load: () => import('./commands/serve.js') },
  emulator: {
    summary: 'Run the Webex emulator (OAuth, OIDC, device grant, REST) on a loopback port',
    load: () => import('./commands/emulator.js'),
  },
};
