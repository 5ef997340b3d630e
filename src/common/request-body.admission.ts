import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Transform, type Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { HttpProtectionsConfig } from '../config/app.config.js';
import { hasBody } from './auth.guard.js';
import { HttpExceptionWithHeaders } from './error.filter.js';
import type { HttpProtectionMetrics, RefusalReason } from './http-protection.metrics.js';
import { closeAfterAnswer, lingerOnClose } from './lingering-close.js';
import { createZstdDecompress } from './zstd-decompress.stream.js';

class UnsupportedEncodingError extends Error {
  readonly statusCode = 415;
}

/** What one request with a body holds, from its preParsing hook to its response. */
interface BodyInFlight {
  /** Bytes counted against the in-flight bound for this request (released at the response). */
  held: number;
  /** The stream Fastify reads the body from: the socket's request, or our wrapper of it. */
  readonly source: Readable;
  /** Monotonic milliseconds at the last rate checkpoint, and the socket's bytes read then. */
  checkpointAt: number;
  checkpointBytes: number;
  readonly startedAt: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    bodyInFlight: BodyInFlight | null;
  }
}

/** How often arriving bodies are checked for their timeout and their transfer rate. */
const SWEEP_INTERVAL_MS = 1000;
/** A body's rate is judged over windows of this length (the first one is its grace period). */
const RATE_WINDOW_MS = 5000;
/** What a client refused for the in-flight bound is asked to wait. */
const BUSY_RETRY_AFTER_SECONDS = 1;

/**
 * Bounds what request bodies can hold, after authentication (src/common/auth.guard.ts) has run:
 *
 * - Every body counts against one bound on the bytes held by all requests in flight
 *   (`maxBodyBytesInFlight`). A body with a Content-Length reserves it up front; a chunked or
 *   gzip body counts its (decompressed) bytes as they arrive. Over the bound the request answers
 *   503 with Retry-After and the connection closes; bytes are released when the response ends.
 * - A body must arrive whole within `bodyTimeoutMs` of its headers, and after the first
 *   RATE_WINDOW_MS at `bodyMinBytesPerSecond` or faster in every window: a slower one is cut
 *   off with 408 and its connection closed. One timer checks every arriving body each second;
 *   nothing runs per chunk for a body with a Content-Length.
 * - `Content-Encoding: gzip`, `deflate` and `zstd` (also `zstd1`, the Datadog API client's name
 *   for it) bodies are decompressed here as they stream; the body limit applies to what
 *   decompression yields (Fastify counts the stream it reads; the zstd stream also stops itself at
 *   the limit, see zstd-decompress.stream.ts). Other encodings answer 415.
 */
export class RequestBodyAdmission {
  private heldBytes = 0;
  /** Requests whose bodies are still arriving; the sweep drops the complete ones. */
  private readonly arriving = new Set<FastifyRequest>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: HttpProtectionsConfig & { maxBodyBytes: number },
    private readonly metrics: HttpProtectionMetrics,
    private readonly now: () => number = () => performance.now(),
  ) {}

  install(fastify: FastifyInstance): void {
    fastify.decorateRequest('bodyInFlight', null);
    fastify.addHook('preParsing', (request, reply, payload, done) => {
      const error = this.admit(request, reply, payload);
      if (error instanceof Error) done(error);
      else done(null, error);
    });
    const release = (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
      this.release(request);
      done();
    };
    fastify.addHook('onResponse', release);
    fastify.addHook('onRequestAbort', (request, done) => {
      this.release(request);
      done();
    });
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
    fastify.addHook('onClose', (_instance, done) => {
      clearInterval(this.sweepTimer);
      done();
    });
  }

  /** The stream Fastify should read the body from, or the error that refuses it. */
  private admit(request: FastifyRequest, reply: FastifyReply, payload: Readable): Readable | Error {
    if (!hasBody(request)) return payload;
    const encoding = (request.headers['content-encoding'] ?? 'identity').toString().trim().toLowerCase();
    const deflate = encoding === 'deflate';
    const zstd = encoding === 'zstd' || encoding === 'zstd1';
    const compressed = encoding === 'gzip' || encoding === 'x-gzip' || deflate || zstd;
    if (!compressed && encoding !== 'identity' && encoding !== '') return new UnsupportedEncodingError(`Content-Encoding ${encoding} is not supported; use gzip, deflate or zstd`);
    const startedAt = this.now();
    const checkpointBytes = request.raw.socket?.bytesRead ?? 0;
    const declared = compressed ? Number.NaN : Number(request.headers['content-length']);
    if (Number.isFinite(declared)) {
      // Over the body limit Fastify refuses it unread: nothing to reserve.
      const state: BodyInFlight = { held: 0, source: payload, checkpointAt: startedAt, checkpointBytes, startedAt };
      this.track(request, state);
      if (declared <= this.limits.maxBodyBytes && !this.hold(state, declared)) return this.refuseOverBound(request, reply);
      return payload;
    }
    let source: Readable = payload;
    if (compressed) {
      // The length header describes the compressed bytes; the body limit applies to what decompression yields.
      delete request.headers['content-length'];
      // zlib-wrapped deflate, as HTTP's `deflate` is (and as the Datadog client sends it).
      const decompress = zstd ? createZstdDecompress(this.limits.maxBodyBytes) : deflate ? createInflate() : createGunzip();
      payload.on('error', (error) => decompress.destroy(error));
      source = payload.pipe(decompress);
    }
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        if (this.hold(state, chunk.length)) callback(null, chunk);
        else callback(this.refuseOverBound(request, reply));
      },
    });
    source.on('error', (error) => counter.destroy(error));
    const state: BodyInFlight = { held: 0, source: counter, checkpointAt: startedAt, checkpointBytes, startedAt };
    this.track(request, state);
    return source.pipe(counter);
  }

  private track(request: FastifyRequest, state: BodyInFlight): void {
    request.bodyInFlight = state;
    this.arriving.add(request);
  }

  /** Counts `bytes` more for the request; false (nothing counted) when that would pass the bound. */
  private hold(state: BodyInFlight, bytes: number): boolean {
    if (this.heldBytes + bytes > this.limits.maxBodyBytesInFlight) return false;
    this.heldBytes += bytes;
    state.held += bytes;
    this.metrics.bodyBytesInFlight.set(this.heldBytes);
    return true;
  }

  private release(request: FastifyRequest): void {
    const state = request.bodyInFlight;
    if (state === null) return;
    request.bodyInFlight = null;
    this.arriving.delete(request);
    if (state.held === 0) return;
    this.heldBytes -= state.held;
    state.held = 0;
    this.metrics.bodyBytesInFlight.set(this.heldBytes);
  }

  private refuseOverBound(request: FastifyRequest, reply: FastifyReply): Error {
    this.metrics.refused.inc({ reason: 'body_bytes_in_flight' });
    closeAfterAnswer(request, reply);
    return new HttpExceptionWithHeaders('Vigil holds as many request bodies as it may; retry shortly', 503, {
      'retry-after': String(BUSY_RETRY_AFTER_SECONDS),
    });
  }

  /** Cuts off bodies past their timeout or below the minimum rate over the last window. */
  private sweep(): void {
    const now = this.now();
    for (const request of this.arriving) {
      const state = request.bodyInFlight;
      if (state === null || request.raw.complete) {
        this.arriving.delete(request);
        continue;
      }
      if (now - state.startedAt > this.limits.bodyTimeoutMs) {
        this.cutOff(request, state, 'body_timeout', `The request body did not arrive within ${this.limits.bodyTimeoutMs / 1000} s`);
      } else if (this.limits.bodyMinBytesPerSecond > 0 && now - state.checkpointAt >= RATE_WINDOW_MS) {
        const bytes = request.raw.socket?.bytesRead ?? 0;
        const needed = (this.limits.bodyMinBytesPerSecond * (now - state.checkpointAt)) / 1000;
        if (bytes - state.checkpointBytes < needed) {
          this.cutOff(request, state, 'body_too_slow', `The request body arrived slower than ${this.limits.bodyMinBytesPerSecond} bytes/s`);
        } else {
          state.checkpointAt = now;
          state.checkpointBytes = bytes;
        }
      }
    }
  }

  /**
   * Ends a body that is still arriving: the body reader gets a 408 error, answered in Vigil's
   * shape, and the connection closes after it. A wrapper stream is destroyed with the error; the
   * socket's own request stream gets it as an event (destroying it would take the socket, and the
   * answer, with it) while Fastify's reader listens, and is destroyed otherwise.
   */
  private cutOff(request: FastifyRequest, state: BodyInFlight, reason: RefusalReason, message: string): void {
    this.arriving.delete(request);
    this.metrics.refused.inc({ reason });
    const error = new HttpExceptionWithHeaders(message, 408, { connection: 'close' });
    lingerOnClose(request.raw.socket);
    if (state.source !== request.raw) state.source.destroy(error);
    else if (request.raw.listenerCount('error') > 0) request.raw.emit('error', error);
    else request.raw.destroy();
  }
}
