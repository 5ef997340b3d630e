import { BadRequestException } from '@nestjs/common';
import { parseLimit as parseLimitWithin, parseTimeRange, singleParameter } from '../common/query-params.js';
import type { TimeRange } from './analytics-funnel.statements.js';

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

export type FunnelMode = 'ordered' | 'any';
export type RetentionInterval = 'day' | 'week';

export function parseRange(query: Record<string, unknown>): TimeRange {
  return parseTimeRange(query);
}

export function parseLimit(value: unknown): number {
  return parseLimitWithin(value, { fallback: DEFAULT_LIMIT, max: MAX_LIMIT });
}

/** `30m`, `24h`, `14d` (also `s` and `w`) → milliseconds. */
export function parseWindow(value: unknown): number {
  const text = singleParameter(value, 'window') ?? DEFAULT_FUNNEL_WINDOW;
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
  const text = singleParameter(value, 'mode') ?? 'ordered';
  if (text !== 'ordered' && text !== 'any') throw new BadRequestException('mode must be ordered or any');
  return text;
}

export function parseInterval(value: unknown): RetentionInterval {
  const text = singleParameter(value, 'interval') ?? 'week';
  if (text !== 'day' && text !== 'week') throw new BadRequestException('interval must be day or week');
  return text;
}

export function parseUserId(value: unknown): string {
  const text = typeof value === 'string' ? value : '';
  if (text.length === 0 || text.length > 128) throw new BadRequestException('userId must be 1-128 characters');
  return text;
}
