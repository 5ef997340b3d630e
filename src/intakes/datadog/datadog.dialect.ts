import type { FastifyRequest } from 'fastify';
import type { DialectAnswer, ProtocolDialect, RefusalReason } from '../../common/protocol-dialect.js';

/** Datadog's error body: `{"errors": ["…"]}`. */
export function datadogError(status: number, message: string, headers?: Record<string, string>): DialectAnswer {
  return { status, contentType: 'application/json', body: JSON.stringify({ errors: [message] }), ...(headers ? { headers } : {}) };
}

/**
 * The Datadog API's credential is `DD-API-KEY` (one of Vigil's ingest keys); a wrong or missing
 * one answers 403 `{"errors":["Forbidden"]}`, as Datadog does.
 */
export const datadogDialect: ProtocolDialect = {
  name: 'Datadog',
  keyHint: 'DD-API-KEY: <key>',
  presentedKey: (request: FastifyRequest) => {
    const key = request.headers['dd-api-key'];
    return typeof key === 'string' && key.trim().length > 0 ? key.trim() : null;
  },
  errorAnswer: (status: number, message: string, reason: RefusalReason) =>
    reason === 'other' ? datadogError(status, message) : datadogError(403, 'Forbidden'),
};
