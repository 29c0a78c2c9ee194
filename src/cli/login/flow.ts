/**
 * The login flows: authorization code with a loopback callback server and/or a pasted redirect, and the device grant.
 * Everything waits under one abort signal (Ctrl-C, `--timeout`), and nothing is stored before tokens exist.
 */
import { isWebexAuthError } from '../../errors.js';
import type { AuthorizationRequest } from '../../oauth/authorize.js';
import type { IdTokenClaims } from '../../oauth/oidc.js';
import type { TokenSet } from '../../oauth/types.js';
import type { ParsedArgs } from '../command.js';
import { openCliVault } from '../context.js';
import { CliError, type CommandIO, EXIT } from '../io.js';
import { createOutput, type Output } from '../ui/output.js';
import { readLine } from '../ui/prompt.js';
import { startSpinner } from '../ui/spinner.js';
import { terminalSafe } from '../ui/terminal-safe.js';
import { type CallbackServer, isLoopbackRedirect, startCallbackServer } from './callback-server.js';
import { completeLogin } from './finish.js';
import { isRedirectAnswer, noRedirectRead, releaseInput } from './stdin.js';
import { type LoginTarget, resolveConfig, resolveTarget, type TargetFlags } from './target.js';
import { verifyLoginIdToken } from './verify.js';

const DEFAULT_TIMEOUT_S = 300;

/** An abort signal for Ctrl-C and the timeout; `dispose` clears the timer. */
function cancellation(io: CommandIO, timeoutS: number): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new CliError(
          `no answer within ${timeoutS} s; nothing was saved`,
          EXIT.failure,
          'Run `webex-auth login` again.',
        ),
      ),
    timeoutS * 1000,
  );
  timer.unref();
  void io.interrupted?.then(() =>
    controller.abort(new CliError('login cancelled; nothing was saved', EXIT.failure, 'Run `webex-auth login` again.')),
  );
  return { signal: controller.signal, dispose: () => clearTimeout(timer) };
}

function parseTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_TIMEOUT_S;
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n < 1 || n > 3600) {
    throw new CliError(`invalid --timeout "${String(value).slice(0, 20)}": expected 1-3600 seconds`, EXIT.usage);
  }
  return n;
}

/** Rejects when `signal` aborts, with its reason. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** Runs `webex-auth login` with the parsed flag values. */
export async function runLogin(values: ParsedArgs['values'], io: CommandIO): Promise<void> {
  const out = createOutput(io, values);
  const flags = values as TargetFlags & { 'no-browser'?: boolean; device?: boolean; timeout?: string };
  const timeoutS = parseTimeout(flags.timeout);
  if (flags.device && flags['auth-url'] === undefined && flags['no-browser']) {
    out.warn('--no-browser has no effect with --device');
  }
  const resolved = await resolveConfig(io, flags);
  const { signal, dispose } = cancellation(io, timeoutS);
  const vault = await openCliVault(resolved.config);
  try {
    const target = await Promise.race([resolveTarget(io, flags, vault, resolved, signal), aborted(signal)]);
    const tokens = flags.device
      ? await deviceLogin(io, out, target, signal)
      : await codeLogin(io, out, target, signal, { noBrowser: flags['no-browser'] === true });
    try {
      const c = await completeLogin({
        vault,
        out,
        integration: target.integration,
        tokens: tokens.tokens,
        requestedScopes: target.scopes,
        signal,
        // The verified id_token's claims: without spark:people_read they name the person (no userinfo call).
        claims: tokens.claims,
      });
      tokens.reply?.(true, `Logged in as ${c.displayName}. The connection is stored; the terminal has the details.`);
    } catch (error) {
      tokens.reply?.(false, 'Webex issued tokens, but storing the connection failed; see the terminal.');
      throw error;
    } finally {
      await tokens.close?.();
    }
  } finally {
    dispose();
    // Nothing reads stdin after this: a pipe left open must not keep the process alive.
    releaseInput(io.stdin);
    await vault.close();
  }
}

interface Obtained {
  tokens: TokenSet;
  /** The claims of the verified id_token, when there was one. */
  claims?: IdTokenClaims | undefined;
  /** Answers the browser waiting on the loopback server, if the answer came that way. */
  reply?: (ok: boolean, text: string) => void;
  /** Closes the loopback server (after `reply`). */
  close?: () => Promise<void>;
}

/** The authorization code flow: browser + loopback server, or a pasted redirect, whichever answers first. */
async function codeLogin(
  io: CommandIO,
  out: Output,
  target: LoginTarget,
  signal: AbortSignal,
  opts: { noBrowser: boolean },
): Promise<Obtained> {
  const { createAuthorizationRequest } = await import('../../oauth/authorize.js');
  const auth = createAuthorizationRequest({ integration: target.integration, scopes: target.scopes });
  const { redirectUri } = target.integration;
  const interactive = io.isTTY && !opts.noBrowser;
  out.info(`Logging in with integration ${target.integration.clientId.slice(0, 12)}… for ${target.scopes.join(' ')}`);

  let server: CallbackServer | undefined;
  if (isLoopbackRedirect(redirectUri)) {
    const expected = { state: auth.pending.state };
    server = await startCallbackServer(redirectUri, expected).catch((error: NodeJS.ErrnoException) => {
      // Without a browser the paste is the way anyway; with one, say why the callback cannot be caught.
      if (interactive) {
        const why = error.code === 'EADDRINUSE' ? `port ${new URL(redirectUri).port || 80} is in use` : error.message;
        out.warn(`Cannot listen on ${redirectUri} (${why}); paste the redirected URL instead.`);
      }
      return undefined;
    });
  } else if (interactive) {
    out.warn(`The redirect URI ${redirectUri} is not a local http address; paste the redirected URL instead.`);
  }
  try {
    let browserOpened = false;
    if (interactive) {
      browserOpened = await io.openBrowser(auth.url).then(
        () => true,
        () => false,
      );
    }
    out.info(browserOpened ? 'Opened your browser at:' : 'Open this URL in a browser and approve:');
    out.info(`  ${auth.url}`);
    const pasteHint = 'paste the URL the browser was redirected to (the address bar, even on an error page)';
    let spinner: ReturnType<typeof startSpinner> | undefined;
    if (browserOpened && server) {
      spinner = startSpinner(io.stderr, `Waiting for the redirect to ${redirectUri} (or ${pasteHint})…`, io.isTTY);
    } else {
      out.info(`Then ${pasteHint}${server ? `, unless it reaches ${redirectUri} by itself` : ''}.`);
      if (io.isTTY) io.stderr.write('Redirected URL: ');
    }
    // Whichever answers first wins; the other (a pending stdin read) is stopped so the process can exit.
    const done = new AbortController();
    const both = AbortSignal.any([signal, done.signal]);
    try {
      const obtained = await Promise.race([
        ...(server ? [server.callback.then((c) => exchange(c.url, auth, target, signal, c.reply))] : []),
        pasteLoop(io, out, auth, target, both, server !== undefined),
        aborted(signal),
      ]);
      // The server stays up until the browser waiting on it has been told the outcome.
      const listening = server;
      server = undefined;
      return { ...obtained, close: () => listening?.close() ?? Promise.resolve() };
    } finally {
      done.abort();
      spinner?.stop();
    }
  } finally {
    await server?.close();
  }
}

/**
 * Checks a callback URL, exchanges its code and verifies the id_token as the web app does; answers the browser on
 * failure.
 */
async function exchange(
  url: string,
  auth: AuthorizationRequest,
  target: LoginTarget,
  signal: AbortSignal,
  reply?: (ok: boolean, text: string) => void,
): Promise<Obtained> {
  const { parseCallback } = await import('../../oauth/callback.js');
  const { exchangeCode } = await import('../../oauth/tokens.js');
  try {
    const parsed = parseCallback(url, auth.pending);
    const tokens = await exchangeCode(target.integration, parsed, { signal });
    const claims = await verifyLoginIdToken(tokens, target.integration, parsed.pending, target.config, signal);
    return { tokens, claims, reply };
  } catch (error) {
    reply?.(false, error instanceof Error ? error.message : 'The login failed.');
    throw error;
  }
}

/** Reads pasted redirect URLs from stdin until one works; on a terminal a bad paste asks again. */
async function pasteLoop(
  io: CommandIO,
  out: Output,
  auth: AuthorizationRequest,
  target: LoginTarget,
  signal: AbortSignal,
  serverListening: boolean,
): Promise<Obtained> {
  for (;;) {
    const line = (await readLine(io.stdin, signal))?.trim();
    if (line === undefined) {
      // stdin ended (e.g. </dev/null): only the loopback server can still answer.
      if (!serverListening) throw noRedirectRead();
      out.info('Standard input ended; still waiting for the browser to reach the redirect URI.');
      return aborted(signal);
    }
    if (line === '') {
      if (io.isTTY) io.stderr.write('Redirected URL: ');
      continue;
    }
    // A line that is no authorization answer at all (a secret piped by mistake) is never echoed nor parsed.
    if (!isRedirectAnswer(line)) {
      if (!io.isTTY) throw noRedirectRead();
      out.warn('That is not a redirected URL: paste the full URL the browser was redirected to.');
      io.stderr.write('Redirected URL: ');
      continue;
    }
    try {
      return await exchange(line, auth, target, signal);
    } catch (error) {
      if (!io.isTTY || !notThisLogin(error)) throw error;
      out.warn(`That is not the redirect of this login: ${terminalSafe((error as Error).message)}`);
      io.stderr.write('Redirected URL: ');
    }
  }
}

/** Whether a pasted answer was refused as not this login's redirect (a malformed callback or another state). */
function notThisLogin(error: unknown): boolean {
  return (
    isWebexAuthError(error, { family: 'authorization', code: 'invalid_callback' }) ||
    isWebexAuthError(error, { family: 'authorization', code: 'state_mismatch' })
  );
}

/** The device grant: show the code, URL and a QR code, then poll as Webex asks. */
async function deviceLogin(io: CommandIO, out: Output, target: LoginTarget, signal: AbortSignal): Promise<Obtained> {
  const { startDeviceAuthorization, pollDeviceToken } = await import('../../oauth/device.js');
  const device = await startDeviceAuthorization(target.integration, target.scopes, { signal });
  const link = device.verificationUriComplete ?? device.verificationUri;
  out.info(
    `Open ${out.err.bold(device.verificationUri)} on any device and enter the code ${out.err.bold(device.userCode)}`,
  );
  if (device.verificationUriComplete) out.info(`or go straight to ${device.verificationUriComplete}`);
  out.info(await qrCode(link));
  const spinner = startSpinner(io.stderr, `Waiting for approval (code ${device.userCode})…`, io.isTTY);
  try {
    const tokens = await pollDeviceToken(target.integration, device.deviceCode, {
      interval: device.interval,
      expiresIn: device.expiresIn,
      requestedScopes: target.scopes,
      signal,
      onPoll: (e) => {
        if (e.outcome === 'slow_down') spinner.update(`Webex asked to poll less often; every ${e.interval} s now…`);
      },
    });
    spinner.stop();
    // The device grant sends no nonce (and OIDC scopes are refused for it before we get here); should Webex return an
    // id_token anyway, it is checked as any other (issuer, audience, signature) before anything is stored.
    const claims = await verifyLoginIdToken(tokens, target.integration, {}, target.config, signal);
    return { tokens, claims };
  } catch (error) {
    spinner.stop();
    throw error;
  }
}

/** A terminal QR code of `text` (qrcode-terminal: the small half-block rendering fits an 80-column terminal). */
async function qrCode(text: string): Promise<string> {
  const { default: qr } = await import('qrcode-terminal');
  return new Promise((resolve) => qr.generate(text, { small: true }, (s: string) => resolve(s)));
}
