import { destination, pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { AppConfig } from './config/app.config.js';
import type { OwnLogBuffer } from './logs/own-logs/own-log.buffer.js';
import { ownLogShippingStream } from './logs/own-logs/own-log.stream.js';
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
 *
 * With VIGIL_SHIP_OWN_LOGS, `ownLogs` (made before the app, and handed to
 * OwnLogsModule too) also receives every line at info and above, except the
 * lines about shipping itself (see src/logs/own-logs/own-log.stream.ts).
 */
export function loggingOptions(config: AppConfig, stream?: DestinationStream, ownLogs?: OwnLogBuffer): { options: LoggerOptions; stream: DestinationStream } {
  const base = stream ?? destination(1);
  return {
    options: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // Every line written while serving a request carries its id.
      mixin: () => {
        const context = requestContext.getStore();
        return context ? { request_id: context.requestId } : {};
      },
      base: { service: 'vigil', environment: config.environment },
    },
    stream: ownLogs?.collecting ? ownLogShippingStream(base, ownLogs) : base,
  };
}

/** The app's one pino logger (one per app: each app of a test process writes to its own stream). */
export function createRootLogger(config: AppConfig, stream?: DestinationStream, ownLogs?: OwnLogBuffer): Logger {
  const { options, stream: output } = loggingOptions(config, stream, ownLogs);
  return pino(options, output);
}
