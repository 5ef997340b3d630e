import { Logger, type LoggerService } from '@nestjs/common';

export interface NestLogLine {
  level: 'verbose' | 'debug' | 'log' | 'warn' | 'error' | 'fatal';
  /** The `Logger`'s context ('DetectionThread', …). */
  context: string | undefined;
  message: string;
}

export interface NestLogCapture {
  readonly lines: NestLogLine[];
  /** The lines as `LEVEL [Context] message`, as Nest's console would print them. */
  readonly text: string[];
  /** Puts back the logger that was there before (Nest's console, or an app's). */
  restore(): void;
}

/**
 * Takes every line written through Nest's `Logger` in this process (a unit under test logs with
 * `new Logger('Context')`; without an app, Nest prints it on the console) until `restore()`, so
 * a test that provokes a failure on purpose asserts the line instead of printing it.
 */
export function captureNestLogs(): NestLogCapture {
  const statics = Logger as unknown as { staticInstanceRef?: LoggerService };
  const previous = statics.staticInstanceRef;
  const lines: NestLogLine[] = [];
  const record =
    (level: NestLogLine['level']) =>
    (message: unknown, ...optionalParams: unknown[]): void => {
      const last = optionalParams[optionalParams.length - 1];
      const text = typeof message === 'string' ? message : message instanceof Error ? message.message : (optionalParams.find((param) => typeof param === 'string' && param !== last) as string | undefined) ?? JSON.stringify(message);
      lines.push({ level, context: typeof last === 'string' ? last : undefined, message: text });
    };
  const capture: LoggerService = {
    verbose: record('verbose'),
    debug: record('debug'),
    log: record('log'),
    warn: record('warn'),
    error: record('error'),
    fatal: record('fatal'),
  };
  Logger.overrideLogger(capture);
  return {
    lines,
    get text() {
      return lines.map((line) => `${line.level.toUpperCase()} [${line.context ?? ''}] ${line.message}`);
    },
    restore() {
      if (statics.staticInstanceRef === capture && previous !== undefined) Logger.overrideLogger(previous);
    },
  };
}
