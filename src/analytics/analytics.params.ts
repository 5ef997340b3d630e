import { BadRequestException } from '@nestjs/common';
import type { TimeRange } from './analytics-queries.repository.js';

/**
 * Parsing of the analytics query parameters. Every problem answers 400 with a
 * message naming the parameter.
 */

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 1000;
export const DEFAULT_FUNNEL_WINDOW = '14d';
export const MAX_FUNNEL_STEPS = 20;
const MAX_STEP_LENGTH = 100;
const MAX_WINDOW_MS = 366 * 86_400_000;
const WINDOW_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export type FunnelMode = 'ordered' | 'any';
export type RetentionInterval = 'day' | 'week';

function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new BadRequestException(`${name} must be given at most once`);
  return String(value);
}

/** ISO 8601 or epoch milliseconds; null when absent. */
export function parseInstant(value: unknown, name: string): number | null {
  const text = single(value, name);
  if (text === undefined || text === '') return null;
  if (/^-?\d+$/.test(text)) {
    const epoch = Number(text);
    if (Number.isSafeInteger(epoch)) return epoch;
  } else if (ISO_8601.test(text)) {
    // A date-time without a zone is UTC, not the server's local time.
    const zoned = !/[T ]\d{2}:\d{2}/.test(text) || /(?:Z|[+-]\d{2}:?\d{2})$/.test(text);
    const parsed = Date.parse(zoned ? text : `${text}Z`);
    if (Number.isFinite(parsed)) return parsed;
  }
  throw new BadRequestException(`${name} must be an ISO 8601 date-time or epoch milliseconds`);
}

export function parseRange(query: Record<string, unknown>): TimeRange {
  const from = parseInstant(query['from'], 'from');
  const to = parseInstant(query['to'], 'to');
  if (from !== null && to !== null && from > to) throw new BadRequestException('from must not be after to');
  return { from, to };
}

export function parseLimit(value: unknown): number {
  const text = single(value, 'limit');
  if (text === undefined || text === '') return DEFAULT_LIMIT;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_LIMIT) {
    throw new BadRequestException(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  }
  return Number(text);
}

/** `30m`, `24h`, `14d` (also `s` and `w`) → milliseconds. */
export function parseWindow(value: unknown): number {
  const text = single(value, 'window') ?? DEFAULT_FUNNEL_WINDOW;
  const match = /^(\d{1,6})([smhdw])$/.exec(text);
  const milliseconds = match ? Number(match[1]) * WINDOW_UNITS[match[2]!]! : NaN;
  if (!(milliseconds > 0) || milliseconds > MAX_WINDOW_MS) {
    throw new BadRequestException('window must be a positive duration like 30m, 24h or 14d, at most 366d');
  }
  return milliseconds;
}

export function parseSteps(value: unknown): string[] {
  const steps = value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
  if (steps.length < 2 || steps.length > MAX_FUNNEL_STEPS) {
    throw new BadRequestException(`steps must be given 2 to ${MAX_FUNNEL_STEPS} times (steps=a&steps=b)`);
  }
  steps.forEach((step, index) => {
    if (step.length === 0 || step.length > MAX_STEP_LENGTH) throw new BadRequestException(`steps[${index}] must be 1-${MAX_STEP_LENGTH} characters`);
  });
  return steps;
}

export function parseMode(value: unknown): FunnelMode {
  const text = single(value, 'mode') ?? 'ordered';
  if (text !== 'ordered' && text !== 'any') throw new BadRequestException('mode must be ordered or any');
  return text;
}

export function parseInterval(value: unknown): RetentionInterval {
  const text = single(value, 'interval') ?? 'week';
  if (text !== 'day' && text !== 'week') throw new BadRequestException('interval must be day or week');
  return text;
}

export function parseUserId(value: unknown): string {
  const text = typeof value === 'string' ? value : '';
  if (text.length === 0 || text.length > 128) throw new BadRequestException('userId must be 1-128 characters');
  return text;
}
