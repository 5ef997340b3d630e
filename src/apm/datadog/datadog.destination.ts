import { client, v1, v2 } from '@datadog/datadog-api-client';
import { gzipSync } from 'node:zlib';
import type { Clock } from '../../common/clock.js';
import type { DatadogConfig } from './datadog.plugin.js';
import { classifyHttpStatus, combine, type Destination, type DestinationLimits, type SendResult } from '../../delivery/destination.js';
import type { IngestKind, RequestItem, Tags } from '../../ingest-log/ingest-log.items.js';
import type { LogEntry } from '../../ingest-log/log-entry.js';
import { representativeValues } from '../histogram-points.js';
import { REQUEST_BUCKET_MS, REQUEST_METRICS, aggregateRequests, worstOf, type PartOutcome } from '../request-timings.js';

const HOUR_MS = 3_600_000;
const MIB = 1024 * 1024;

/** Documented intake limits (docs.datadoghq.com/api/latest/metrics/#submit-metrics). */
export const DATADOG_SERIES_MAX_COMPRESSED = 512_000;
export const DATADOG_SERIES_MAX_RAW = 5_242_880;

export const DATADOG_LIMITS: DestinationLimits = {
  maxItems: 2000,
  maxBytes: 2 * MIB,
  // Metrics (and request timings, sent as metrics) are accepted up to 1 h old, events 18 h.
  maxAgeMs: { metric: HOUR_MS, request: HOUR_MS, event: 18 * HOUR_MS },
};

/** The interval declared on ingested `count` metrics (seconds). */
const COUNT_INTERVAL_SECONDS = 10;

/** Events go one per request (the v1 Events API has no batch form); this many at a time. */
const EVENT_CONCURRENCY = 8;

export interface DatadogOptions {
  /** Per-call timeout (the client's shared httpConfig signal cannot be used for it). */
  timeoutMs: number;
}

interface Part {
  indices: number[];
  call: (configuration: client.Configuration) => Promise<unknown>;
  /** After Datadog accepted this part. */
  onDelivered?: () => void;
}

/**
 * Forwards metrics, events (Vigil's own included) and aggregated request timings
 * to Datadog through @datadog/datadog-api-client.
 *
 * Mapping (documented for users):
 * - metric `gauge` → v2 series type gauge; `count` → v2 series type count with a
 *   10 s interval; `distribution` → the v1 distribution-points API, one value per
 *   point, so Datadog computes global percentiles (a gauge would lose them);
 * - Datadog keeps the last value submitted for one metric, tag set and second
 *   (last write wins), so within a batch count points of the same series and
 *   second are summed into one point and gauges keep the latest (SeriesPoints),
 *   and a count point of a second sent before carries the running total
 *   (DeliveredCounts);
 * - tags `{k: v}` → `k:v`, plus `env:<ENVIRONMENT>` on everything; `unit` → series unit;
 * - events → v1 Events API (title, text, alert_type, date_happened, tags, and
 *   `source:<source>`);
 * - request timings → per service per 10 s: `vigil.requests.count` and
 *   `vigil.requests.errors` (count series) and `vigil.requests.duration`
 *   (distribution, milliseconds), tagged `service:<name>`.
 *
 * The client's own retries stay off: the delivery core retries. Each call gets
 * its own Configuration carrying that call's abort signal (timeout + shutdown)
 * and a fetch wrapper that keeps the answer's headers for Retry-After (or, on
 * a 429 without it, X-RateLimit-Reset).
 */
export class DatadogDestination implements Destination {
  readonly name = 'datadog' as const;
  readonly kinds: readonly IngestKind[] = ['metric', 'event', 'request'];
  readonly limits = DATADOG_LIMITS;
  private readonly baseServer: client.BaseServerConfiguration;
  private readonly deliveredCounts = new DeliveredCounts();

  constructor(
    private readonly config: DatadogConfig,
    private readonly environment: string,
    private readonly clock: Clock,
    private readonly options: DatadogOptions = { timeoutMs: 30_000 },
  ) {
    this.baseServer = new client.BaseServerConfiguration(datadogBaseUrl(config), {});
  }

  async send(batch: readonly LogEntry[], signal: AbortSignal): Promise<SendResult> {
    const parts = this.encode(batch);
    if ('tooLarge' in parts) return { outcome: 'too_large', reason: parts.tooLarge, status: 413 };
    const outcomes: Array<PartOutcome | undefined> = new Array(batch.length).fill(undefined);
    const run = async (part: Part) => {
      const outcome = await this.call(part, signal);
      if (outcome.outcome === 'delivered') part.onDelivered?.();
      for (const index of part.indices) outcomes[index] = worstOf(outcomes[index], outcome);
    };
    const bulk = parts.filter((part) => !part.event);
    const events = parts.filter((part) => part.event);
    await Promise.all(bulk.map(run));
    // A 413 makes the core split the whole batch and send both halves again: events
    // posted now would be posted twice (v1 events are not idempotent), so they wait.
    if (outcomes.some((outcome) => outcome?.outcome === 'too_large')) return combine(outcomes);
    for (let start = 0; start < events.length; start += EVENT_CONCURRENCY) {
      await Promise.all(events.slice(start, start + EVENT_CONCURRENCY).map(run));
    }
    return combine(outcomes);
  }

  /** The requests this batch needs, or why it is too large for one request. */
  private encode(batch: readonly LogEntry[]): Array<Part & { event?: true }> | { tooLarge: string } {
    const parts: Array<Part & { event?: true }> = [];
    const envTag = `env:${this.environment}`;
    const seriesPoints = new SeriesPoints();
    const distributions = new Map<string, { series: v1.DistributionPointsSeries; indices: number[] }>();
    const addDistribution = (metric: string, tags: string[], timestampSeconds: number, values: number[], indices: number[]) => {
      const key = `${metric}\u0000${tags.join(',')}`;
      let entry = distributions.get(key);
      if (!entry) {
        entry = { series: { metric, tags, points: [], type: 'distribution' }, indices: [] };
        distributions.set(key, entry);
      }
      entry.series.points.push([timestampSeconds, values]);
      entry.indices.push(...indices);
    };
    const requests: Array<{ index: number; item: RequestItem }> = [];

    batch.forEach((entry, index) => {
      if (entry.kind === 'metric') {
        const metric = entry.payload;
        const tags = [...tagList(metric.tags), envTag];
        const timestamp = Math.floor(metric.timestamp / 1000);
        if (metric.type === 'distribution') {
          addDistribution(metric.name, tags, timestamp, [metric.value], [index]);
          return;
        }
        if (metric.histogram) {
          // A histogram is sent as a distribution point of its buckets (histogram-points.ts).
          addDistribution(metric.name, tags, timestamp, representativeValues(metric.histogram), [index]);
          return;
        }
        const point = { metric: metric.name, tags, timestamp, value: metric.value, unit: metric.unit, indices: [index], lastId: entry.id };
        seriesPoints.add(metric.type === 'count' ? { ...point, type: 'count', interval: COUNT_INTERVAL_SECONDS } : { ...point, type: 'gauge' });
      } else if (entry.kind === 'request') {
        requests.push({ index, item: entry.payload });
      } else if (entry.kind === 'event') {
        const event = entry.payload;
        const body: v1.EventCreateRequest = {
          title: event.title.slice(0, 100),
          text: event.text.slice(0, 4000),
          alertType: event.alertType,
          dateHappened: Math.floor(event.timestamp / 1000),
          tags: [...tagList(event.tags), envTag, ...(event.source ? [`source:${event.source}`] : [])],
        };
        parts.push({ indices: [index], event: true, call: (configuration) => new v1.EventsApi(configuration).createEvent({ body }, configuration) });
      }
    });

    for (const aggregate of aggregateRequests(requests)) {
      const tags = [`service:${aggregate.service}`, envTag];
      const timestamp = Math.floor(aggregate.bucketStart / 1000);
      const interval = REQUEST_BUCKET_MS / 1000;
      const lastId = aggregate.indices.reduce((highest, index) => Math.max(highest, batch[index]!.id), 0);
      seriesPoints.add({ metric: REQUEST_METRICS.count, type: 'count', interval, tags, timestamp, value: aggregate.count, indices: aggregate.indices, lastId });
      seriesPoints.add({ metric: REQUEST_METRICS.errors, type: 'count', interval, tags, timestamp, value: aggregate.errors, indices: aggregate.indices, lastId });
      addDistribution(REQUEST_METRICS.duration, tags, timestamp, aggregate.durationsMs, aggregate.indices);
    }

    const { series, recordDelivered } = seriesPoints.prepare(this.deliveredCounts);
    if (series.length > 0) {
      const raw = JSON.stringify({ series });
      if (raw.length > DATADOG_SERIES_MAX_RAW) return { tooLarge: `series payload of ${raw.length} bytes is over ${DATADOG_SERIES_MAX_RAW}` };
      const compressed = gzipSync(raw).length;
      if (compressed > DATADOG_SERIES_MAX_COMPRESSED) return { tooLarge: `compressed series payload of ${compressed} bytes is over ${DATADOG_SERIES_MAX_COMPRESSED}` };
      parts.push({
        indices: seriesPoints.indices(),
        call: (configuration) => new v2.MetricsApi(configuration).submitMetrics({ body: { series }, contentEncoding: 'gzip' }, configuration),
        onDelivered: recordDelivered,
      });
    }
    if (distributions.size > 0) {
      const distributionSeries = [...distributions.values()].map((entry) => entry.series);
      parts.push({
        indices: [...new Set([...distributions.values()].flatMap((entry) => entry.indices))],
        call: (configuration) =>
          new v1.MetricsApi(configuration).submitDistributionPoints({ body: { series: distributionSeries }, contentEncoding: 'deflate' }, configuration),
      });
    }
    return parts;
  }

  /** One API call, its answer classified. */
  private async call(part: Part, signal: AbortSignal): Promise<PartOutcome> {
    let responseHeaders: Headers | undefined;
    const callSignal = AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)]);
    const configuration = client.createConfiguration({
      baseServer: this.baseServer,
      authMethods: { apiKeyAuth: this.config.apiKey },
      httpConfig: { signal: callSignal, compress: true },
      enableRetry: false,
      fetch: async (url: string, init: RequestInit) => {
        // A redirect is answered, not followed: fetch would resend DD-API-KEY to wherever it points.
        const response = await fetch(url, { ...init, redirect: 'manual' });
        responseHeaders = response.headers;
        return response;
      },
    });
    try {
      await part.call(configuration);
      return { outcome: 'delivered' };
    } catch (error) {
      if (error instanceof client.ApiException) {
        const result = classifyHttpStatus(error.code, `Datadog answered ${error.code}: ${describeBody(error.body)}`, responseHeaders?.get('retry-after'), this.clock.now());
        if (result.outcome === 'throttled' && result.retryAfterMs === undefined) {
          const resetMs = parseRateLimitReset(responseHeaders?.get('x-ratelimit-reset'));
          if (resetMs !== undefined) return { ...result, retryAfterMs: resetMs };
        }
        return result as PartOutcome;
      }
      const reason = callSignal.aborted ? 'request aborted (timeout or shutdown)' : `network error: ${error instanceof Error ? error.message : String(error)}`;
      return { outcome: 'retryable', reason };
    }
  }
}

/** The API base URL: DATADOG_API_URL when set, else the site's (`https://api.<site>`). */
export function datadogBaseUrl(config: DatadogConfig): string {
  return (config.apiUrl ?? `https://api.${config.site}`).replace(/\/+$/, '');
}

/**
 * Datadog's rate-limited endpoints (events among them) answer 429 with
 * X-RateLimit-Limit, -Period, -Remaining and -Reset, the last being the seconds
 * until the window resets (docs.datadoghq.com/api/latest/rate-limits), and no
 * Retry-After. Milliseconds to wait, or undefined when absent or malformed.
 * The core bounds it as it bounds Retry-After (QueueSettings.maxPauseMs).
 */
export function parseRateLimitReset(header: string | null | undefined): number | undefined {
  const trimmed = header?.trim() ?? '';
  return /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : undefined;
}

/** v2 series type numbers (MetricIntakeType). */
const SERIES_TYPES = { count: 1, gauge: 3 } as const;

export interface SeriesPoint {
  metric: string;
  type: keyof typeof SERIES_TYPES;
  tags: string[];
  /** Epoch seconds. */
  timestamp: number;
  value: number;
  /** Seconds a count covers (counts only). */
  interval?: number;
  unit?: string;
  /** Positions in the batch of the items folded into this point. */
  indices: readonly number[];
  /** Counts: the highest ingest-log id among those items (see DeliveredCounts). */
  lastId?: number;
}

/** The count points of a batch as sent, and how to record them once Datadog accepted them. */
export interface PreparedSeries {
  series: v2.MetricSeries[];
  recordDelivered(): void;
}

/**
 * The v2 series points of one batch, one per (type, metric, tag set, second).
 * Datadog's intake keeps the last value it receives for the same metric, tags
 * and timestamp (last write wins; see vectordotdev/vector#13867 and Datadog's
 * "historical metrics ingestion" docs), so two count points that share them
 * would count once: counts are summed, gauges keep the latest in log order.
 * Tags compare as a set, lowercased, as Datadog stores them. Across batches,
 * DeliveredCounts makes each count point carry the running total.
 */
export class SeriesPoints {
  private readonly points = new Map<string, SeriesPoint & { indices: number[]; contributions: Array<{ value: number; lastId: number }> }>();

  add(point: SeriesPoint): void {
    const key = [point.type, point.metric, point.timestamp, ...point.tags.map((tag) => tag.toLowerCase()).sort()].join('\u0000');
    // A count's value is the sum of its contributions (see prepare); a gauge keeps the latest value.
    const contributions = point.type === 'count' ? [{ value: point.value, lastId: point.lastId ?? 0 }] : [];
    const existing = this.points.get(key);
    if (!existing) {
      this.points.set(key, { ...point, indices: [...point.indices], contributions });
      return;
    }
    if (point.type === 'count') existing.contributions.push(...contributions);
    else existing.value = point.value;
    existing.unit ??= point.unit;
    existing.indices.push(...point.indices);
  }

  /** The series of this batch alone (no earlier deliveries). */
  series(): v2.MetricSeries[] {
    return this.prepare(new DeliveredCounts()).series;
  }

  /** The series to send, counts raised to their running totals in `delivered`. */
  prepare(delivered: DeliveredCounts): PreparedSeries {
    const totals: Array<{ key: string; total: DeliveredTotal }> = [];
    const series = [...this.points].map(([key, point]) => {
      let value = point.value;
      if (point.type === 'count') {
        const total = delivered.totalWith(key, point.contributions);
        totals.push({ key, total });
        value = total.value;
      }
      return {
        metric: point.metric,
        type: SERIES_TYPES[point.type],
        ...(point.interval !== undefined ? { interval: point.interval } : {}),
        points: [{ timestamp: point.timestamp, value }],
        tags: point.tags,
        ...(point.unit ? { unit: point.unit } : {}),
      };
    });
    return { series, recordDelivered: () => totals.forEach(({ key, total }) => delivered.record(key, total)) };
  }

  /** Batch positions of every item carried, each once. */
  indices(): number[] {
    return [...new Set([...this.points.values()].flatMap((point) => point.indices))];
  }
}

interface DeliveredTotal {
  value: number;
  /** Highest ingest-log id of the items counted in `value`. */
  lastId: number;
}

/** Count points remembered at most; past it the oldest remembered is forgotten. */
const MAX_DELIVERED_COUNTS = 50_000;

/**
 * Running totals of the count points this process has delivered to Datadog, per
 * (metric, tag set, second). Since Datadog keeps only the last value submitted
 * for one of those, a count point whose second already went out in an earlier
 * batch (a request bucket spans about ten 1 s flushes; a batch boundary splits a
 * second) must carry the total so far, not the new part, or it would replace it.
 *
 * A contribution whose highest log id is at most the recorded one is already in
 * the total: a batch retried after its series were accepted (another part of it
 * failed) is not counted twice. Totals are recorded only once Datadog accepted
 * the series. Kept in memory and bounded: after a restart, a failover to another
 * replica, or once forgotten, the next point of such a second carries only what
 * arrived since, and replaces what was sent before.
 */
export class DeliveredCounts {
  private readonly totals = new Map<string, DeliveredTotal>();

  constructor(private readonly maxRemembered = MAX_DELIVERED_COUNTS) {}

  get size(): number {
    return this.totals.size;
  }

  totalWith(key: string, contributions: ReadonlyArray<{ value: number; lastId: number }>): DeliveredTotal {
    const base = this.totals.get(key) ?? { value: 0, lastId: 0 };
    let value = base.value;
    let lastId = base.lastId;
    for (const contribution of contributions) {
      if (contribution.lastId !== 0 && contribution.lastId <= base.lastId) continue;
      value += contribution.value;
      lastId = Math.max(lastId, contribution.lastId);
    }
    return { value, lastId };
  }

  record(key: string, total: DeliveredTotal): void {
    // Re-inserted, so the map's order is least recently delivered first.
    this.totals.delete(key);
    this.totals.set(key, total);
    for (const oldest of this.totals.keys()) {
      if (this.totals.size <= this.maxRemembered) break;
      this.totals.delete(oldest);
    }
  }
}

function tagList(tags: Tags | undefined): string[] {
  return Object.entries(tags ?? {}).map(([key, value]) => `${key}:${value}`);
}

function describeBody(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return (text ?? '').slice(0, 300);
}
