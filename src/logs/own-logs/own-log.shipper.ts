import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { settingsOf } from '../../delivery/destination.plugin.js';
import { DESTINATION_PLUGINS } from '../../delivery/destinations.list.js';
import { GroupCommitter } from '../../ingest/group-committer.js';
import { IngestHooks } from '../../ingest/ingest-hooks.js';
import { VigilMetrics } from '../../common/vigil.metrics.js';
import type { NewLogEntry } from '../../ingest-log/log-entry.js';
import { OwnLogBuffer } from './own-log.buffer.js';

/** How often waiting lines are appended; lines reach the log destinations via the delivery core after that. */
export const OWN_LOG_FLUSH_INTERVAL_MS = 1_000;
/** Lines per append (one group commit). */
const LINES_PER_APPEND = 1_000;

/**
 * VIGIL_SHIP_OWN_LOGS: appends Vigil's own log lines (info and above, see
 * own-log.stream.ts) to the ingest log as kind `log`, service `vigil`, in
 * batches through the GroupCommitter. From there the delivery core ships them
 * to every enabled log destination like any ingested log, durably and with
 * retries. Its own complaints carry the context `OwnLogShipper` and are
 * therefore never shipped.
 */
@Injectable()
export class OwnLogShipper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('OwnLogShipper');
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;
  private failing = false;
  private readonly lines: Counter<'outcome'>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly buffer: OwnLogBuffer,
    private readonly committer: GroupCommitter,
    private readonly hooks: IngestHooks,
    metrics: VigilMetrics,
  ) {
    let droppedReported = 0;
    this.lines = new Counter({
      name: 'vigil_own_log_lines_total',
      help: "Vigil's own log lines for VIGIL_SHIP_OWN_LOGS, by outcome: appended to the ingest log, or dropped (buffer full, append failed)",
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
      collect() {
        const dropped = buffer.dropped;
        if (dropped > droppedReported) {
          this.inc({ outcome: 'dropped' }, dropped - droppedReported);
          droppedReported = dropped;
        }
      },
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.shipOwnLogs) return;
    const logDestinations = DESTINATION_PLUGINS.filter((plugin) => plugin.kinds.includes('log'));
    if (!logDestinations.some((plugin) => settingsOf(plugin, this.config) !== null)) {
      this.buffer.close();
      const titles = logDestinations.map((plugin) => plugin.title).join(', ');
      this.logger.warn(`VIGIL_SHIP_OWN_LOGS is on but no log destination (${titles}) is configured: own logs are not shipped`);
      return;
    }
    this.timer = setInterval(() => void this.flush(), OWN_LOG_FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * Appends every waiting line; resolves when they are committed (or dropped).
   * Concurrent calls share one run.
   */
  flush(): Promise<void> {
    this.flushing ??= this.appendWaiting().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    this.buffer.close();
  }

  private async appendWaiting(): Promise<void> {
    while (this.buffer.size > 0) {
      const items = this.buffer.take(LINES_PER_APPEND);
      const entries: NewLogEntry[] = items.map((item) => ({ kind: 'log', eventTime: item.timestamp, userId: null, item }));
      try {
        // Own lines obey the same admission as clients' logs: while a log
        // destination's queue is full (`block`), the 503s it causes must not
        // fill it further.
        const refusal = this.hooks.refusalFor('log');
        if (refusal) throw new Error(refusal.reason);
        await this.committer.append(entries);
        this.lines.inc({ outcome: 'appended' }, entries.length);
        if (this.failing) this.logger.log('Own log lines are appended again');
        this.failing = false;
      } catch (error) {
        // Not retried: a store that refuses appends (saturated, shutting down) must not be fed more.
        this.buffer.countDropped(entries.length);
        if (!this.failing) {
          this.logger.warn(`Own log lines dropped: appending them failed (${error instanceof Error ? error.message : String(error)})`);
        }
        this.failing = true;
        return;
      }
    }
  }
}
