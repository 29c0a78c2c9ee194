/**
 * The built-in demo seed. Every credential here is MADE UP and works only against the local emulator — these are
 * not, and never were, real Webex credentials.
 */
import type { SeedInput } from './seed.js';

/** The seed used when no `--seed` file is given (local emulator only; never real Webex). */
export const DEMO_SEED = {
  _comment: 'Made-up credentials for the local webex-auth emulator only. They are not real Webex credentials.',
  integrations: [
    {
      name: 'webex-auth demo integration',
      clientId: 'C0de0e5a1f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbcc',
      clientSecret: 'd3m0e5a1f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbcc',
      redirectUris: [
        'http://localhost:8080/oauth',
        'http://localhost:8080/webex-auth.html',
        'http://127.0.0.1:8080/oauth',
      ],
      scopes: [
        'spark:all',
        'spark:people_read',
        'spark:rooms_read',
        'spark:memberships_read',
        'spark:memberships_write',
        'spark:messages_read',
        'spark:messages_write',
        'spark:kms',
        'openid',
        'email',
        'profile',
      ],
    },
  ],
  users: [
    { email: 'alice@example.com', displayName: 'Alice Example', firstName: 'Alice', lastName: 'Example' },
    { email: 'bob@example.com', displayName: 'Bob Example', firstName: 'Bob', lastName: 'Example' },
  ],
  bots: [{ email: 'demo-bot@webex.bot', displayName: 'Demo Bot', token: 'demo-bot-token-local-emulator-only' }],
  rooms: [
    {
      title: 'Demo space',
      members: ['demo-bot@webex.bot', 'alice@example.com'],
      messages: [
        { from: 'demo-bot@webex.bot', text: 'Hello from the demo bot (local emulator).' },
        { from: 'alice@example.com', text: 'Hi bot!' },
        { from: 'demo-bot@webex.bot', markdown: 'Tokens here come from the **local emulator**, not from Webex.' },
      ],
    },
  ],
} satisfies SeedInput;
