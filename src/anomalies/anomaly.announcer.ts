import { Injectable, Logger } from '@nestjs/common';
import type { EventItem, Tags } from '../ingest-log/ingest-log.items.js';
import { InternalEvents } from '../ingest/internal-events.js';
import type { Tx } from '../storage/database.js';
import type { NewAnomaly } from './anomaly-store.repository.js';
import { AnomaliesMetrics } from './anomalies.metrics.js';

/** Log lines per batch for detected anomalies; past it, one summary line. */
const MAX_ANOMALY_LOG_LINES = 100;
const MAX_EVENT_TAGS = 32;

function limitedTags(tags: Tags, extra: Tags): Tags {
  const result: Tags = {};
  const own = Object.keys(tags).filter((name) => !(name in extra)).slice(0, MAX_EVENT_TAGS - Object.keys(extra).length);
  for (const name of own) result[name] = tags[name]!;
  return { ...result, ...extra };
}

function describeTags(tags: Tags): string {
  const names = Object.keys(tags).sort();
  return names.length === 0 ? '' : `{${names.map((name) => `${name}=${tags[name]}`).join(', ')}}`;
}

/**
 * What the world hears of stored anomalies: an internal event per anomaly, appended in the batch's
 * transaction (so the APM destinations get exactly the stored ones), and, only after that transaction
 * committed, the Prometheus counters and a log line each (bounded per batch). Callers pass only the
 * anomalies really inserted, never ones a replay or a retried batch found already stored.
 */
@Injectable()
export class AnomalyAnnouncer {
  private readonly logger = new Logger('Anomalies');

  constructor(
    private readonly internalEvents: InternalEvents,
    private readonly metrics: AnomaliesMetrics,
  ) {}

  /** In the batch's transaction, last: on Postgres appending takes the ingest log's append lock until commit. */
  async appendEvents(trx: Tx, anomalies: readonly NewAnomaly[], now: number): Promise<void> {
    await this.internalEvents.append(
      trx,
      anomalies.map((anomaly) => this.eventOf(anomaly, now)),
    );
  }

  /** After the batch committed: counters and logs. Never throws. */
  publish(anomalies: readonly NewAnomaly[], seriesEvicted: number): void {
    if (seriesEvicted > 0) this.metrics.seriesEvicted.inc(seriesEvicted);
    for (const [index, anomaly] of anomalies.entries()) {
      this.metrics.countDetected(anomaly.metric);
      if (index >= MAX_ANOMALY_LOG_LINES) continue;
      this.logger.warn(
        {
          event_type: 'anomaly_detected',
          metric: anomaly.metric,
          tags: anomaly.tags,
          timestamp: new Date(anomaly.pointTime).toISOString(),
          value: anomaly.value,
          expected: anomaly.expected,
          score: anomaly.score,
          severity: anomaly.severity,
          methods: anomaly.methods,
        },
        `Anomaly in ${anomaly.metric}${describeTags(anomaly.tags)}: ${anomaly.value} (expected ${anomaly.expected.toPrecision(6)}, severity ${anomaly.severity})`,
      );
    }
    if (anomalies.length > MAX_ANOMALY_LOG_LINES) {
      this.logger.warn(
        { event_type: 'anomalies_detected_summary', anomalies: anomalies.length, not_logged: anomalies.length - MAX_ANOMALY_LOG_LINES },
        `${anomalies.length} anomalies detected in one batch; ${anomalies.length - MAX_ANOMALY_LOG_LINES} of them are not logged one by one (see /anomalies)`,
      );
    }
  }

  private eventOf(anomaly: NewAnomaly, now: number): EventItem {
    const severe = anomaly.severity === 'high' || anomaly.severity === 'critical';
    const at = new Date(anomaly.pointTime).toISOString();
    return {
      title: `Anomaly (${anomaly.severity}): ${anomaly.metric}`.slice(0, 100),
      text: (
        `${anomaly.metric}${describeTags(anomaly.tags)} was ${anomaly.value} at ${at}, expected ${anomaly.expected.toPrecision(6)} ` +
        `(score ${anomaly.score.toFixed(3)}, severity ${anomaly.severity}, methods ${anomaly.methods.join(', ')})`
      ).slice(0, 4000),
      alertType: severe ? 'error' : 'warning',
      tags: limitedTags(anomaly.tags, { metric: anomaly.metric, anomaly_severity: anomaly.severity }),
      timestamp: now,
      source: 'vigil',
    };
  }
}
