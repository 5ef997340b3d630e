import type { RollupResolution } from './sla.tables.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** The windows the API answers (`?window=`). */
export const REPORT_WINDOWS = { '1h': HOUR_MS, '24h': DAY_MS, '7d': 7 * DAY_MS, '30d': 30 * DAY_MS } as const;
export type ReportWindow = keyof typeof REPORT_WINDOWS;
export const DEFAULT_WINDOW: ReportWindow = '30d';
export const LONGEST_WINDOW_MS = REPORT_WINDOWS['30d'];

export function isReportWindow(value: unknown): value is ReportWindow {
  return typeof value === 'string' && Object.hasOwn(REPORT_WINDOWS, value);
}

/**
 * Multiwindow, multi-burn-rate alerting as recommended by The Site Reliability
 * Workbook, chapter 5 "Alerting on SLOs", section 6 "Multiwindow, Multi-Burn-Rate
 * Alerts" (https://sre.google/workbook/alerting-on-slos/): page when 2 % of a 30-day
 * budget burns in 1 h (14.4×, checked over 1 h and 5 m) or 5 % in 6 h (6×, 6 h and
 * 30 m); ticket when 10 % burns in 1 d (3×, 1 d and 2 h) or in 3 d (1×, 3 d and 6 h).
 * The short window makes the alert stop soon after the burn does.
 */
export const BURN_RATE_ALERTS = [
  { tier: 'page', longWindow: '1h', shortWindow: '5m', threshold: 14.4, budgetConsumedPercent: 2 },
  { tier: 'page', longWindow: '6h', shortWindow: '30m', threshold: 6, budgetConsumedPercent: 5 },
  { tier: 'ticket', longWindow: '1d', shortWindow: '2h', threshold: 3, budgetConsumedPercent: 10 },
  { tier: 'ticket', longWindow: '3d', shortWindow: '6h', threshold: 1, budgetConsumedPercent: 10 },
] as const;

export const BURN_WINDOWS = {
  '5m': 5 * MINUTE_MS,
  '30m': 30 * MINUTE_MS,
  '1h': HOUR_MS,
  '2h': 2 * HOUR_MS,
  '6h': 6 * HOUR_MS,
  '1d': DAY_MS,
  '3d': 3 * DAY_MS,
} as const;
export type BurnWindow = keyof typeof BURN_WINDOWS;

export const RESOLUTION_MS: Record<RollupResolution, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };

export function bucketOf(timestamp: number, resolution: RollupResolution): number {
  const size = RESOLUTION_MS[resolution];
  return Math.floor(timestamp / size) * size;
}

/**
 * The minute buckets a window covers: those that start within [now − length, now].
 * With `now` on a minute boundary the window is exact to the second (a request
 * 1 s inside counts, 1 s outside does not); otherwise its start is rounded up to
 * the next minute. Minutes that start after `now` (records up to 10 minutes in
 * the future are accepted) are not counted until their time comes.
 */
export interface BucketRange {
  /** First minute bucket start, inclusive. */
  from: number;
  /** End, exclusive: the start of the minute after the last one counted. */
  to: number;
}

export function windowRange(now: number, lengthMs: number): BucketRange {
  return { from: Math.ceil((now - lengthMs) / MINUTE_MS) * MINUTE_MS, to: Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS };
}

export interface ResolutionRange extends BucketRange {
  resolution: RollupResolution;
}

/**
 * Splits a range into whole days, whole hours at its ends and single minutes at
 * their ends (at most 7 ranges): a 30-day window reads ~30 day rows, ≤ 46 hour
 * rows and ≤ 118 minute rows per service instead of 43,200 minute rows.
 */
export function decompose(range: BucketRange): ResolutionRange[] {
  const parts: ResolutionRange[] = [];
  const firstDay = Math.ceil(range.from / DAY_MS) * DAY_MS;
  const lastDay = Math.floor(range.to / DAY_MS) * DAY_MS;
  if (firstDay < lastDay) {
    splitHours({ from: range.from, to: firstDay }, parts);
    parts.push({ resolution: 'day', from: firstDay, to: lastDay });
    splitHours({ from: lastDay, to: range.to }, parts);
  } else {
    splitHours(range, parts);
  }
  return parts;
}

function splitHours(range: BucketRange, parts: ResolutionRange[]): void {
  if (range.from >= range.to) return;
  const firstHour = Math.ceil(range.from / HOUR_MS) * HOUR_MS;
  const lastHour = Math.floor(range.to / HOUR_MS) * HOUR_MS;
  if (firstHour < lastHour) {
    if (range.from < firstHour) parts.push({ resolution: 'minute', from: range.from, to: firstHour });
    parts.push({ resolution: 'hour', from: firstHour, to: lastHour });
    if (lastHour < range.to) parts.push({ resolution: 'minute', from: lastHour, to: range.to });
  } else {
    parts.push({ resolution: 'minute', from: range.from, to: range.to });
  }
}
