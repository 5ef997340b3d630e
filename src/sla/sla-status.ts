import { RELATIVE_ACCURACY } from './latency-sketch.js';
import type { SlaTarget } from './sla-target.js';
import { BURN_RATE_ALERTS, type BurnWindow, type ReportWindow } from './sla-windows.js';

/** `no_target`: the service is measured but has no target, so nothing is met or violated. */
export type SlaState = 'meeting' | 'violated' | 'no_data' | 'no_target';

/** Requests of one service over one window, merged from its rollups. */
export interface WindowCounts {
  total: number;
  failed: number;
  /** Earliest record timestamp in the window, null without data. */
  firstEventAt: number | null;
}

export interface WindowMeasure extends WindowCounts {
  p95Ms: number | null;
  p99Ms: number | null;
  /** The quantiles are the exact values (few requests), not the sketch's estimate. */
  exact: boolean;
}

/** Percent values (and ratios derived from them) are rounded to 3 decimals, as in the original design. */
export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Estimated latencies keep 6 significant digits: far below the sketch's 1 % error, and readable. Exact ones are kept as sent. */
function roundLatency(value: number | null, exact: boolean): number | null {
  return value === null || exact ? value : Number(value.toPrecision(6));
}

/** Error rate over the window divided by the error rate the objective allows (1 = budget spent exactly at the window's end). */
export function burnRate(counts: WindowCounts, target: SlaTarget): number {
  if (counts.total === 0) return 0;
  return counts.failed / counts.total / (1 - target.availabilityPercent / 100);
}

export interface SlaStatusBody {
  service: string;
  target: string | null;
  /** Present only with a target: whether its status is `meeting`. */
  sla_met?: boolean;
  status: SlaState;
  window: ReportWindow;
  metrics: {
    latency: {
      p95_ms: number | null;
      p95_target_ms: number | null;
      p95_ok: boolean | null;
      p99_ms: number | null;
      p99_target_ms: number | null;
      p99_ok: boolean | null;
      /** Bound on the relative error of p95_ms and p99_ms: 0 when exact, RELATIVE_ACCURACY when estimated, null without data. */
      relative_error_bound: number | null;
    };
    availability: { current_percent: number | null; target_percent: number | null; ok: boolean | null };
    error_rate: { current_percent: number | null; target_percent: number | null; ok: boolean | null };
    requests: { total: number; successful: number; failed: number };
  };
  error_budget: {
    window: ReportWindow;
    total_requests: number;
    allowed_failures: number;
    consumed_failures: number;
    consumed_percent: number;
    remaining_failures: number;
    remaining_percent: number;
  } | null;
  burn_rate: {
    windows: Record<BurnWindow, number>;
    alerts: Array<{
      tier: 'page' | 'ticket';
      long_window: BurnWindow;
      short_window: BurnWindow;
      threshold: number;
      budget_consumed_percent: number;
      long_burn_rate: number;
      short_burn_rate: number;
      firing: boolean;
    }>;
    /** The most severe tier whose pair of windows both burn above its threshold, else null. */
    firing_tier: 'page' | 'ticket' | null;
  } | null;
  /** Hours from the service's first request in the window (or the window's start, if later) to now. */
  uptime_hours: number;
}

/** Builds the contract's `<status>` from measured windows; pure, so tests can check it directly. */
export function buildStatus(input: {
  service: string;
  target: SlaTarget | null;
  window: ReportWindow;
  windowStart: number;
  now: number;
  measure: WindowMeasure;
  burn: Record<BurnWindow, WindowCounts> | null;
}): SlaStatusBody {
  const { target, measure } = input;
  const hasData = measure.total > 0;
  const successful = measure.total - measure.failed;
  const availability = hasData ? (successful / measure.total) * 100 : null;
  const errorRate = hasData ? (measure.failed / measure.total) * 100 : null;
  const p95Ok = target && measure.p95Ms !== null ? measure.p95Ms <= target.p95Ms : null;
  const p99Ok = target && measure.p99Ms !== null ? measure.p99Ms <= target.p99Ms : null;
  const availabilityOk = target && availability !== null ? availability >= target.availabilityPercent : null;
  const errorRateOk = target && errorRate !== null ? errorRate <= target.errorRatePercent : null;
  const status: SlaState = !target ? 'no_target' : !hasData ? 'no_data' : [p95Ok, p99Ok, availabilityOk, errorRateOk].includes(false) ? 'violated' : 'meeting';

  // The budget is a share of the requests of the status's own window (the one asked
  // for, else the target's): (1 − objective) of them may fail. Counted over the
  // same requests as the rest of the status, so the numbers agree with each other.
  let errorBudget: SlaStatusBody['error_budget'] = null;
  if (target) {
    const allowed = (1 - target.availabilityPercent / 100) * measure.total;
    const consumedPercent = allowed > 0 ? (measure.failed / allowed) * 100 : measure.failed > 0 ? Infinity : 0;
    errorBudget = {
      window: input.window,
      total_requests: measure.total,
      allowed_failures: round3(allowed),
      consumed_failures: measure.failed,
      consumed_percent: round3(Number.isFinite(consumedPercent) ? consumedPercent : 100),
      remaining_failures: round3(allowed - measure.failed),
      remaining_percent: round3(Number.isFinite(consumedPercent) ? 100 - consumedPercent : 0),
    };
  }

  let burn: SlaStatusBody['burn_rate'] = null;
  if (target && input.burn) {
    const rates = Object.fromEntries(Object.entries(input.burn).map(([name, counts]) => [name, burnRate(counts, target)])) as Record<BurnWindow, number>;
    const alerts = BURN_RATE_ALERTS.map((alert) => ({
      tier: alert.tier,
      long_window: alert.longWindow,
      short_window: alert.shortWindow,
      threshold: alert.threshold,
      budget_consumed_percent: alert.budgetConsumedPercent,
      long_burn_rate: round3(rates[alert.longWindow]),
      short_burn_rate: round3(rates[alert.shortWindow]),
      firing: rates[alert.longWindow] > alert.threshold && rates[alert.shortWindow] > alert.threshold,
    }));
    burn = {
      windows: Object.fromEntries(Object.entries(rates).map(([name, rate]) => [name, round3(rate)])) as Record<BurnWindow, number>,
      alerts,
      firing_tier: alerts.find((alert) => alert.firing && alert.tier === 'page') ? 'page' : alerts.find((alert) => alert.firing) ? 'ticket' : null,
    };
  }

  const since = measure.firstEventAt === null ? null : Math.max(measure.firstEventAt, input.windowStart);
  return {
    service: input.service,
    target: target?.name ?? null,
    ...(target ? { sla_met: status === 'meeting' } : {}),
    status,
    window: input.window,
    metrics: {
      latency: {
        p95_ms: roundLatency(measure.p95Ms, measure.exact),
        p95_target_ms: target?.p95Ms ?? null,
        p95_ok: p95Ok,
        p99_ms: roundLatency(measure.p99Ms, measure.exact),
        p99_target_ms: target?.p99Ms ?? null,
        p99_ok: p99Ok,
        relative_error_bound: measure.p95Ms === null ? null : measure.exact ? 0 : RELATIVE_ACCURACY,
      },
      availability: { current_percent: availability === null ? null : round3(availability), target_percent: target?.availabilityPercent ?? null, ok: availabilityOk },
      error_rate: { current_percent: errorRate === null ? null : round3(errorRate), target_percent: target?.errorRatePercent ?? null, ok: errorRateOk },
      requests: { total: measure.total, successful, failed: measure.failed },
    },
    error_budget: errorBudget,
    burn_rate: burn,
    uptime_hours: since === null ? 0 : round3(Math.max(0, input.now - since) / 3_600_000),
  };
}
