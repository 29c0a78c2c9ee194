/** `webex-auth serve`: the web app and token broker (what `npm start` runs). */
import { loadConfig } from '../../config.js';
import type { Command } from '../command.js';

const command: Command = {
  summary: 'Run the web app and token broker (npm start)',
  usage: 'serve [--port <port>] [--host <host>]',
  flags: {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
  },
  help: {
    port: 'Port to listen on (PORT, default 8080)',
    host: 'Address to listen on (HOST, default 127.0.0.1)',
  },
  async run(args, io) {
    const config = loadConfig({
      env: io.env,
      dotenvDir: io.cwd,
      overrides: { PORT: args.values.port as string | undefined, HOST: args.values.host as string | undefined },
    });
    const { buildApp, listen } = await import('../../server/app.js');
    const app = await buildApp(config);
    const url = await listen(app, config);
    io.stderr.write(`webex-auth listening on ${url}\n`);
    await io.interrupted;
    await app.close();
    return 0;
  },
};

export default command;
