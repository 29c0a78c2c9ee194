/**
 * undici 7, loaded on first use, and the one keep-alive `Agent` of a transport. Not loaded at start-up: it was the
 * biggest module `serve` evaluated at start (bench/startup.mjs), and a server whose clients only ask for cached tokens
 * never calls out.
 */
import type * as Undici from 'undici';
import type { Agent } from 'undici';

/** The settings of the shared {@link Agent}. */
export interface AgentSettings {
  /** Connections per origin at most. */
  connections: number;
  /** No answer headers within this many ms fails a request (a request may set its own). */
  headersTimeoutMs: number;
  /** No answer body data for this many ms fails a request (a request may set its own). */
  bodyTimeoutMs: number;
  /** How long an unused kept-alive connection stays open, in ms. */
  keepAliveMs: number;
}

/** The undici module. In the bundled CLI (a split ESM bundle) an import() of CommonJS undici yields only `default`. */
async function loadUndici(): Promise<typeof Undici> {
  const undici = await import('undici');
  return undici.Agent ? undici : (undici as unknown as { default: typeof Undici }).default;
}

/** A new undici `Agent` with `settings`, loading undici first. */
export async function createAgent(settings: AgentSettings): Promise<Agent> {
  const { Agent } = await loadUndici();
  return new Agent({
    connections: settings.connections,
    headersTimeout: settings.headersTimeoutMs,
    bodyTimeout: settings.bodyTimeoutMs,
    // Also the cap on a server's `Keep-Alive: timeout` hint, so a connection never outlives keepAliveMs idle.
    keepAliveTimeout: settings.keepAliveMs,
    keepAliveMaxTimeout: settings.keepAliveMs,
  });
}
