import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { AppConfig } from './config/app.config.js';

/** Header and field paths whose values are credentials; pino replaces them. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.apiKey',
  '*.appKey',
  '*.licenseKey',
  '*.token',
  '*.password',
  '*.DD-API-KEY',
  '*["Api-Key"]',
  '*["X-License-Key"]',
];

/**
 * JSON logs on stdout (or a test's stream), one line per event with the request
 * id. Successful requests log at debug; 4xx at warn and 5xx at error. No line is
 * ever written per ingested record.
 */
export function loggingOptions(config: AppConfig, stream?: DestinationStream): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      quietReqLogger: true,
      customAttributeKeys: { reqId: 'request_id' },
      genReqId: (request) => String((request as { id?: unknown }).id ?? ''),
      customLogLevel: (_request, response, error) =>
        error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'debug',
      autoLogging: { ignore: (request) => request.url === '/metrics' || (request.url ?? '').startsWith('/health') },
      base: { service: 'vigil', environment: config.environment },
      ...(stream ? { stream } : {}),
    },
  };
}
