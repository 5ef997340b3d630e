import { BadRequestException } from '@nestjs/common';
import { isDateOnly, parseIsoInstant } from './iso-time.js';

/**
 * Query-string parameters shared by the read APIs. Every problem answers 400
 * with a message naming the parameter.
 */

/** The parameter's one value, undefined when absent; 400 when it is repeated. */
export function singleParameter(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new BadRequestException(`${name} must be given at most once`);
  return String(value);
}

const DAY_MS = 86_400_000;

/**
 * ISO 8601 (UTC when no zone is given) or epoch milliseconds; null when absent.
 * With `dateMeansEndOfDay`, a date alone is the last millisecond of that UTC day, so
 * that an inclusive `to=2026-11-30` covers all of 30 November.
 */
export function parseInstant(value: unknown, name: string, { dateMeansEndOfDay = false } = {}): number | null {
  const text = singleParameter(value, name);
  if (text === undefined || text === '') return null;
  if (/^-?\d+$/.test(text)) {
    const epoch = Number(text);
    if (Number.isSafeInteger(epoch)) return epoch;
  } else {
    const parsed = parseIsoInstant(text);
    if (parsed !== null) return dateMeansEndOfDay && isDateOnly(text) ? parsed + DAY_MS - 1 : parsed;
  }
  throw new BadRequestException(`${name} must be an ISO 8601 date-time or epoch milliseconds`);
}

/**
 * `from` / `to`, both inclusive and optional; 400 when from is after to. A date
 * alone is the start of that day as `from` and its end as `to`.
 */
export function parseTimeRange(query: Record<string, unknown>): { from: number | null; to: number | null } {
  const from = parseInstant(query['from'], 'from');
  const to = parseInstant(query['to'], 'to', { dateMeansEndOfDay: true });
  if (from !== null && to !== null && from > to) throw new BadRequestException('from must not be after to');
  return { from, to };
}

/** A positive integer `limit` up to `max`, `fallback` when absent. */
export function parseLimit(value: unknown, { fallback, max }: { fallback: number; max: number }): number {
  const text = singleParameter(value, 'limit');
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new BadRequestException(`limit must be an integer from 1 to ${max}`);
  }
  return Number(text);
}
