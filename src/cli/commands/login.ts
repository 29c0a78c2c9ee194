/**
 * `webex-auth login`: authorize a Webex integration for a person and store the connection.
 * The flows live in ../login/: browser + loopback callback (or a pasted redirect), and the device grant.
 */
import type { Command } from '../command.js';
import { EXIT } from '../io.js';
import { JSON_FLAG, JSON_HELP } from '../ui/output.js';

const command: Command = {
  summary: 'Authorize a Webex integration for a person and store the token pair',
  usage:
    'login [--scopes <scopes>] [--client-id <id> --client-secret <secret>] [--auth-url <url>] [--no-browser] [--port <port>] [--device]',
  flags: {
    scopes: { type: 'string', short: 's' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string' },
    'auth-url': { type: 'string' },
    port: { type: 'string', short: 'p' },
    'no-browser': { type: 'boolean' },
    device: { type: 'boolean' },
    timeout: { type: 'string' },
    ...JSON_FLAG,
  },
  help: {
    scopes: 'Space-separated scopes to request (WEBEX_SCOPES; default spark:people_read)',
    'client-id': "The integration's client id (WEBEX_CLIENT_ID)",
    'client-secret': "The integration's client secret (visible to `ps`: prefer WEBEX_CLIENT_SECRET or the prompt)",
    'redirect-uri': 'A redirect URI registered on the integration (WEBEX_REDIRECT_URI)',
    'auth-url': 'The "OAuth Authorization URL" from your integration\'s page at developer.webex.com',
    port: "Serve the callback on this port instead of the redirect URI's (it must be registered too)",
    'no-browser': 'Print the URL and read the redirected URL from stdin (SSH, containers)',
    device: 'Use the device grant: approve a code on another device',
    timeout: 'Give up after this many seconds (default 300)',
    ...JSON_HELP,
  },
  details: [
    'With a terminal, the browser opens and a local server on the redirect URI catches the answer.',
    'Without one (or with --no-browser), open the printed URL anywhere, approve, and paste the URL the browser was',
    'redirected to (even if it shows an error page). Nothing is stored until Webex has issued the token pair.',
  ].join('\n'),
  async run(args, io) {
    const { runLogin } = await import('../login/flow.js');
    await runLogin(args.values, io);
    return EXIT.ok;
  },
};

export default command;
