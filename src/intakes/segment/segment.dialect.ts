import type { FastifyRequest } from 'fastify';
import type { DialectAnswer, ProtocolDialect } from '../../common/protocol-dialect.js';

export function segmentAnswer(status: number, body: object): DialectAnswer {
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) };
}

/**
 * Segment's write key is the user name of `Authorization: Basic` (what analytics-node sends);
 * without that header it may be `writeKey` in the body (analytics.js), which the controller
 * checks once the body is parsed (undefined here). Refusals are JSON: `{"success":false,"message"}`.
 */
export const segmentDialect: ProtocolDialect = {
  name: 'Segment',
  keyHint: 'Authorization: Basic <base64 of writeKey:>',
  presentedKey: (request: FastifyRequest) => {
    const authorization = request.headers['authorization'];
    if (typeof authorization !== 'string') return undefined;
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization.trim());
    if (!basic) return '';
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? decoded : decoded.slice(0, colon);
  },
  errorAnswer: (status, message) => segmentAnswer(status, { success: false, message }),
};
