import { Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Clock } from '../common/clock.js';
import { ConsumerPositionsRepository } from './consumer-positions.repository.js';
import { IngestLogRepository } from './ingest-log.repository.js';
import { ConsumerRegistry } from './log-consumers.js';

const DAY_MS = 86_400_000;
const DELETE_CHUNK = 10_000;

/** A retention task of another module, run by the same schedule. */
export interface RetentionTask {
  readonly name: string;
  run(now: number): Promise<number>;
}

/**
 * Deletes ingest-log entries older than VIGIL_RETENTION_DAYS that every consumer
 * has passed. An entry a consumer still needs (a destination in an outage) is kept
 * past its age: the destination queue's byte bound, not retention, limits how much
 * that can be. Other modules add their own tasks.
 *
 * "Every consumer" is every one registered in this process, and every position in
 * the store that moved within the retention period: replicas sharing a Postgres
 * store may be configured differently (one has a destination another lacks, during
 * a rolling change), and one's retention must not delete what another's queue
 * still has to send. A consumer that no replica runs any more holds entries back
 * for one retention period after its last move.
 */
@Injectable()
export class RetentionJob {
  private readonly logger = new Logger('Retention');
  private readonly tasks: RetentionTask[] = [];
  private running = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly log: IngestLogRepository,
    private readonly positions: ConsumerPositionsRepository,
    private readonly registry: ConsumerRegistry,
    private readonly clock: Clock,
  ) {}

  addTask(task: RetentionTask): void {
    this.tasks.push(task);
  }

  @Interval('retention', 60_000)
  async runScheduled(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.run();
    } catch (error) {
      this.logger.error({ err: error }, 'Retention run failed; it is retried on the next schedule');
    } finally {
      this.running = false;
    }
  }

  /** One retention pass; returns rows deleted per task. */
  async run(): Promise<Record<string, number>> {
    const now = this.clock.now();
    const deleted: Record<string, number> = { ingest_log: await this.trimIngestLog(now) };
    for (const task of this.tasks) deleted[task.name] = await task.run(now);
    const total = Object.values(deleted).reduce((sum, count) => sum + count, 0);
    if (total > 0) this.logger.log({ deleted }, 'Retention deleted expired rows');
    return deleted;
  }

  private async trimIngestLog(now: number): Promise<number> {
    const cutoff = now - this.config.retention.ingestLogDays * DAY_MS;
    const byAge = await this.log.lastIdReceivedBefore(cutoff);
    const registered = new Set(this.registry.consumerNames);
    const positions = (await this.positions.all()).filter((row) => registered.has(row.consumer) || row.updatedAt >= cutoff).map((row) => row.position);
    const upTo = Math.min(byAge, ...positions);
    let deleted = 0;
    for (;;) {
      const chunk = await this.log.deleteThrough(upTo, DELETE_CHUNK);
      deleted += chunk.deleted;
      if (chunk.done) return deleted;
    }
  }
}
