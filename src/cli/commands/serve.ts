/**
 * `webex-auth serve`: the web app and token broker (what `npm start` runs). Without a client id it runs in demo mode
 * against the emulator started in-process; with an https redirect URI it serves https with a self-signed certificate.
 */
import { assertServable, isLoopbackHost, loadConfig } from '../../config.js';
import type { Command } from '../command.js';
import { CliError } from '../io.js';

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
  details:
    'Without WEBEX_CLIENT_ID the web app runs in demo mode: the Webex emulator starts in-process and the whole flow\n' +
    'works offline. The callback is served at the path of WEBEX_REDIRECT_URI (default http://localhost:8080/oauth;\n' +
    'in demo mode, without WEBEX_REDIRECT_URI, http://localhost:<port>/oauth on the port listened on).',
  async run(args, io) {
    let config = loadConfig({
      env: io.env,
      dotenvDir: io.cwd,
      overrides: { PORT: args.values.port as string | undefined, HOST: args.values.host as string | undefined },
    });
    // Before the demo starts: team mode without an integration is refused with the reason, not turned into a demo.
    assertServable(config);
    // One module for the whole start: the built CLI reads it as one bundle through a code cache (serve-parts.ts).
    const { buildApp, listen, openServedVault, loadDemo, startedServing } = await import('./serve-parts.js');
    const demoModule = config.mode === 'demo' ? await loadDemo() : undefined;
    let closeDemo: (() => Promise<void>) | undefined;
    let closeVault: (() => Promise<void>) | undefined;
    if (demoModule) {
      const demo = await demoModule.startDemo(config);
      config = demo.config;
      closeDemo = demo.close;
      io.stderr.write(
        `Demo mode: no WEBEX_CLIENT_ID set, so tokens come from the Webex emulator at ${demo.emulatorUrl}, not from Webex.\n`,
      );
      if (demo.demoDatabase) io.stderr.write('Demo connections are kept in a throw-away database, removed on exit.\n');
    }
    try {
      let tls: { key: string; cert: string } | undefined;
      if (config.redirectUri.startsWith('https://')) {
        const { selfSignedCertificate, CertificateError } = await import('../../server/https.js');
        try {
          tls = selfSignedCertificate(config.dataDir, new URL(config.redirectUri).hostname);
        } catch (error) {
          if (error instanceof CertificateError)
            throw new CliError(error.message, 1, 'Use an http://localhost redirect URI.');
          throw error;
        }
      }
      // Opened here, not in buildApp: SIGHUP reloads the key ring from WEBEX_AUTH_KEYS_FILE (serve-vault.ts).
      const served = await openServedVault(config);
      closeVault = served.close;
      const app = await buildApp(config, {
        tls,
        vault: served.vault,
        transport: served.transport,
        logger: served.logger,
      });
      const url = await listen(app, config, tls ? 'https' : 'http');
      io.stderr.write(`webex-auth listening on ${url}\n`);
      startedServing(url);
      io.stderr.write(
        config.accessMode === 'team'
          ? 'Team mode: people sign in with Webex; ADMIN_EMAILS are admins.\n'
          : 'Local mode: one local operator, no sign-in (set PUBLIC_URL or WEBEX_AUTH_MODE=team to share this server).\n',
      );
      if (config.accessMode === 'local' && !isLoopbackHost(config.host)) {
        io.stderr.write(
          `Warning: local mode on ${config.host}: whoever reaches this port and sends "Host: localhost" acts as the local operator (every connection, its tokens). Use it only inside a container or a trusted network.\n`,
        );
      }
      if (tls)
        io.stderr.write('Serving https with a self-signed certificate for localhost (your browser warns once).\n');
      const redirect = new URL(config.redirectUri);
      if (redirect.port && redirect.port !== new URL(url).port) {
        io.stderr.write(
          `Note: the redirect URI ${config.redirectUri} points at port ${redirect.port}, not ${new URL(url).port}.\n`,
        );
      }
      await io.interrupted;
      await app.close();
    } finally {
      await closeVault?.();
      await closeDemo?.();
    }
    return 0;
  },
};

export default command;
