import { gzipSync } from 'node:zlib';
import type { Clock } from '../../common/clock.js';
import type { NewRelicConfig } from './newrelic.plugin.js';
import { classifyHttpStatus, combine, type Destination, type DestinationLimits, type SendResult } from '../../delivery/destination.js';
import type { IngestKind, RequestItem } from '../../ingest-log/ingest-log.items.js';
import type { LogEntry } from '../../ingest-log/log-entry.js';
import { histogramRange } from '../histogram-points.js';
import { REQUEST_BUCKET_MS, REQUEST_METRICS, aggregateRequests, worstOf, type PartOutcome } from '../request-timings.js';

const HOUR_MS = 3_600_000;
/** Both APIs: at most 10^6 bytes per POST (compressed); the Event API at most 2,000 events. */
export const NEW_RELIC_MAX_POST_BYTES = 1_000_000;
export const NEW_RELIC_MAX_EVENTS = 2000;
/** Custom event type Vigil's events are stored as. */
export const NEW_RELIC_EVENT_TYPE = 'VigilEvent';

export const NEW_RELIC_LIMITS: DestinationLimits = {
  maxItems: NEW_RELIC_MAX_EVENTS,
  maxBytes: 2 * 1024 * 1024,
  // Metrics are accepted up to 48 h old, custom events 24 h.
  maxAgeMs: { metric: 48 * HOUR_MS, request: 48 * HOUR_MS, event: 24 * HOUR_MS },
};

interface Part {
  url: string;
  body: unknown;
  indices: number[];
}

/**
 * Forwards to New Relic over plain HTTP: the Metric API (`[{"common": {...},
 * "metrics": [...]}]`) and the Event API (an array of custom events of type
 * VigilEvent), both gzip, authenticated with the license key in `Api-Key`.
 *
 * Mapping: gauge → gauge; count → count (interval.ms 10,000); distribution →
 * summary of one value ({count: 1, sum, min, max}); request timings → per
 * service per 10 s, `vigil.requests.count`/`errors` (count) and
 * `vigil.requests.duration` (summary, ms). Tags become attributes; every
 * metric and event carries `environment`. Without an Event API URL (no account
 * id) events are not sent here at all (they are not among this destination's kinds).
 */
export class NewRelicDestination implements Destination {
  readonly name = 'newrelic' as const;
  readonly kinds: readonly IngestKind[];
  readonly limits = NEW_RELIC_LIMITS;

  constructor(
    private readonly config: NewRelicConfig,
    private readonly environment: string,
    private readonly clock: Clock,
    private readonly timeoutMs = 30_000,
  ) {
    this.kinds = config.eventApiUrl ? ['metric', 'event', 'request'] : ['metric', 'request'];
  }

  async send(batch: readonly LogEntry[], signal: AbortSignal): Promise<SendResult> {
    const parts = this.encode(batch);
    const bodies = parts.map((part) => gzipSync(JSON.stringify(part.body)));
    const oversized = bodies.findIndex((body) => body.length > NEW_RELIC_MAX_POST_BYTES);
    if (oversized !== -1) return { outcome: 'too_large', reason: `compressed body of ${bodies[oversized]!.length} bytes is over ${NEW_RELIC_MAX_POST_BYTES}`, status: 413 };
    const outcomes: Array<PartOutcome | undefined> = new Array(batch.length).fill(undefined);
    // One after the other: after a 413 the core splits the whole batch and sends both
    // halves again, so the part after it is not sent now (it would arrive twice).
    for (const [index, part] of parts.entries()) {
      const outcome = await this.post(part.url, bodies[index]!, signal);
      for (const item of part.indices) outcomes[item] = worstOf(outcomes[item], outcome);
      if (outcome.outcome === 'too_large') break;
    }
    return combine(outcomes);
  }

  private encode(batch: readonly LogEntry[]): Part[] {
    const metrics: Array<Record<string, unknown>> = [];
    const metricIndices: number[] = [];
    const events: Array<Record<string, unknown>> = [];
    const eventIndices: number[] = [];
    const requests: Array<{ index: number; item: RequestItem }> = [];
    batch.forEach((entry, index) => {
      if (entry.kind === 'metric') {
        const metric = entry.payload;
        const attributes = { ...metric.tags, ...(metric.unit ? { unit: metric.unit } : {}) };
        if (metric.type === 'distribution') {
          metrics.push({
            name: metric.name,
            type: 'summary',
            value: { count: 1, sum: metric.value, min: metric.value, max: metric.value },
            timestamp: metric.timestamp,
            'interval.ms': 1,
            attributes,
          });
        } else if (metric.histogram) {
          // A histogram is a summary of its count, sum, and min and max (approximated from the buckets when not sent).
          const { count, sum } = metric.histogram;
          metrics.push({ name: metric.name, type: 'summary', value: { count, sum, ...histogramRange(metric.histogram) }, timestamp: metric.timestamp, 'interval.ms': 1, attributes });
        } else if (metric.type === 'count') {
          metrics.push({ name: metric.name, type: 'count', value: metric.value, timestamp: metric.timestamp, 'interval.ms': REQUEST_BUCKET_MS, attributes });
        } else {
          metrics.push({ name: metric.name, type: 'gauge', value: metric.value, timestamp: metric.timestamp, attributes });
        }
        metricIndices.push(index);
      } else if (entry.kind === 'request') {
        requests.push({ index, item: entry.payload });
      } else if (entry.kind === 'event') {
        const event = entry.payload;
        const tags = Object.fromEntries(Object.entries(event.tags ?? {}).map(([key, value]) => [`tags.${key}`, value]));
        events.push({
          ...tags,
          eventType: NEW_RELIC_EVENT_TYPE,
          timestamp: event.timestamp,
          title: event.title,
          text: event.text.slice(0, 4096),
          alertType: event.alertType,
          source: event.source ?? 'api',
          environment: this.environment,
        });
        eventIndices.push(index);
      }
    });
    for (const aggregate of aggregateRequests(requests)) {
      const common = { timestamp: aggregate.bucketStart, 'interval.ms': REQUEST_BUCKET_MS, attributes: { service: aggregate.service } };
      metrics.push({ ...common, name: REQUEST_METRICS.count, type: 'count', value: aggregate.count });
      metrics.push({ ...common, name: REQUEST_METRICS.errors, type: 'count', value: aggregate.errors });
      metrics.push({
        ...common,
        name: REQUEST_METRICS.duration,
        type: 'summary',
        value: {
          count: aggregate.count,
          sum: aggregate.durationsMs.reduce((sum, value) => sum + value, 0),
          min: Math.min(...aggregate.durationsMs),
          max: Math.max(...aggregate.durationsMs),
        },
      });
      metricIndices.push(...aggregate.indices);
    }
    const parts: Part[] = [];
    if (metrics.length > 0) {
      parts.push({ url: this.config.metricApiUrl, body: [{ common: { attributes: { environment: this.environment } }, metrics }], indices: metricIndices });
    }
    if (events.length > 0 && this.config.eventApiUrl) parts.push({ url: this.config.eventApiUrl, body: events, indices: eventIndices });
    return parts;
  }

  private async post(url: string, body: Buffer, signal: AbortSignal): Promise<PartOutcome> {
    const callSignal = AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'api-key': this.config.licenseKey },
        body,
        signal: callSignal,
        // A redirect is answered, not followed: fetch would resend the Api-Key header to wherever it points.
        redirect: 'manual',
      });
      const text = (await response.text()).slice(0, 300);
      return classifyHttpStatus(response.status, `New Relic answered ${response.status}: ${text}`, response.headers.get('retry-after'), this.clock.now()) as PartOutcome;
    } catch (error) {
      const reason = callSignal.aborted ? 'request aborted (timeout or shutdown)' : `network error: ${error instanceof Error ? error.message : String(error)}`;
      return { outcome: 'retryable', reason };
    }
  }
}
