import type { FastifyRequest } from 'fastify';
import type { DialectAnswer, ProtocolDialect, RefusalReason } from '../../common/protocol-dialect.js';

/** On every answer: the official clients refuse a server without it (ProductNotSupportedError). */
export const PRODUCT_HEADERS = { 'x-elastic-product': 'Elasticsearch' } as const;

/** Elasticsearch's error body: `{"error":{"root_cause":[…],"type","reason"},"status"}`. */
export function elasticsearchError(status: number, type: string, reason: string, headers: Record<string, string> = {}): DialectAnswer {
  const cause = { type, reason };
  return {
    status,
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify({ error: { root_cause: [cause], ...cause }, status }),
    headers: { ...PRODUCT_HEADERS, ...headers },
  };
}

/**
 * The key in an Elasticsearch client's credentials: `ApiKey <base64 of id:key>` (the key part),
 * `ApiKey <key>` (the client's encoded form, taken as the key itself), `Basic <user:password>`
 * (the password), or Vigil's own `Bearer <key>`.
 */
function presentedElasticsearchKey(request: FastifyRequest): string | null {
  const authorization = request.headers['authorization'];
  if (typeof authorization !== 'string') return null;
  const match = /^(ApiKey|Basic|Bearer)\s+(\S+)$/i.exec(authorization.trim());
  if (!match) return '';
  const scheme = match[1]!.toLowerCase();
  const value = match[2]!;
  if (scheme === 'bearer') return value;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (scheme === 'basic') return colon === -1 ? '' : decoded.slice(colon + 1);
  // An id:key pair encodes to printable text with a colon; a bare key does not decode to one.
  return colon > 0 && /^[\x20-\x7e]+$/.test(decoded) ? decoded.slice(colon + 1) : value;
}

function elasticsearchErrorAnswer(status: number, message: string, reason: RefusalReason): DialectAnswer {
  if (reason === 'key_missing') {
    return elasticsearchError(401, 'security_exception', 'missing authentication credentials for REST request', { 'www-authenticate': 'ApiKey, Basic realm="security", charset="UTF-8"' });
  }
  if (reason === 'key_unknown') {
    return elasticsearchError(401, 'security_exception', 'unable to authenticate with provided credentials', { 'www-authenticate': 'ApiKey, Basic realm="security", charset="UTF-8"' });
  }
  if (reason === 'key_scope') return elasticsearchError(403, 'security_exception', `action [indices:data/write/bulk] is unauthorized: ${message}`);
  if (status === 429 || status === 503) return elasticsearchError(status, 'es_rejected_execution_exception', message);
  if (status === 413) return elasticsearchError(413, 'content_too_long_exception', message);
  if (status >= 500) return elasticsearchError(status, 'exception', 'Internal server error');
  return elasticsearchError(status, status === 400 ? 'parse_exception' : 'illegal_argument_exception', message);
}

export const elasticsearchDialect: ProtocolDialect = {
  name: 'Elasticsearch',
  keyHint: 'Authorization: ApiKey <key> or Basic <user:key>',
  presentedKey: presentedElasticsearchKey,
  errorAnswer: (status, message, reason) => elasticsearchErrorAnswer(status, message, reason),
};
