import type { IncomingMessage } from 'node:http';
import { FakeIntake, isObject, type RouteVerdict } from './fake-intake.js';

export interface NewRelicMetric {
  name: string;
  type: string;
  value: unknown;
  timestamp?: number;
  'interval.ms'?: number;
  attributes: Record<string, unknown>;
}

export const NEW_RELIC_MAX_POST = 1_000_000;
export const NEW_RELIC_MAX_EVENTS = 2000;
const HOUR_MS = 3_600_000;

/**
 * A fake New Relic: the Metric API (POST /metric/v1) and the Event API
 * (POST /v1/accounts/<id>/events). Checks the license key (`Api-Key` or
 * `X-License-Key`; the Event API also takes `X-Insert-Key`), gzip, at most
 * 10^6 bytes per POST (413 past it), at most 2,000 events, and the payload
 * schemas (count and summary need interval.ms; events need eventType).
 * Metrics older than 48 h and events older than 24 h count as `stale`.
 */
export class FakeNewRelic extends FakeIntake {
  readonly metrics: Array<NewRelicMetric & { common: Record<string, unknown> }> = [];
  readonly events: Array<Record<string, unknown>> = [];
  stale = 0;

  constructor(
    readonly licenseKey: string,
    readonly accountId = '1234567',
    now: () => number = Date.now,
  ) {
    const authorize = (headers: IncomingMessage['headers']): RouteVerdict | null =>
      headers['api-key'] === licenseKey || headers['x-license-key'] === licenseKey || headers['x-insert-key'] === licenseKey
        ? null
        : { status: 403, body: { error: 'invalid license key' } };
    super([
      { method: 'POST', path: '/metric/v1', authorize, requireGzip: true, maxWireBytes: NEW_RELIC_MAX_POST, handle: (body) => this.metric(body) },
      {
        method: 'POST',
        path: `/v1/accounts/${accountId}/events`,
        authorize,
        requireGzip: true,
        maxWireBytes: NEW_RELIC_MAX_POST,
        handle: (body) => this.event(body),
      },
    ]);
    this.now = now;
  }

  get metricApiUrl(): string {
    return `${this.url}/metric/v1`;
  }

  get eventApiUrl(): string {
    return `${this.url}/v1/accounts/${this.accountId}/events`;
  }

  private metric(body: unknown): RouteVerdict {
    if (!Array.isArray(body)) return bad('payload must be an array of {common, metrics}');
    const accepted: Array<NewRelicMetric & { common: Record<string, unknown> }> = [];
    for (const [blockIndex, block] of body.entries()) {
      if (!isObject(block) || !Array.isArray(block['metrics'])) return bad(`[${blockIndex}].metrics is required`);
      const common = isObject(block['common']) ? block['common'] : {};
      for (const [index, metric] of block['metrics'].entries()) {
        if (!isObject(metric) || typeof metric['name'] !== 'string') return bad(`metrics[${index}].name is required`);
        const type = metric['type'] ?? 'gauge';
        if (!['gauge', 'count', 'summary'].includes(type as string)) return bad(`metrics[${index}].type is invalid`);
        const interval = metric['interval.ms'] ?? common['interval.ms'];
        if (type !== 'gauge' && !(typeof interval === 'number' && interval >= 1)) return bad(`metrics[${index}] of type ${String(type)} needs interval.ms`);
        const value = metric['value'];
        if (type === 'summary') {
          if (!isObject(value) || !['count', 'sum', 'min', 'max'].every((key) => typeof value[key] === 'number')) return bad(`metrics[${index}].value must be {count,sum,min,max}`);
        } else if (typeof value !== 'number') return bad(`metrics[${index}].value must be a number`);
        const timestamp = (metric['timestamp'] ?? common['timestamp']) as number | undefined;
        if (timestamp !== undefined && timestamp < this.now() - 48 * HOUR_MS) this.stale++;
        accepted.push({ ...(metric as unknown as NewRelicMetric), type: type as string, attributes: (metric['attributes'] ?? {}) as Record<string, unknown>, common });
      }
    }
    this.metrics.push(...accepted);
    return { status: 202, body: { requestId: `req-${this.requests.length}` } };
  }

  private event(body: unknown): RouteVerdict {
    const events = Array.isArray(body) ? body : [body];
    if (events.length > NEW_RELIC_MAX_EVENTS) return { status: 413, body: { error: `more than ${NEW_RELIC_MAX_EVENTS} events` } };
    for (const [index, event] of events.entries()) {
      if (!isObject(event) || typeof event['eventType'] !== 'string' || !/^[A-Za-z0-9_:]+$/.test(event['eventType'])) return bad(`events[${index}].eventType is required`);
      for (const [key, value] of Object.entries(event)) {
        if (!['string', 'number', 'boolean'].includes(typeof value)) return bad(`events[${index}].${key} must be a string or number`);
        if (typeof value === 'string' && value.length > 4096) return bad(`events[${index}].${key} is over 4096 characters`);
      }
      const timestamp = event['timestamp'];
      if (typeof timestamp === 'number') {
        const milliseconds = timestamp < 10_000_000_000 ? timestamp * 1000 : timestamp;
        if (milliseconds < this.now() - 24 * HOUR_MS) this.stale++;
      }
    }
    this.events.push(...(events as Array<Record<string, unknown>>));
    return { status: 200, body: { success: true, uuid: `uuid-${this.requests.length}` } };
  }
}

function bad(message: string): RouteVerdict {
  return { status: 400, body: { error: message } };
}
