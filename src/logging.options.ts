import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { AppConfig } from './config/app.config.js';
import { requestContext } from './common/request-context.js';

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
 * JSON logs on stdout (or a test's stream), with the request id on every line
 * written while serving a request. No line is ever written per ingested record.
 */
export function loggingOptions(config: AppConfig, stream?: DestinationStream): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // Every line written while serving a request carries its id.
      mixin: () => {
        const context = requestContext.getStore();
        return context ? { request_id: context.requestId } : {};
      },
      // Request lines are written by the onResponse hook in app.factory.ts.
      autoLogging: false,
      base: { service: 'vigil', environment: config.environment },
      ...(stream ? { stream } : {}),
    },
  };
}
