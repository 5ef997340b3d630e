import type { FastifyRequest } from 'fastify';
import type { DialectAnswer, ProtocolDialect, RefusalReason } from '../../common/protocol-dialect.js';

/** HEC's answer codes (Splunk's documented table), the ones Vigil gives. */
export const HEC_CODES = {
  success: 0,
  tokenRequired: 2,
  invalidAuthorization: 3,
  invalidToken: 4,
  noData: 5,
  invalidDataFormat: 6,
  internalError: 8,
  serverBusy: 9,
  channelMissing: 10,
  invalidChannel: 11,
  eventRequired: 12,
  eventBlank: 13,
  queryTokenDisabled: 16,
  healthy: 17,
} as const;

/** Every HEC answer: `{"text","code"}`, plus the fields some codes carry. */
export interface HecAnswerBody {
  text: string;
  code: number;
  'invalid-event-number'?: number;
  ackId?: number;
}

export function hecAnswer(status: number, body: HecAnswerBody, headers?: Record<string, string>): DialectAnswer {
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body), ...(headers ? { headers } : {}) };
}

/**
 * `Authorization: Splunk <token>` (what every HEC client sends), also `Basic` with the token as
 * the password (curl -u x:<token>). A token in the query string (`?token=`) is left to the
 * controller (undefined): it is refused with code 16 unless VIGIL_HEC_QUERY_TOKEN allows it.
 */
function presentedHecToken(request: FastifyRequest): string | null | undefined {
  const authorization = request.headers['authorization'];
  if (typeof authorization === 'string') {
    const splunk = /^Splunk\s+(.+)$/i.exec(authorization.trim());
    if (splunk) return splunk[1]!.trim();
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization.trim());
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon === -1 ? decoded : decoded.slice(colon + 1);
    }
    return '';
  }
  const query = request.query as Record<string, unknown> | undefined;
  if (typeof query?.['token'] === 'string') return undefined;
  return null;
}

/**
 * Splunk's words for a refusal: HEC clients (splunk-logging, the OTel Collector's exporter,
 * Fluent Bit) read the body's `code`, not the status, so every answer has one. A refusal that
 * HEC has no code for keeps its status and says what happened under code 6 (a client error)
 * or 8 (Vigil's own failure).
 */
function hecErrorAnswer(status: number, message: string, reason: RefusalReason): DialectAnswer {
  if (reason === 'key_missing') return hecAnswer(401, { text: 'Token is required', code: HEC_CODES.tokenRequired });
  if (reason === 'key_unknown' || reason === 'key_scope') return hecAnswer(403, { text: 'Invalid token', code: HEC_CODES.invalidToken });
  if (status === 503 || status === 429) return hecAnswer(status, { text: 'Server is busy', code: HEC_CODES.serverBusy });
  if (status >= 500) return hecAnswer(status, { text: 'Internal server error', code: HEC_CODES.internalError });
  return hecAnswer(status, { text: message, code: HEC_CODES.invalidDataFormat });
}

export const splunkHecDialect: ProtocolDialect = {
  name: 'Splunk HEC',
  keyHint: 'Authorization: Splunk <token>',
  presentedKey: presentedHecToken,
  errorAnswer: (status, message, reason) => hecErrorAnswer(status, message, reason),
};
