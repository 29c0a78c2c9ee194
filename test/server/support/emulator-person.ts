/**
 * Another person of the emulator, acting outside the server under test: a consent page answered over HTTP as a
 * browser would, and a code flow of their own for an access token (to post as them through the emulator's API).
 */

/** Answers the emulator's consent page at `authorizeUrl` as `email` (accept); returns where it redirects. */
export async function consentAs(authorizeUrl: string, email: string): Promise<URL> {
  const page = await fetch(authorizeUrl);
  const text = await page.text();
  const request = /name="request" value="([^"]+)"/.exec(text)?.[1];
  if (!request) throw new Error(`no consent form at ${authorizeUrl}: ${text.slice(0, 300)}`);
  const answer = await fetch(new URL('/v1/authorize', authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, email, decision: 'accept' }).toString(),
  });
  return new URL(String(answer.headers.get('location')));
}

/** What a code flow against the emulator needs. */
export interface EmulatorIntegration {
  /** The emulator's origin (`http://127.0.0.1:P`). */
  emulatorUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** An access token of `email` with `scopes`, from a code flow straight against the emulator. */
export async function emulatorToken(
  integration: EmulatorIntegration,
  email: string,
  scopes: string[],
): Promise<string> {
  const authorize = new URL(`${integration.emulatorUrl}/v1/authorize`);
  authorize.search = new URLSearchParams({
    client_id: integration.clientId,
    response_type: 'code',
    redirect_uri: integration.redirectUri,
    scope: scopes.join(' '),
    state: 'state-of-a-test-flow-0123456789',
  }).toString();
  const code = (await consentAs(authorize.toString(), email)).searchParams.get('code');
  if (!code) throw new Error('the emulator gave no code');
  const res = await fetch(`${integration.emulatorUrl}/v1/access_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: integration.clientId,
      client_secret: integration.clientSecret,
      code,
      redirect_uri: integration.redirectUri,
    }).toString(),
  });
  if (res.status !== 200) throw new Error(`token exchange: HTTP ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
