/**
 * One request sent with undici's `Dispatcher.dispatch`, its answer collected whole by the handler itself: the chunks
 * undici hands over (views of the bytes read from the socket) are kept as they are, and a one-chunk body (most Webex
 * JSON) is used without a copy. `Dispatcher.request` would first make a `Readable` for the body and push every chunk
 * through it, its events and its async resource: most of the client CPU left in a call (bench/transport.mjs).
 */
import type { Dispatcher } from 'undici';

/** An answer received whole. */
export interface ReceivedAnswer {
  statusCode: number;
  statusText: string;
  /** As undici parses them (and `request` gives them): lower-cased names, a repeated header as an array. */
  headers: Dispatcher.ResponseData['headers'];
  body: Buffer;
}

/**
 * The handler of one dispatch (undici 7's handler API). `answer` settles once: with the answer, with the failure
 * undici reports, with a `RangeError` when the answer cannot be used (its status, or a body over `maxBodyBytes`, which
 * aborts the request as soon as its length or its bytes pass it), or with the signal's reason on an abort — at once,
 * even while the request waits for a connection.
 */
export class AnswerReceiver implements Dispatcher.DispatchHandler {
  /** The answer, or why there is none. */
  readonly answer: Promise<ReceivedAnswer>;
  /** Whether the answer's headers came: a failure before them may mean the request never reached the server. */
  started = false;

  readonly #maxBodyBytes: number;
  readonly #signal: AbortSignal | undefined;
  #resolve!: (answer: ReceivedAnswer) => void;
  #reject!: (reason: unknown) => void;
  #controller: Dispatcher.DispatchController | undefined;
  /** Why it ended early, once it did; also what aborts a request that starts after that. */
  #failure: Error | undefined;
  #settled = false;
  #statusCode = 0;
  #statusText = '';
  #headers: Dispatcher.ResponseData['headers'] = {};
  #chunks: Buffer[] = [];
  #size = 0;

  constructor(maxBodyBytes: number, signal?: AbortSignal) {
    this.#maxBodyBytes = maxBodyBytes;
    this.#signal = signal;
    this.answer = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (signal?.aborted) this.handleEvent();
    // This object is the listener (`handleEvent`): no closure per call.
    else signal?.addEventListener('abort', this, { once: true });
  }

  /** The signal's abort. */
  handleEvent(): void {
    const reason = this.#signal?.reason;
    this.#fail(reason instanceof Error ? reason : new Error(String(reason)), reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#failure) controller.abort(this.#failure);
    else this.#controller = controller;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Dispatcher.ResponseData['headers'],
    statusMessage?: string,
  ): void {
    // An informational answer (103) precedes the final one, which `request` waits for too.
    if (statusCode < 200 || this.#settled) return;
    this.started = true;
    // `Response` takes 200–599 only: an out-of-range final status is no answer fetch gives.
    if (statusCode > 599) this.#fail(new RangeError(`unusable status ${statusCode}`));
    else if (Number(headers['content-length']) > this.#maxBodyBytes) this.#overLimit();
    else {
      this.#statusCode = statusCode;
      this.#statusText = statusMessage ?? '';
      this.#headers = headers;
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    this.#size += chunk.length;
    if (this.#size > this.#maxBodyBytes) this.#overLimit();
    else this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#settle();
    const chunks = this.#chunks;
    this.#resolve({
      statusCode: this.#statusCode,
      statusText: this.#statusText,
      headers: this.#headers,
      body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.#size),
    });
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    // After an abort of ours undici reports that same abort here: already settled.
    if (this.#settled) return;
    this.#settle();
    this.#reject(error);
  }

  #overLimit(): void {
    this.#fail(new RangeError(`answer body over ${this.#maxBodyBytes} bytes`));
  }

  /** Settles with `reason` and aborts the request (closing its connection) or, not started yet, marks it to be. */
  #fail(error: Error, reason: unknown = error): void {
    if (this.#settled) return;
    this.#settle();
    this.#failure = error;
    this.#chunks = [];
    this.#reject(reason);
    this.#controller?.abort(error);
  }

  #settle(): void {
    this.#settled = true;
    this.#signal?.removeEventListener('abort', this);
  }
}
