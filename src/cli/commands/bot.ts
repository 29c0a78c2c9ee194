/**
 * `webex-auth bot add`: stores a bot's access token (checked with `people/me`: it must be a bot's) as a connection of
 * kind `bot`, served by `token`, `export`, the token API and the proxy. The token is read from stdin or a prompt,
 * never from argv (argv shows in `ps`).
 */
import { recordCliAudit } from '../audit.js';
import type { Command } from '../command.js';
import { loadCliConfig, withVault } from '../context.js';
import { EXIT } from '../io.js';
import { createOutput, JSON_FLAG, JSON_HELP } from '../ui/output.js';
import { terminalSafe } from '../ui/terminal-safe.js';
import { identityError, onlyAdd, readSecretInput } from './identity-input.js';

const command: Command = {
  summary: 'Store a bot token (from stdin or a prompt) as a connection of kind bot',
  usage: 'bot add [--api-base <url>]   (the token on stdin, or typed at the prompt)',
  flags: { 'api-base': { type: 'string' }, ...JSON_FLAG },
  help: { 'api-base': 'The Webex API base of the bot (default WEBEX_API_BASE)', ...JSON_HELP },
  positionals: true,
  completions: ['add'],
  details: 'The token is never taken as an argument: argv is visible to every user of the machine in `ps`.',
  async run(args, io) {
    const [sub, ...rest] = args.positionals;
    if (sub !== 'add' || rest.length) throw onlyAdd('bot', sub, 'token');
    const out = createOutput(io, args.values);
    const config = await loadCliConfig(io);
    const apiBase = typeof args.values['api-base'] === 'string' ? args.values['api-base'] : config.apiBase;
    const token = await readSecretInput(io, 'Bot access token', 'bot token');
    return withVault(config, async (vault) => {
      const bot = await vault.identities.addBot({ apiBase, token }).catch(identityError);
      await recordCliAudit(vault, { action: 'connect', target: bot.id, ownerId: bot.ownerId, detail: 'bot' }, (l) =>
        out.warn(l),
      );
      out.data({ id: bot.id, kind: 'bot', name: bot.displayName, email: bot.personEmail }, () => `${bot.id}\n`);
      out.success(`Stored bot ${terminalSafe(bot.displayName)} (${terminalSafe(bot.personEmail)}) as ${bot.id}.`);
      return EXIT.ok;
    });
  },
};

export default command;
