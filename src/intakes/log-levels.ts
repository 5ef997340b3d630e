/**
 * Level words of logging libraries and syslog onto Vigil's five levels, for intakes whose
 * clients name levels their own way (HEC `severity`, Elasticsearch `log.level`, Datadog
 * `status`). Anything unrecognised is info: a log is never refused for its level's spelling.
 */
const LEVELS: Record<string, string> = {
  trace: 'debug', debug: 'debug', verbose: 'debug',
  info: 'info', information: 'info', informational: 'info', notice: 'info', ok: 'info',
  warn: 'warn', warning: 'warn',
  error: 'error', err: 'error',
  fatal: 'fatal', critical: 'fatal', crit: 'fatal', alert: 'fatal', emerg: 'fatal', emergency: 'fatal', panic: 'fatal',
};

/**
 * Vigil's level for a level word, or for a number on pino's scale (10 trace, 20 debug, 30 info,
 * 40 warn, 50 error, 60 fatal); undefined when there is none (the item's default applies).
 */
export function vigilLevel(value: unknown): string | undefined {
  if (typeof value === 'number') return value >= 60 ? 'fatal' : value >= 50 ? 'error' : value >= 40 ? 'warn' : value >= 30 ? 'info' : 'debug';
  if (typeof value !== 'string') return undefined;
  return LEVELS[value.trim().toLowerCase()] ?? 'info';
}
