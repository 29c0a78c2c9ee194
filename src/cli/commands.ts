/**
 * The command table. Each command is imported only when it runs, so that `webex-auth token` loads nothing
 * the token path does not need.
 */
import type { Command } from './command.js';

/** A table entry: the one-line summary (for the command list without loading the module) and a loader. */
export interface CommandEntry {
  summary: string;
  load: () => Promise<{ default: Command }>;
}

/** Every command, in the order `--help` lists them. */
export const COMMANDS: Record<string, CommandEntry> = {
  serve: { summary: 'Run the web app and token broker (npm start)', load: () => import('./commands/serve.js') },
};
