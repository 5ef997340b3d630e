import type { FastifyRequest } from 'fastify';
import { presentedKey } from '../../common/api-keys.js';
import type { DialectAnswer, ProtocolDialect } from '../../common/protocol-dialect.js';
import { RPC_STATUS } from './otlp.proto.js';

/** The two encodings of OTLP/HTTP; an answer is in the request's. */
export type OtlpEncoding = 'protobuf' | 'json';
export const PROTOBUF_MEDIA_TYPE = 'application/x-protobuf';

export function encodingOf(contentType: string | undefined): OtlpEncoding {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === PROTOBUF_MEDIA_TYPE ? 'protobuf' : 'json';
}

/**
 * google.rpc.Code of an HTTP status, as google/rpc/code.proto maps them (413 as gRPC answers an
 * over-size message, RESOURCE_EXHAUSTED; any other 4xx INVALID_ARGUMENT, any other 5xx INTERNAL).
 */
const RPC_CODE_BY_STATUS: Readonly<Record<number, number>> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  408: 4, // DEADLINE_EXCEEDED
  413: 8, // RESOURCE_EXHAUSTED
  429: 8, // RESOURCE_EXHAUSTED
  501: 12, // UNIMPLEMENTED
  503: 14, // UNAVAILABLE
  504: 4, // DEADLINE_EXCEEDED
};

export function rpcCodeOf(status: number): number {
  return RPC_CODE_BY_STATUS[status] ?? (status >= 500 ? 13 : 3);
}

/** A google.rpc.Status (code, message; `details` never sent) in `encoding`, with `status`. */
export function rpcStatusAnswer(encoding: OtlpEncoding, status: number, message: string): DialectAnswer {
  const code = rpcCodeOf(status);
  if (encoding === 'json') return { status, contentType: 'application/json', body: JSON.stringify({ code, message }) };
  return { status, contentType: PROTOBUF_MEDIA_TYPE, body: Buffer.from(RPC_STATUS.encode(RPC_STATUS.create({ code, message })).finish()) };
}

/**
 * OTLP/HTTP as a protocol: the key is Vigil's own (`Authorization: Bearer`, which the exporters
 * send from OTEL_EXPORTER_OTLP_HEADERS, or X-API-Key), and every error answer — auth (401, 403),
 * body limits (413, 408), media types (415), the rate limiter (429), the drain and ingest (503),
 * undecodable exports (400) — is a google.rpc.Status in the request's encoding (protobuf for
 * `application/x-protobuf`, JSON for anything else), as the OTLP specification asks; headers the
 * refusal set before (Retry-After on 429 and 503) stay on the reply.
 */
export const otlpDialect: ProtocolDialect = {
  name: 'OTLP',
  keyHint: 'Authorization: Bearer <key> (OTEL_EXPORTER_OTLP_HEADERS)',
  presentedKey: (request: FastifyRequest) => presentedKey(request.headers),
  errorAnswer: (status, message, _reason, request) => rpcStatusAnswer(encodingOf(request.headers['content-type']), status, message),
};
