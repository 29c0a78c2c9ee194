/**
 * A private PostgreSQL server (initdb + pg_ctl in a temp dir, as the `postgres` user when run as root) that the long
 * suite may really restart without disturbing the machine's shared server.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** A running private server. */
export interface PrivatePostgres {
  url: string;
  restart(): void;
  stop(): void;
}

function asPostgres(args: string[]): string {
  const [cmd, ...rest] = args as [string, ...string[]];
  if (userInfo().uid !== 0) return execFileSync(cmd, rest, { encoding: 'utf8' });
  return execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...rest], { encoding: 'utf8' });
}

/** Starts one on `port`, with a `test` database and trust auth. */
export function startPrivatePostgres(port: number): PrivatePostgres {
  const dir = mkdtempSync(join(tmpdir(), 'webex-auth-pg-'));
  if (userInfo().uid === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), 0);
  const data = join(dir, 'data');
  asPostgres(['initdb', '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  asPostgres(['pg_ctl', '-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']);
  asPostgres(['psql', '-h', dir, '-p', String(port), '-U', 'postgres', '-c', 'CREATE DATABASE test']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/test`,
    restart: () => {
      asPostgres(['pg_ctl', '-D', data, '-o', opts, '-l', join(dir, 'log'), '-m', 'fast', '-w', 'restart']);
    },
    stop: () => {
      try {
        asPostgres(['pg_ctl', '-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
