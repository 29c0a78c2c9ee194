/**
 * The emulator side of the CLI tests: a seed with an integration whose redirect URI is a free loopback port, and
 * "the person's browser" (consent and device approval driven with fetch, as a browser would submit the forms).
 */

import { freePort } from '../support/free-port.js';

/** A free loopback port (test/support/free-port.ts). */
export { freePort };

/** The test integration's credentials. */
export const CLIENT_ID = `C${'c1'.repeat(32)}`;
export const CLIENT_SECRET = 'f0'.repeat(32);
export const ALICE = 'alice@example.com';

/** A seed: the demo seed plus our integration, registered for `redirectUri`. */
export function seedWith<S extends { integrations: readonly unknown[] }>(base: S, redirectUri: string) {
  return {
    ...base,
    integrations: [
      ...base.integrations,
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: [redirectUri],
        scopes: ['spark:all', 'spark:people_read', 'spark:rooms_read', 'openid', 'email', 'profile'],
      },
    ],
  };
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, 'i').exec(tag);
  const v = m?.[2] ?? m?.[3];
  return v
    ?.replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}

/** Submits the first form of `html` (fetched from `pageUrl`) with its hidden fields plus `fields`; returns the response. */
export async function submitForm(pageUrl: string, html: string, fields: Record<string, string>): Promise<Response> {
  const form = /<form\b[^>]*>[\s\S]*?<\/form>/i.exec(html)?.[0];
  if (!form) throw new Error(`no form on ${pageUrl}: ${html.slice(0, 500)}`);
  const openTag = /<form\b[^>]*>/i.exec(form)?.[0] ?? '';
  const action = new URL(attr(openTag, 'action') ?? pageUrl, pageUrl);
  const body = new URLSearchParams();
  for (const input of form.match(/<input\b[^>]*>/gi) ?? []) {
    const name = attr(input, 'name');
    if (name && (attr(input, 'type') ?? '').toLowerCase() === 'hidden') body.set(name, attr(input, 'value') ?? '');
  }
  for (const [k, v] of Object.entries(fields)) body.set(k, v);
  return fetch(action, {
    method: (attr(openTag, 'method') ?? 'POST').toUpperCase(),
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    redirect: 'manual',
  });
}

/** Opens the authorize URL, signs in as `email`, clicks `decision`; returns the Location Webex redirects to. */
export async function consent(authorizeUrl: string, email = ALICE, decision = 'accept'): Promise<string> {
  const page = await fetch(authorizeUrl, { redirect: 'manual' });
  if (page.status >= 300 && page.status < 400) return page.headers.get('location') as string;
  const html = await page.text();
  if (page.status !== 200) throw new Error(`authorize answered ${page.status}: ${html.slice(0, 300)}`);
  const answer = await submitForm(authorizeUrl, html, { email, decision });
  const location = answer.headers.get('location');
  if (!location)
    throw new Error(`consent answered ${answer.status} without Location: ${(await answer.text()).slice(0, 300)}`);
  return new URL(location, authorizeUrl).toString();
}

/** Approves a device code on the emulator's verification page. */
export async function approveDevice(verificationUri: string, userCode: string, email = ALICE): Promise<void> {
  const page = await fetch(verificationUri);
  const html = await page.text();
  const answer = await submitForm(verificationUri, html, { user_code: userCode, email, decision: 'accept' });
  if (answer.status >= 400)
    throw new Error(`device approval answered ${answer.status}: ${(await answer.text()).slice(0, 300)}`);
}

/** The authorize URL the CLI printed (the first http URL containing /authorize?). */
export function printedAuthorizeUrl(text: string): string | undefined {
  return /(https?:\/\/\S+\/authorize\?\S+)/.exec(text)?.[1];
}

/** The user code and verification URI the CLI printed for the device grant. */
export function printedDeviceCode(text: string): { userCode: string; verificationUri: string } | undefined {
  const m = /Open (\S+) on any device and enter the code (\S+)/.exec(text.replace(/\u001b\[[0-9;]*m/g, ''));
  return m ? { verificationUri: m[1] as string, userCode: m[2] as string } : undefined;
}
