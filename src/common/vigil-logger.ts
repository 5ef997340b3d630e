import type { LoggerService } from '@nestjs/common';
import type { Level, Logger as Pino } from 'pino';

/**
 * Nest's LoggerService on one pino logger (the app's, made by src/logging.options.ts). Every
 * `new Logger('Context')` in Vigil and Nest's own lines arrive here once `app.useLogger` has
 * run. A line is one pino JSON object:
 *
 * - Nest's levels map onto pino's (`log` is info, `verbose` is trace).
 * - The context Nest's Logger passes last becomes the `context` field.
 * - A first argument that is an object is merged into the line (`logger.error({ err }, 'msg')`
 *   as with pino itself); an Error there becomes `err`.
 * - Nest's exception handlers' `error(message, stack, context)` becomes an `err` with that stack.
 */
export class VigilLogger implements LoggerService {
  constructor(readonly pino: Pino) {}

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('trace', message, optionalParams);
  }
  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams);
  }
  log(message: unknown, ...optionalParams: unknown[]): void {
    this.write('info', message, optionalParams);
  }
  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams);
  }
  error(message: unknown, ...optionalParams: unknown[]): void {
    this.write('error', message, optionalParams);
  }
  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams);
  }

  private write(level: Level, message: unknown, optionalParams: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    let params = optionalParams;
    // Nest's Logger appends its context after the caller's arguments (after an `undefined`
    // placeholder for error() called with a message alone).
    if (params.length > 0) {
      const context = params[params.length - 1];
      if (typeof context === 'string') fields['context'] = context;
      params = params.slice(0, -1);
    }
    params = params.filter((param) => param !== undefined);
    if (typeof message === 'object' && message !== null) {
      if (message instanceof Error) fields['err'] = message;
      else Object.assign(fields, message);
      const text = typeof params[0] === 'string' ? params[0] : undefined;
      if (text === undefined) this.pino[level](fields);
      else this.pino[level](fields, text);
      return;
    }
    const text = String(message);
    if (level === 'error' && params.length === 1 && typeof params[0] === 'string' && /\n\s*at /.test(params[0])) {
      const err = new Error(text);
      err.stack = params[0];
      fields['err'] = err;
      this.pino[level](fields);
      return;
    }
    this.pino[level](fields, text);
  }
}
