import type { IncomingMessage } from 'node:http';
import { FakeIntake, isObject, type RouteVerdict } from './fake-intake.js';

export interface DatadogPoint {
  metric: string;
  type: number;
  timestamp: number;
  value: number;
  tags: string[];
  interval?: number;
  unit?: string;
}
export interface DatadogDistributionPoint {
  metric: string;
  timestamp: number;
  values: number[];
  tags: string[];
}
export interface DatadogEvent {
  title: string;
  text: string;
  alert_type?: string;
  date_happened?: number;
  tags: string[];
}

// Limits of the real intake (docs.datadoghq.com/api/latest/metrics, .../events).
export const DATADOG_SERIES_MAX_WIRE = 512_000;
export const DATADOG_SERIES_MAX_RAW = 5_242_880;
export const DATADOG_DISTRIBUTION_MAX_WIRE = 3_200_000;
export const DATADOG_DISTRIBUTION_MAX_RAW = 62_914_560;
const HOUR_SECONDS = 3600;

/** A fixed, calendar-aligned request window, as Datadog's rate-limited endpoints have. */
export interface RateLimit {
  limit: number;
  periodSeconds: number;
}

/** The series a v2 point belongs to at Datadog: metric, tag set (Datadog lowercases tags), second. */
export function seriesKey(metric: string, tags: readonly string[], timestamp: number): string {
  return [metric, timestamp, ...tags.map((tag) => tag.toLowerCase()).sort()].join('\u0000');
}

/**
 * A fake Datadog API: v2 series, v1 distribution points, v1 events, v1
 * dashboards. Checks DD-API-KEY (and DD-APPLICATION-KEY for dashboards), gzip
 * bodies within the documented sizes, and the body schemas; points older than
 * an hour or events older than 18 hours are counted as `stale` (the real intake
 * drops them silently, so a test asserts there are none).
 *
 * What Datadog keeps of v2 series is modelled apart from what arrived (`points`):
 * the intake keeps the LAST value submitted for one metric, tag set and
 * timestamp (last write wins, vectordotdev/vector#13867), for counts as for
 * gauges, so `stored` holds one point per such series and second.
 *
 * With `eventRateLimit` set, the events endpoint counts requests in a
 * calendar-aligned window and answers every request with X-RateLimit-Limit,
 * -Period, -Remaining and -Reset (seconds until the window resets), and over
 * the limit with 429 and no Retry-After, as Datadog documents
 * (docs.datadoghq.com/api/latest/rate-limits).
 */
export class FakeDatadog extends FakeIntake {
  readonly points: DatadogPoint[] = [];
  /** What Datadog would keep: the last point per (metric, tags, timestamp). */
  readonly stored = new Map<string, DatadogPoint>();
  eventRateLimit: RateLimit | null = null;
  private eventWindow = { start: Number.NEGATIVE_INFINITY, used: 0 };
  readonly distributions: DatadogDistributionPoint[] = [];
  readonly events: DatadogEvent[] = [];
  readonly dashboards = new Map<string, { id: string; title: string; widgets: unknown[]; layout_type: string }>();
  stale = 0;
  private nextId = 1;

  constructor(
    readonly apiKey: string,
    now: () => number = Date.now,
    readonly appKey = 'fake-app-key',
  ) {
    const authorize = (headers: IncomingMessage['headers']): RouteVerdict | null =>
      headers['dd-api-key'] === apiKey ? null : { status: 403, body: { errors: ['Forbidden'] } };
    const authorizeApp = (headers: IncomingMessage['headers']): RouteVerdict | null =>
      authorize(headers) ?? (headers['dd-application-key'] === appKey ? null : { status: 403, body: { errors: ['Forbidden: application key required'] } });
    super([
      { method: 'POST', path: '/api/v2/series', authorize, maxWireBytes: DATADOG_SERIES_MAX_WIRE, maxRawBytes: DATADOG_SERIES_MAX_RAW, handle: (body) => this.series(body) },
      {
        method: 'POST',
        path: '/api/v1/distribution_points',
        authorize,
        maxWireBytes: DATADOG_DISTRIBUTION_MAX_WIRE,
        maxRawBytes: DATADOG_DISTRIBUTION_MAX_RAW,
        handle: (body) => this.distribution(body),
      },
      { method: 'POST', path: '/api/v1/events', authorize, maxRawBytes: 4_000_000, handle: (body) => this.event(body) },
      { method: 'GET', path: '/api/v1/dashboard', authorize: authorizeApp, handle: () => this.listDashboards() },
      { method: 'POST', path: '/api/v1/dashboard', authorize: authorizeApp, handle: (body) => this.saveDashboard(undefined, body) },
      {
        method: 'PUT',
        path: /^\/api\/v1\/dashboard\/[^/]+$/,
        authorize: authorizeApp,
        handle: (body, request) => this.saveDashboard(request.url!.split('/').pop()!, body),
      },
    ]);
    this.now = now;
  }

  /** The value Datadog would keep for this series at this second (last write wins); undefined when none. */
  storedValue(metric: string, tags: readonly string[], timestamp: number): number | undefined {
    return this.stored.get(seriesKey(metric, tags, timestamp))?.value;
  }

  /** Points (any kind) carrying the tag `tag`. */
  pointsTagged(tag: string): DatadogPoint[] {
    return this.points.filter((point) => point.tags.includes(tag));
  }

  private series(body: unknown): RouteVerdict {
    if (!isObject(body) || !Array.isArray(body['series'])) return bad('series is required');
    const accepted: DatadogPoint[] = [];
    for (const [index, series] of body['series'].entries()) {
      if (!isObject(series) || typeof series['metric'] !== 'string' || !Array.isArray(series['points'])) return bad(`series[${index}] needs metric and points`);
      const type = series['type'] ?? 0;
      if (typeof type !== 'number' || ![0, 1, 2, 3].includes(type)) return bad(`series[${index}].type must be 0-3`);
      const tags = series['tags'] ?? [];
      if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) return bad(`series[${index}].tags must be strings`);
      for (const point of series['points']) {
        if (!isObject(point) || !Number.isInteger(point['timestamp']) || typeof point['value'] !== 'number') {
          return bad(`series[${index}].points need an integer timestamp (seconds) and a number value`);
        }
        const timestamp = point['timestamp'] as number;
        if (timestamp > 10_000_000_000) return bad(`series[${index}] timestamp looks like milliseconds`);
        if (timestamp < this.now() / 1000 - HOUR_SECONDS) this.stale++;
        accepted.push({
          metric: series['metric'],
          type,
          timestamp,
          value: point['value'],
          tags: tags as string[],
          interval: series['interval'] as number | undefined,
          unit: series['unit'] as string | undefined,
        });
      }
    }
    this.points.push(...accepted);
    for (const point of accepted) this.stored.set(seriesKey(point.metric, point.tags, point.timestamp), point);
    return { status: 202, body: { errors: [] } };
  }

  private distribution(body: unknown): RouteVerdict {
    if (!isObject(body) || !Array.isArray(body['series'])) return bad('series is required');
    const accepted: DatadogDistributionPoint[] = [];
    for (const [index, series] of body['series'].entries()) {
      if (!isObject(series) || typeof series['metric'] !== 'string' || !Array.isArray(series['points'])) return bad(`series[${index}] needs metric and points`);
      const tags = (series['tags'] ?? []) as string[];
      for (const point of series['points']) {
        if (!Array.isArray(point) || point.length !== 2 || !Number.isInteger(point[0]) || !Array.isArray(point[1]) || !point[1].every((value) => typeof value === 'number')) {
          return bad(`series[${index}].points must be [timestamp, [values]]`);
        }
        if ((point[0] as number) < this.now() / 1000 - HOUR_SECONDS) this.stale++;
        accepted.push({ metric: series['metric'], timestamp: point[0] as number, values: point[1] as number[], tags });
      }
    }
    this.distributions.push(...accepted);
    return { status: 202, body: { errors: [] } };
  }

  /** The rate-limit headers of an events answer, and whether this request is over the limit. */
  private eventRateVerdict(): { headers: Record<string, string>; over: boolean } | null {
    const rateLimit = this.eventRateLimit;
    if (rateLimit === null) return null;
    const nowSeconds = this.now() / 1000;
    const start = Math.floor(nowSeconds / rateLimit.periodSeconds) * rateLimit.periodSeconds;
    if (start !== this.eventWindow.start) this.eventWindow = { start, used: 0 };
    this.eventWindow.used++;
    const over = this.eventWindow.used > rateLimit.limit;
    const headers = {
      'x-ratelimit-limit': String(rateLimit.limit),
      'x-ratelimit-period': String(rateLimit.periodSeconds),
      'x-ratelimit-remaining': String(Math.max(0, rateLimit.limit - this.eventWindow.used)),
      'x-ratelimit-reset': String(Math.ceil(start + rateLimit.periodSeconds - nowSeconds)),
      'x-ratelimit-name': 'events_submission',
    };
    return { headers, over };
  }

  private event(body: unknown): RouteVerdict {
    const rate = this.eventRateVerdict();
    if (rate?.over) return { status: 429, body: { errors: ['Too many requests'] }, headers: rate.headers };
    const accepted = this.acceptEvent(body);
    return rate ? { ...accepted, headers: rate.headers } : accepted;
  }

  private acceptEvent(body: unknown): RouteVerdict {
    if (!isObject(body) || typeof body['title'] !== 'string' || typeof body['text'] !== 'string') return bad('title and text are required');
    if (body['title'].length > 100) return bad('title is over 100 characters');
    if (body['text'].length > 4000) return bad('text is over 4000 characters');
    const dateHappened = body['date_happened'];
    if (dateHappened !== undefined && typeof dateHappened === 'number' && dateHappened < this.now() / 1000 - 18 * HOUR_SECONDS) this.stale++;
    const event: DatadogEvent = {
      title: body['title'],
      text: body['text'],
      alert_type: body['alert_type'] as string | undefined,
      date_happened: dateHappened as number | undefined,
      tags: (body['tags'] ?? []) as string[],
    };
    this.events.push(event);
    const id = this.nextId++;
    return { status: 202, body: { status: 'ok', event: { id, id_str: String(id), title: event.title, text: event.text, date_happened: event.date_happened, tags: event.tags } } };
  }

  private listDashboards(): RouteVerdict {
    return { status: 200, body: { dashboards: [...this.dashboards.values()].map((dashboard) => ({ id: dashboard.id, title: dashboard.title, layout_type: dashboard.layout_type })) } };
  }

  private saveDashboard(id: string | undefined, body: unknown): RouteVerdict {
    if (!isObject(body) || typeof body['title'] !== 'string' || !Array.isArray(body['widgets']) || typeof body['layout_type'] !== 'string') {
      return bad('title, widgets and layout_type are required');
    }
    if (id !== undefined && !this.dashboards.has(id)) return { status: 404, body: { errors: ['Dashboard not found'] } };
    const dashboardId = id ?? `abc-${this.nextId++}`;
    const dashboard = { id: dashboardId, title: body['title'], widgets: body['widgets'], layout_type: body['layout_type'] };
    this.dashboards.set(dashboardId, dashboard);
    return { status: 200, body: dashboard };
  }
}

function bad(message: string): RouteVerdict {
  return { status: 400, body: { errors: [message] } };
}
