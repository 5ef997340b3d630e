import { BadRequestException } from '@nestjs/common';
import { parseLimit, parseTimeRange, singleParameter } from '../common/query-params.js';
import type { AnomalyQuery } from './anomaly-store.repository.js';

/** Parsing of the /anomalies query parameters; every problem is a 400 naming the parameter. */

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;
const MAX_METRIC_LENGTH = 200;

export function parseAnomalyQuery(query: Record<string, unknown>): AnomalyQuery {
  // Empty means absent, as for from, to and limit (the contract writes `?metric=&from=&to=&limit=`).
  const metric = singleParameter(query['metric'], 'metric') || undefined;
  if (metric !== undefined && metric.length > MAX_METRIC_LENGTH) {
    throw new BadRequestException(`metric must be at most ${MAX_METRIC_LENGTH} characters`);
  }
  const { from, to } = parseTimeRange(query);
  return { metric: metric ?? null, from, to, limit: parseLimit(query['limit'], { fallback: DEFAULT_LIMIT, max: MAX_LIMIT }) };
}
