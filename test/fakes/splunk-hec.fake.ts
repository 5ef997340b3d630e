import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** An HEC answer: HTTP status and the `{text, code}` body. */
export interface HecFault {
  status: number;
  code: number;
  text: string;
  headers?: Record<string, string>;
}

export const HEC_ANSWERS = {
  success: { status: 200, code: 0, text: 'Success' },
  tokenDisabled: { status: 403, code: 1, text: 'Token disabled' },
  tokenRequired: { status: 401, code: 2, text: 'Token is required' },
  invalidAuthorization: { status: 401, code: 3, text: 'Invalid authorization' },
  invalidToken: { status: 403, code: 4, text: 'Invalid token' },
  noData: { status: 400, code: 5, text: 'No data' },
  invalidDataFormat: { status: 400, code: 6, text: 'Invalid data format' },
  incorrectIndex: { status: 400, code: 7, text: 'Incorrect index' },
  internalError: { status: 500, code: 8, text: 'Internal server error' },
  serverBusy: { status: 503, code: 9, text: 'Server is busy' },
  eventFieldRequired: { status: 400, code: 12, text: 'Event field is required' },
} as const satisfies Record<string, HecFault>;

export interface FakeHecOptions {
  tokens: string[];
  disabledTokens?: string[];
  /** PEM key and certificate: serve HTTPS. */
  tls?: { key: string; cert: string };
  /** Indexes a token may write to; others answer code 7. Unset: any. */
  allowedIndexes?: string[];
}

/**
 * A fake Splunk HTTP Event Collector: token checks (codes 1-4), batches of
 * concatenated JSON event objects (gzip or not), the HEC answer codes, and
 * injected faults in order (`faults`). Every accepted event is kept in
 * `events`, duplicates included.
 */
export class FakeSplunkHec {
  readonly events: Array<Record<string, unknown>> = [];
  /** Answered, in order, to the next authorised requests instead of accepting them. */
  readonly faults: HecFault[] = [];
  readonly stats = { requests: 0, accepted: 0, faults: 0, rejected: 0 };
  readonly requestHeaders: Array<Record<string, string | string[] | undefined>> = [];
  private server: Server | undefined;

  constructor(private readonly options: FakeHecOptions) {}

  async start(): Promise<string> {
    const handler = (request: IncomingMessage, response: ServerResponse) => {
      this.handle(request, response).catch((error: unknown) => this.answer(response, { status: 500, code: 8, text: String(error) }));
    };
    this.server = this.options.tls ? createHttpsServer({ key: this.options.tls.key, cert: this.options.tls.cert }, handler) : createHttpServer(handler);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo;
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    this.stats.requests++;
    this.requestHeaders.push(request.headers);
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    if (request.method !== 'POST' || path !== '/services/collector/event') {
      this.answer(response, { status: 404, code: 404, text: 'The requested URL was not found on this server.' });
      return;
    }
    const authorization = request.headers['authorization'];
    if (authorization === undefined) return this.reject(response, HEC_ANSWERS.tokenRequired);
    const match = /^Splunk (\S+)$/.exec(authorization);
    if (!match) return this.reject(response, HEC_ANSWERS.invalidAuthorization);
    if (this.options.disabledTokens?.includes(match[1]!)) return this.reject(response, HEC_ANSWERS.tokenDisabled);
    if (!this.options.tokens.includes(match[1]!)) return this.reject(response, HEC_ANSWERS.invalidToken);

    const fault = this.faults.shift();
    if (fault) {
      this.stats.faults++;
      this.answer(response, fault);
      return;
    }
    const raw = Buffer.concat(chunks);
    const text = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
    if (text.trim() === '') return this.reject(response, HEC_ANSWERS.noData);
    const parsed = splitConcatenatedJson(text);
    const events = 'events' in parsed ? parsed.events : null;
    if (events === null) {
      const invalid = 'invalidEventNumber' in parsed ? parsed.invalidEventNumber : 0;
      return this.reject(response, HEC_ANSWERS.invalidDataFormat, { 'invalid-event-number': invalid });
    }
    for (let index = 0; index < events.length; index++) {
      const event = events[index]!;
      if (!('event' in event)) return this.reject(response, HEC_ANSWERS.eventFieldRequired, { 'invalid-event-number': index });
      const eventIndex = event['index'];
      if (this.options.allowedIndexes && typeof eventIndex === 'string' && !this.options.allowedIndexes.includes(eventIndex)) {
        return this.reject(response, HEC_ANSWERS.incorrectIndex, { 'invalid-event-number': index });
      }
    }
    this.events.push(...events);
    this.stats.accepted += events.length;
    this.answer(response, HEC_ANSWERS.success);
  }

  private reject(response: ServerResponse, answer: HecFault, extra: Record<string, unknown> = {}): void {
    this.stats.rejected++;
    this.answer(response, answer, extra);
  }

  private answer(response: ServerResponse, answer: HecFault, extra: Record<string, unknown> = {}): void {
    const text = JSON.stringify({ text: answer.text, code: answer.code, ...extra });
    response.writeHead(answer.status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...(answer.headers ?? {}) });
    response.end(text);
  }
}

/**
 * Splits HEC's batch format (JSON objects one after the other, whitespace
 * between them allowed) into the objects, or says which one is malformed.
 */
export function splitConcatenatedJson(text: string): { events: Array<Record<string, unknown>> } | { invalidEventNumber: number } {
  const events: Array<Record<string, unknown>> = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let position = 0; position < text.length; position++) {
    const character = text[position]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (character === '\\') escaped = true;
      else if (character === '"') inString = false;
      continue;
    }
    if (character === '"') {
      if (depth === 0) return { invalidEventNumber: events.length };
      inString = true;
    } else if (character === '{') {
      if (depth === 0) start = position;
      depth++;
    } else if (character === '}') {
      depth--;
      if (depth < 0) return { invalidEventNumber: events.length };
      if (depth === 0) {
        try {
          events.push(JSON.parse(text.slice(start, position + 1)) as Record<string, unknown>);
        } catch {
          return { invalidEventNumber: events.length };
        }
      }
    } else if (depth === 0 && !/\s/.test(character)) {
      return { invalidEventNumber: events.length };
    }
  }
  return depth === 0 ? { events } : { invalidEventNumber: events.length };
}
