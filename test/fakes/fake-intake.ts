import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';

/** One request as the fake saw it (body decompressed). */
export interface IntakeRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** Bytes on the wire (compressed when Content-Encoding says so). */
  wireBytes: number;
  /** Bytes after decompression. */
  rawBytes: number;
  body: unknown;
  /** The status the fake answered. */
  status: number;
  /** When it arrived, by the fake's clock (`now`). */
  at: number;
}

/** An injected answer. */
export interface InjectedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Never answer (the socket is held until the fake closes): a hung destination. */
  hang?: boolean;
}

/** What a route handler decides about a decoded, authenticated request. */
export interface RouteVerdict {
  status: number;
  body: unknown;
  /** Extra answer headers (e.g. a vendor's rate-limit headers). */
  headers?: Record<string, string>;
}

export interface Route {
  method: string;
  /** Exact path, or a pattern. */
  path: string | RegExp;
  /** Checks headers (auth); returns an error verdict or null. */
  authorize(headers: IncomingMessage['headers']): RouteVerdict | null;
  /** Size limits of the real API, checked before the body is parsed. */
  maxWireBytes?: number;
  maxRawBytes?: number;
  /** The body must be gzip (or may be plain). */
  requireGzip?: boolean;
  /** Validates and records the body; returns the answer. */
  handle(body: unknown, request: IncomingMessage): RouteVerdict;
}

/**
 * A local HTTP intake (127.0.0.1, ephemeral port) that checks what a vendor's
 * API checks (path, auth header, encoding, size, schema) and can be told to
 * fail: the next N requests answer a given status, or hang.
 */
export class FakeIntake {
  readonly requests: IntakeRequest[] = [];
  private readonly injected: Array<{ remaining: number; answer: InjectedAnswer; path?: RegExp }> = [];
  private readonly hung: ServerResponse[] = [];
  private server: Server | null = null;
  /** Every answer is delayed this long (real ms): a slow destination. */
  delayMs = 0;
  /** The fake's clock for `at` (a test passes its ManualClock's). */
  now: () => number = Date.now;

  constructor(private readonly routes: Route[]) {}

  async start(): Promise<string> {
    this.server = createServer((request, response) => void this.serve(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const address = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  /** The next `count` requests (optionally only those whose path matches) get `answer`. */
  inject(count: number, answer: InjectedAnswer, path?: RegExp): void {
    this.injected.push({ remaining: count, answer, path });
  }

  /** Every request answers `answer` until cleared. */
  failAll(answer: InjectedAnswer): void {
    this.injected.push({ remaining: Number.POSITIVE_INFINITY, answer });
  }

  clearInjected(): void {
    this.injected.length = 0;
    for (const response of this.hung.splice(0)) response.destroy();
  }

  get accepted(): IntakeRequest[] {
    return this.requests.filter((request) => request.status >= 200 && request.status < 300);
  }

  async close(): Promise<void> {
    for (const response of this.hung.splice(0)) response.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const wire = Buffer.concat(chunks);
    const path = (request.url ?? '/').split('?')[0]!;
    const record: IntakeRequest = { method: request.method ?? 'GET', path, headers: request.headers, wireBytes: wire.length, rawBytes: wire.length, body: undefined, status: 0, at: this.now() };
    this.requests.push(record);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      const send = () => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(body));
      };
      if (this.delayMs > 0) setTimeout(send, this.delayMs);
      else send();
    };

    const injection = this.injected.find((candidate) => candidate.remaining > 0 && (!candidate.path || candidate.path.test(path)));
    if (injection) {
      injection.remaining--;
      if (injection.answer.hang) {
        record.status = -1;
        this.hung.push(response);
        return;
      }
      answer(injection.answer.status, injection.answer.body ?? { errors: [`injected ${injection.answer.status}`] }, injection.answer.headers);
      return;
    }

    const route = this.routes.find((candidate) => candidate.method === request.method && (typeof candidate.path === 'string' ? candidate.path === path : candidate.path.test(path)));
    if (!route) return answer(404, { errors: [`no route ${request.method} ${path}`] });
    const denied = route.authorize(request.headers);
    if (denied) return answer(denied.status, denied.body, denied.headers);
    if (route.maxWireBytes !== undefined && wire.length > route.maxWireBytes) return answer(413, { errors: [`payload of ${wire.length} bytes exceeds ${route.maxWireBytes}`] });
    const encoding = (request.headers['content-encoding'] ?? '').toString().toLowerCase();
    if (route.requireGzip && encoding !== 'gzip') return answer(400, { errors: ['expected Content-Encoding: gzip'] });
    let raw: Buffer;
    try {
      raw = encoding === 'gzip' ? gunzipSync(wire) : encoding === 'deflate' ? inflateSync(wire) : wire;
    } catch {
      return answer(400, { errors: ['body is not valid for its Content-Encoding'] });
    }
    record.rawBytes = raw.length;
    if (route.maxRawBytes !== undefined && raw.length > route.maxRawBytes) return answer(413, { errors: [`decompressed payload of ${raw.length} bytes exceeds ${route.maxRawBytes}`] });
    let body: unknown;
    try {
      body = raw.length === 0 && request.method === 'GET' ? undefined : JSON.parse(raw.toString('utf8'));
    } catch {
      return answer(400, { errors: ['body is not JSON'] });
    }
    record.body = body;
    const verdict = route.handle(body, request);
    answer(verdict.status, verdict.body, verdict.headers);
  }
}

/** Small schema helpers for the fakes' body checks: each returns a problem or null. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
