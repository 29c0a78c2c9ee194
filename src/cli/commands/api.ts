/**
 * `webex-auth api <path>`: an authenticated Webex REST call, as `gh api` makes GitHub calls. The connection's access
 * token (refreshed first when needed) goes only to the connection's API base; the answer's JSON goes to stdout, a
 * failure to stderr as one line with the tracking id (a 403 names the scope the call needs) and the exit codes of
 * the other commands: 0 ok, 1 Webex refused or failed, 2 usage, 4 the access token was rejected.
 */
import { nextLink } from '../../webex/link.js';
import { appendQuery, type FieldValue, parseFields, readSource } from '../api/fields.js';
import { apiMethod, endpointPath, parseHeaders } from '../api/request.js';
import { type Answer, answerError, bodyText, headerBlock, mergePages, readAnswer } from '../api/response.js';
import type { Command } from '../command.js';
import { CONNECTION_FLAG, CONNECTION_HELP, loadCliConfig, resolveConnection, withVault } from '../context.js';
import { CliError, type CommandIO, EXIT } from '../io.js';

/** A repeatable flag's values. */
const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : []);

/** The JSON body of `--input` (a file, or `-` for standard input). */
async function inputBody(name: string, io: CommandIO): Promise<unknown> {
  const text = await readSource(name, { cwd: io.cwd, stdin: io.stdin }, '--input');
  try {
    return JSON.parse(text);
  } catch {
    // The parser's message quotes the text, which may hold anything: not repeated.
    throw new CliError(
      '--input is not JSON',
      EXIT.usage,
      'Give a file (or - for standard input) holding one JSON value.',
    );
  }
}

/** `path` with `params` added to its query string. */
function withQuery(path: string, params: Record<string, FieldValue>): string {
  const search = new URLSearchParams();
  appendQuery(search, params);
  const query = search.toString();
  return query ? `${path}${path.includes('?') ? '&' : '?'}${query}` : path;
}

const command: Command = {
  summary: 'Make an authenticated Webex REST call and print the JSON answer (as `gh api`)',
  usage:
    'api <path> [-X <method>] [-f key=value]… [-F key=value]… [-H "Name: value"]… [--input <file|->] [--paginate] [-i] [--silent] [--connection <id|email>]',
  flags: {
    method: { type: 'string', short: 'X' },
    'raw-field': { type: 'string', short: 'f', multiple: true },
    field: { type: 'string', short: 'F', multiple: true },
    header: { type: 'string', short: 'H', multiple: true },
    input: { type: 'string' },
    paginate: { type: 'boolean' },
    include: { type: 'boolean', short: 'i' },
    silent: { type: 'boolean' },
    ...CONNECTION_FLAG,
  },
  help: {
    method: 'The HTTP method (default GET, or POST when fields or --input are given)',
    'raw-field': 'A string parameter key=value (repeatable; key[]=v appends to an array, key[sub]=v nests)',
    field: 'A typed parameter: true, false, null and integers as JSON, @file or @- for text (repeatable)',
    header: "An extra request header 'Name: value' (repeatable; never Authorization)",
    input: 'The JSON request body from a file, or - for standard input (fields then go to the query string)',
    paginate: 'Follow Link rel="next" and print every page\'s items as one {"items": [...]} answer',
    include: 'Print the status line and response headers before the body',
    silent: 'Do not print the response body',
    ...CONNECTION_HELP,
  },
  details: [
    '<path> is relative to the API base (people/me, /rooms, rooms?max=2), or a full URL under it: the access token',
    'is sent nowhere else. Parameters go to the query string of a GET and to the JSON body otherwise.',
    '',
    'Examples:',
    '  webex-auth api people/me',
    '  webex-auth api rooms --paginate -f type=group -X GET',
    '  webex-auth api messages -f roomId=Y2lz… -f markdown="**hello**"',
    '  webex-auth api rooms/Y2lz… -X PUT --input room.json',
  ].join('\n'),
  positionals: true,
  async run(args, io) {
    const v = args.values;
    const [endpoint, ...extra] = args.positionals;
    if (endpoint === undefined || extra.length > 0) {
      throw new CliError(
        endpoint === undefined ? 'which endpoint?' : 'give one endpoint',
        EXIT.usage,
        'Run `webex-auth api people/me`, or `webex-auth api --help` for the flags.',
      );
    }
    const headers = parseHeaders(list(v.header));
    const rawFields = list(v['raw-field']);
    const typedFields = list(v.field);
    const input = typeof v.input === 'string' ? v.input : undefined;
    if (input === '-' && typedFields.some((f) => f.endsWith('=@-'))) {
      throw new CliError(
        'standard input can be read once',
        EXIT.usage,
        'Use --input - or a -F key=@- field, not both.',
      );
    }
    const hasParams = rawFields.length + typedFields.length > 0;
    const method =
      typeof v.method === 'string' ? apiMethod(v.method) : hasParams || input !== undefined ? 'POST' : 'GET';
    const paginate = v.paginate === true;
    if (paginate && method !== 'GET') {
      throw new CliError(`--paginate follows the pages of a GET, not of a ${method}`, EXIT.usage, 'Add -X GET.');
    }
    const params = await parseFields(rawFields, typedFields, { cwd: io.cwd, stdin: io.stdin });
    const body = input !== undefined ? await inputBody(input, io) : undefined;
    // As gh: parameters go to the query string of a GET (and a HEAD), or when the body comes from --input.
    const paramsInQuery = method === 'GET' || method === 'HEAD' || input !== undefined;
    const requestBody = body ?? (hasParams && !paramsInQuery ? params : undefined);

    const config = await loadCliConfig(io);
    const { apiBase, path, fresh } = await withVault(
      config,
      async (vault) => {
        const connection = await resolveConnection(vault, v.connection);
        const integration = await vault.integrations.get(connection.integrationId);
        const apiBase = integration?.apiBase ?? config.apiBase;
        // Checked before the token is read (and perhaps refreshed): a URL outside the base gets nothing.
        const path = endpointPath(endpoint, apiBase);
        return { apiBase, path, fresh: await vault.connections.getFreshToken(connection.id, 60) };
      },
      { quiet: true },
    );

    const { WebexClient } = await import('../../webex/client.js');
    const client = new WebexClient({ apiBase, accessToken: fresh.accessToken });
    const tty = io.stdoutIsTTY;
    const print = (text: string) => text && io.stdout.write(text);
    const pages: Answer[] = [];
    const seen = new Set<string>();
    let next: string | undefined = paramsInQuery && hasParams ? withQuery(path, params) : path;
    while (next !== undefined) {
      seen.add(next);
      const answer = await readAnswer(await client.send(method, next, { body: requestBody, headers }));
      if (v.include === true) print(headerBlock(answer, tty));
      if (answer.status < 200 || answer.status > 299) {
        // As gh: Webex's error body to stdout, the one-line error to stderr.
        if (v.silent !== true) print(bodyText(answer.body, answer.json, tty));
        throw answerError(method, next.replace(/\?.*$/, ''), answer, { granted: fresh.scopes });
      }
      pages.push(answer);
      const link: string | undefined = paginate
        ? nextLink(answer.headers.get('link'), `${apiBase.replace(/\/+$/, '')}${next}`)
        : undefined;
      next = link === undefined ? undefined : nextPage(link, apiBase, seen);
    }
    if (v.silent === true || method === 'HEAD') return EXIT.ok;
    const merged = pages.length > 1 && pages.every((p) => p.json) ? mergePages(pages.map((p) => p.body)) : undefined;
    if (merged !== undefined) print(bodyText(merged, true, tty));
    else for (const page of pages) print(bodyText(page.body, page.json, tty));
    return EXIT.ok;
  },
};

/**
 * The path of a next-page link. A link outside the API base is not followed with the access token, and one that
 * repeats a page already read ends the run rather than looping.
 */
function nextPage(link: string, apiBase: string, seen: ReadonlySet<string>): string {
  let path: string;
  try {
    path = endpointPath(link, apiBase);
  } catch {
    throw new CliError(
      'the next-page link leaves the API base; not following it with the access token',
      EXIT.failure,
      'Run without --paginate and follow the Link header yourself if you trust it.',
    );
  }
  if (seen.has(path)) {
    throw new CliError('the next-page link repeats a page already read', EXIT.failure, 'Run without --paginate.');
  }
  return path;
}

export default command;
