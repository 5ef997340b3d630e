import type { FastifyError, FastifyHttpOptions, FastifyInstance, FastifyReply, FastifyRequest, preParsingHookHandler } from 'fastify';
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Registry } from 'prom-client';
import type { AppConfig } from '../config/app.config.js';
import { errorBody, replyWithError } from './error.filter.js';
import { HttpProtectionMetrics, type RefusalReason } from './http-protection.metrics.js';
import { closeAfterAnswer } from './lingering-close.js';
import { RequestBodyAdmission } from './request-body.admission.js';

/** What a client refused for too many connections from its address is asked to wait. */
const CONNECTIONS_RETRY_AFTER_SECONDS = 1;

/**
 * The HTTP protections against slow and hostile clients (README, "Limits and protections"),
 * in the order a request meets them:
 *
 * 1. Node's `headersTimeout` and `requestTimeout` (the request line and headers, then the whole
 *    request, must arrive in time), checked every second; answered 408 in Vigil's shape.
 * 2. A cap on open connections per client address: a request on a connection over the cap
 *    answers 503 + Retry-After and the connection closes.
 * 3. Authentication from the headers (src/common/auth.guard.ts), before any body is read
 *    (after the rate limiter's route-level onRequest hook).
 * 4. Bodies: the in-flight byte bound, the body timeout and the minimum transfer rate
 *    (RequestBodyAdmission).
 *
 * Every refusal, Fastify's and Node's own included (bad URL, 414, 431, malformed requests),
 * answers Vigil's error body with an X-Request-Id.
 */
export class HttpProtections {
  /** Made at install, when the process registry exists; until then nothing is refused. */
  private metrics: HttpProtectionMetrics | undefined;
  private readonly connectionsByAddress = new Map<string, number>();
  /** Connections opened over their address's cap: every request on them is refused. */
  private readonly overCap = new WeakSet<Socket>();

  constructor(private readonly config: AppConfig) {}

  /** Options for the Fastify instance (the adapter's constructor). */
  fastifyOptions(): Pick<FastifyHttpOptions<Server>, 'http' | 'requestTimeout' | 'clientErrorHandler' | 'frameworkErrors'> {
    const { headersTimeoutMs, requestTimeoutMs } = this.config.protections;
    return {
      // connectionsCheckingInterval: how often Node checks both timeouts (30 s by default).
      http: { headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, connectionsCheckingInterval: 1000 },
      requestTimeout: requestTimeoutMs,
      clientErrorHandler: (error, socket) => this.answerClientError(error, socket as Socket),
      frameworkErrors: (error, request, reply) => this.answerFrameworkError(error, request, reply),
    };
  }

  install(fastify: FastifyInstance, registry: Registry, authenticate: preParsingHookHandler): void {
    const metrics = (this.metrics = new HttpProtectionMetrics(registry));
    const cap = this.config.protections.maxConnectionsPerAddress;
    fastify.server.on('connection', (socket: Socket) => {
      metrics.openConnections.inc();
      const address = socket.remoteAddress ?? '';
      const open = (this.connectionsByAddress.get(address) ?? 0) + 1;
      this.connectionsByAddress.set(address, open);
      if (cap > 0 && open > cap) this.overCap.add(socket);
      socket.once('close', () => {
        metrics.openConnections.dec();
        const left = (this.connectionsByAddress.get(address) ?? 1) - 1;
        if (left > 0) this.connectionsByAddress.set(address, left);
        else this.connectionsByAddress.delete(address);
      });
    });
    fastify.addHook('onRequest', (request, reply, done) => {
      // Health probes are answered on any connection: an orchestrator that shares its address
      // with a flood (a NAT, a node's own IP) must still see the process alive and ready.
      if (!this.overCap.has(request.raw.socket) || request.url.startsWith('/health/')) return done();
      metrics.refused.inc({ reason: 'connections_per_address' });
      void reply.header('retry-after', String(CONNECTIONS_RETRY_AFTER_SECONDS));
      closeAfterAnswer(request, reply);
      replyWithError(reply, 503, `Too many open connections from one address (at most ${cap}); retry shortly`);
    });
    fastify.addHook('preParsing', authenticate);
    new RequestBodyAdmission({ ...this.config.protections, maxBodyBytes: this.config.http.maxBodyBytes }, metrics).install(fastify);
  }

  /** Fastify's routing errors: a path that is not valid percent-encoding, a path parameter over its length. */
  private answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : (error.statusCode ?? 400);
    const message =
      error.code === 'FST_ERR_BAD_URL'
        ? 'The URL is not valid: a path part is not well-formed percent-encoded UTF-8'
        : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'A path parameter is too long'
          : error.message;
    // Fastify answers these before the onRequest hooks, which set X-Request-Id on every other answer.
    void reply.header('x-request-id', String(request.id));
    replyWithError(reply, status, message);
  }

  /**
   * Errors Node's HTTP parser raises before Fastify sees a request (timeouts, headers over the
   * limit, bytes that are not HTTP): answered on the socket in Vigil's shape, then the socket closes.
   */
  private answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    let status = 400;
    let message = 'The request is not well-formed HTTP/1.1';
    let reason: RefusalReason = 'malformed_request';
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      message = `The request did not arrive in time (headers within ${this.config.protections.headersTimeoutMs / 1000} s, all of it within ${this.config.protections.requestTimeoutMs / 1000} s)`;
      reason = 'request_timeout';
    } else if (error.code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      message = 'The request line and headers are larger than 16 KiB';
      reason = 'headers_too_large';
    }
    this.metrics?.refused.inc({ reason });
    if (socket.writable) {
      const requestId = randomUUID();
      const body = JSON.stringify(errorBody(status, message, requestId));
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  }
}
