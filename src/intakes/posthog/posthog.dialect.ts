import type { FastifyRequest } from 'fastify';
import type { DialectAnswer, ProtocolDialect, RefusalReason } from '../../common/protocol-dialect.js';

/** PostHog's error body: `{"type","code","detail","attr"}`. */
export function postHogError(status: number, type: string, code: string, detail: string): DialectAnswer {
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ type, code, detail, attr: null }) };
}

/**
 * PostHog's project key travels in the body (`api_key`): the controller checks it once parsed
 * (undefined here), unless the request also sends `Authorization: Bearer <key>`.
 */
export const postHogDialect: ProtocolDialect = {
  name: 'PostHog',
  keyHint: '"api_key" in the body',
  presentedKey: (request: FastifyRequest) => {
    const authorization = request.headers['authorization'];
    const bearer = typeof authorization === 'string' ? /^Bearer\s+(.+)$/i.exec(authorization.trim()) : null;
    return bearer ? bearer[1]!.trim() : undefined;
  },
  errorAnswer: (status: number, message: string, reason: RefusalReason) => {
    if (reason !== 'other' || status === 401) return postHogError(401, 'authentication_error', 'invalid_api_key', 'Project API key invalid. You can find your project API key in PostHog project settings.');
    if (status === 503 || status === 429) return postHogError(status, 'server_error', 'server_busy', message);
    return postHogError(status, status >= 500 ? 'server_error' : 'validation_error', status >= 500 ? 'server_error' : 'invalid_payload', message);
  },
};
