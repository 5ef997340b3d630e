import { BadRequestException } from '@nestjs/common';
import type { AnomalyQuery } from './anomaly-store.repository.js';

/** Parsing of the /anomalies query parameters; every problem is a 400 naming the parameter. */

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;
const MAX_METRIC_LENGTH = 200;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new BadRequestException(`${name} must be given at most once`);
  return String(value);
}

/** ISO 8601 (UTC when no zone is given) or epoch milliseconds; null when absent. */
export function parseInstant(value: unknown, name: string): number | null {
  const text = single(value, name);
  if (text === undefined || text === '') return null;
  if (/^-?\d+$/.test(text)) {
    const epoch = Number(text);
    if (Number.isSafeInteger(epoch)) return epoch;
  } else if (ISO_8601.test(text)) {
    const zoned = !/[T ]\d{2}:\d{2}/.test(text) || /(?:Z|[+-]\d{2}:?\d{2})$/.test(text);
    const parsed = Date.parse(zoned ? text : `${text}Z`);
    if (Number.isFinite(parsed)) return parsed;
  }
  throw new BadRequestException(`${name} must be an ISO 8601 date-time or epoch milliseconds`);
}

export function parseAnomalyQuery(query: Record<string, unknown>): AnomalyQuery {
  const metric = single(query['metric'], 'metric');
  if (metric !== undefined && (metric.length === 0 || metric.length > MAX_METRIC_LENGTH)) {
    throw new BadRequestException(`metric must be 1-${MAX_METRIC_LENGTH} characters`);
  }
  const from = parseInstant(query['from'], 'from');
  const to = parseInstant(query['to'], 'to');
  if (from !== null && to !== null && from > to) throw new BadRequestException('from must not be after to');
  const limitText = single(query['limit'], 'limit');
  let limit = DEFAULT_LIMIT;
  if (limitText !== undefined && limitText !== '') {
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_LIMIT) {
      throw new BadRequestException(`limit must be an integer from 1 to ${MAX_LIMIT}`);
    }
    limit = Number(limitText);
  }
  return { metric: metric ?? null, from, to, limit };
}
