/**
 * Reading a `multipart/form-data` message post (docs/webex-api.md "Messages"): text fields plus at most one file in
 * the field `files`, the whole body capped (Webex: 100 MB per file). The body arrives as the raw request stream (the
 * app's content-type parser hands it over untouched); it is counted while it is read and parsed with the platform's
 * own multipart parser (`Response.formData()`), so no extra dependency is needed.
 */
import { Readable, Transform } from 'node:stream';

/** An uploaded file. */
export interface UploadedFile {
  filename: string;
  contentType: string;
  bytes: Buffer;
}

/** The outcome of reading a multipart body. */
export type MultipartResult =
  | { ok: true; fields: Record<string, string>; file?: UploadedFile }
  | { ok: false; status: 400 | 413; message: string };

/** Room for the text fields and part headers on top of the file limit. */
const FIELDS_ALLOWANCE = 256 * 1024;

class TooLarge extends Error {}

/** Reads `body` (the raw request stream) as multipart/form-data of `contentType`, refusing more than `maxFileBytes`. */
export async function readMultipart(
  body: unknown,
  contentType: string,
  maxFileBytes: number,
): Promise<MultipartResult> {
  if (!(body instanceof Readable)) return { ok: false, status: 400, message: 'The multipart body is missing.' };
  const limit = maxFileBytes + FIELDS_ALLOWANCE;
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) return done(new TooLarge());
      done(null, chunk);
    },
  });
  body.on('error', (e) => counter.destroy(e));
  let form: FormData;
  try {
    const stream = Readable.toWeb(body.pipe(counter)) as ReadableStream<Uint8Array>;
    form = await new Response(stream, { headers: { 'content-type': contentType } }).formData();
  } catch (e) {
    body.resume();
    if (e instanceof TooLarge || (e as { cause?: unknown }).cause instanceof TooLarge)
      return { ok: false, status: 413, message: `The file is larger than ${maxFileBytes} bytes.` };
    return { ok: false, status: 400, message: 'The multipart body could not be read.' };
  }
  const fields: Record<string, string> = {};
  let file: UploadedFile | undefined;
  for (const [name, value] of form) {
    if (typeof value !== 'string') {
      if (name !== 'files')
        return { ok: false, status: 400, message: `Unexpected file in field '${name.slice(0, 50)}'.` };
      if (file) return { ok: false, status: 400, message: 'Only one file may be attached to a message.' };
      if (value.size > maxFileBytes)
        return { ok: false, status: 413, message: `The file is larger than ${maxFileBytes} bytes.` };
      file = {
        filename: value.name || 'file',
        contentType: value.type || 'application/octet-stream',
        bytes: Buffer.from(await value.arrayBuffer()),
      };
      continue;
    }
    if (name in fields) return { ok: false, status: 400, message: `Field '${name.slice(0, 50)}' is repeated.` };
    fields[name] = value;
  }
  return { ok: true, fields, file };
}
