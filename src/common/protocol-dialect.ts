import type { FastifyRequest } from 'fastify';

/** Why a request was refused before its handler ran; a dialect words each in its own terms. */
export type RefusalReason = 'key_missing' | 'key_unknown' | 'key_scope' | 'other';

/** An error answer as a protocol writes it. */
export interface DialectAnswer {
  /** The status the protocol answers with (usually the one asked for). */
  status: number;
  contentType: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

/**
 * How a wire protocol that Vigil speaks on some routes (Splunk HEC, Elasticsearch, Datadog, …)
 * presents its credential and words its errors. Set on a route by `SpeaksProtocol(dialect)`
 * (src/common/auth.guard.ts) and read from the route's config by every refusal Vigil makes — authentication, body limits,
 * timeouts, the rate limiter, the drain, the exception filter — so a client of that protocol
 * always gets an answer its library understands, never Vigil's own error body.
 *
 * Contract: both functions are pure and cheap (they run on refusals and, for presentedKey, on
 * every request of the route); presentedKey reads headers and the URL only, never the body.
 */
export interface ProtocolDialect {
  /** Names the protocol in OpenAPI descriptions and in refusal messages. */
  readonly name: string;
  /**
   * The API key the request presents, where the protocol carries it; null when it presents none.
   * Undefined means the protocol carries it in the body (PostHog's `api_key`): the route is then
   * not authenticated from the headers, and its intake checks the key after parsing
   * (`IntakeCredentials`), before anything is stored.
   */
  presentedKey(request: FastifyRequest): string | null | undefined;
  /** Where the key goes, for refusal messages ("An API key is required: <how>"). */
  readonly keyHint: string;
  /**
   * The protocol's error answer for `status`, `message` and `reason`, to `request` (whose headers
   * may choose the encoding, as OTLP answers in the request's).
   */
  errorAnswer(status: number, message: string, reason: RefusalReason, request: FastifyRequest): DialectAnswer;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The protocol a route speaks, when it is not Vigil's own (set by RequiresScope). */
    vigilDialect?: ProtocolDialect;
    /**
     * The route reads its body as raw bytes whatever its Content-Type (after gzip, deflate or zstd are
     * undone and the body limit applied): its intake decodes the wire format itself.
     */
    vigilRawBody?: boolean;
  }
}

/** The dialect of the route a request matched, if it speaks one. */
export function dialectOf(request: FastifyRequest): ProtocolDialect | undefined {
  return request.routeOptions?.config?.vigilDialect;
}
