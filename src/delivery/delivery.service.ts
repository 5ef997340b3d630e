import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { newLeaseOwner } from '../common/lease-owner.js';
import { UserErasure } from '../common/user-erasure.js';
import { secretsOf, type AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ReadinessChecks } from '../health/health-checks.js';
import { IngestHooks } from '../ingest/ingest-hooks.js';
import { ConsumerPositionsRepository } from '../ingest-log/consumer-positions.repository.js';
import type { Db, Tx } from '../storage/database.js';
import { DATABASE, isPostgres } from '../storage/database.provider.js';
import { IngestLogRepository } from '../ingest-log/ingest-log.repository.js';
import { ConsumerRegistry, IngestLogSignal } from '../ingest-log/log-consumers.js';
import { RetentionJob } from '../ingest-log/retention.job.js';
import { DeliveryMetrics } from './delivery.metrics.js';
import { DeliveryRepository, type DeadLetterFilter, type StoredDeadLetter } from './delivery.repository.js';
import type { DeadLetterReason } from './delivery.tables.js';
import { ClockSleeper, DEFAULT_BACKOFF } from './delivery.timing.js';
import { DestinationRegistry } from './destination-registry.js';
import { DestinationQueue } from './queue/destination.queue.js';
import { deliveryConsumerName } from './queue/queue.types.js';
import { CredentialRedactor } from './redaction.js';

/**
 * Dead letters are kept this long after they were stored (or refused again on
 * replay) unless replayed or purged first; one whose replay is pending is kept
 * until the replay resolves it.
 */
const DEAD_LETTER_RETENTION_MS = 30 * 86_400_000;
/** Ingest refused by a full `block` queue is told to come back after this long. */
const BLOCKED_RETRY_AFTER_SECONDS = 5;

export interface DeadLetterListing {
  total: number;
  counts: Array<{ destination: string; reason: DeadLetterReason; count: number }>;
  items: StoredDeadLetter[];
  nextAfter: number | null;
}

/**
 * Starts one DestinationQueue per registered destination at bootstrap, stops them
 * at shutdown, and holds what the rest of Vigil asks of delivery: ingest
 * admission (`block` policy), readiness, the dead-letter operations.
 */
@Injectable()
export class DeliveryService implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Delivery');
  private readonly queues = new Map<string, DestinationQueue>();
  private readonly owner = newLeaseOwner();
  /** A test may shorten the real-time grace given to in-flight requests at shutdown. */
  shutdownGraceMs: number;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DATABASE) private readonly db: Db,
    private readonly registry: DestinationRegistry,
    private readonly repository: DeliveryRepository,
    private readonly metrics: DeliveryMetrics,
    private readonly log: IngestLogRepository,
    private readonly positions: ConsumerPositionsRepository,
    private readonly consumers: ConsumerRegistry,
    private readonly signal: IngestLogSignal,
    private readonly hooks: IngestHooks,
    private readonly readiness: ReadinessChecks,
    private readonly erasure: UserErasure,
    private readonly retention: RetentionJob,
    private readonly clock: Clock,
  ) {
    this.shutdownGraceMs = Math.min(5000, Math.floor(config.http.shutdownTimeoutMs / 2));
  }

  onModuleInit(): void {
    this.retention.addTask({ name: 'delivery_dead_letters', run: (now) => this.repository.deleteOlderThan(now - DEAD_LETTER_RETENTION_MS) });
    this.hooks.addAdmissionCheck((kind) => {
      if (this.config.delivery.queueFullPolicy !== 'block') return null;
      for (const queue of this.queues.values()) {
        if (queue.isFull && queue.destination.kinds.includes(kind)) {
          return {
            reason: `The delivery queue for ${queue.name} is full (${queue.depth.bytes} of ${queue.depth.maxBytes} bytes); retry later`,
            retryAfterSeconds: BLOCKED_RETRY_AFTER_SECONDS,
          };
        }
      }
      return null;
    });
    this.readiness.add({
      name: 'delivery_queues',
      problem: () => {
        const full = [...this.queues.values()].filter((queue) => queue.isFull).map((queue) => queue.name);
        return full.length === 0 ? null : `delivery queue full: ${full.join(', ')}`;
      },
    });
  }

  /** Every module has registered its destinations by now (they do it in onModuleInit). */
  async onApplicationBootstrap(): Promise<void> {
    const sleeper = new ClockSleeper(this.clock);
    const redactor = new CredentialRedactor(secretsOf(this.config));
    for (const destination of this.registry.all) {
      const queue = new DestinationQueue(
        destination,
        {
          maxBytes: this.config.delivery.queueMaxBytes[destination.name],
          policy: this.config.delivery.queueFullPolicy,
          flushIntervalMs: this.config.delivery.flushIntervalMs,
          backoff: DEFAULT_BACKOFF,
          maxPauseMs: 3_600_000,
          // A killed replica's queue passes to another when its lease expires: 8 s (three flush
          // intervals when longer) keeps that takeover within the 15 s a replica's loss may cost
          // with room for a loaded machine (issue 24; test/e2e/replicas.e2e.test.ts measured
          // 10.5-15+ s with 10 s under load average 10). A holder that goes longer without renewing
          // (a send slower than that) may see the queue taken and its batch sent again: at least once.
          leaseTtlMs: isPostgres(this.db) ? Math.max(8_000, 3 * this.config.delivery.flushIntervalMs) : null,
          sendTimeoutMs: 60_000,
        },
        {
          db: this.db,
          log: this.log,
          positions: this.positions,
          signal: this.signal,
          repository: this.repository,
          metrics: this.metrics,
          clock: this.clock,
          sleeper,
          random: Math.random,
          logger: new Logger(`Delivery:${destination.name}`),
          redactor,
          owner: this.owner,
        },
      );
      this.consumers.register(queue.consumer);
      this.queues.set(destination.name, queue);
      await queue.start();
      this.logger.log(`Delivery queue for ${destination.name} started (kinds: ${destination.kinds.join(', ')})`);
    }
    // Registered here, after every module's onModuleInit registered its store,
    // so it runs last in the erasure transaction (see eraseUser).
    this.erasure.register('delivery_dead_letters', (trx, userId) => this.eraseUser(trx, userId));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.stop(this.shutdownGraceMs)));
  }

  /**
   * The delivery part of a user's erasure, inside its transaction and after
   * the other stores (the ingest log among them) deleted the user's rows:
   * locks the queues' positions (a commit in progress stores its dead letters
   * first, a later one waits for the erasure's end), tells each queue to forget
   * the user's entries it holds (DestinationQueue.forgetUser), then deletes the
   * user's dead letters. Returns the dead letters deleted.
   *
   * The highest committed log id bounds the entries the erasure deleted. On
   * Postgres it is read outside the transaction, which still sees the rows the
   * transaction deleted; SQLite's one writer lets nothing commit meanwhile, and
   * a deleted row this transaction no longer sees is covered by the queue's
   * own count.
   */
  private async eraseUser(trx: Tx, userId: string): Promise<number> {
    const upTo = isPostgres(this.db) ? await this.log.highestId() : await this.log.highestId(trx);
    await this.repository.lockQueuePositions(trx, [...this.queues.values()].map((queue) => queue.consumer));
    for (const queue of this.queues.values()) queue.forgetUser(userId, upTo);
    return this.repository.deleteUser(trx, userId);
  }

  /** Names of the running queues. */
  get destinations(): string[] {
    return [...this.queues.keys()];
  }

  queue(name: string): DestinationQueue | undefined {
    return this.queues.get(name);
  }

  /** A page of dead letters matching `filter`: ids after `after`, at most `limit`, with the counts of all that match. */
  async listDeadLetters(filter: DeadLetterFilter, page: { after: number; limit: number }): Promise<DeadLetterListing> {
    const counts = await this.repository.counts(filter);
    const items = await this.repository.list(filter, page.after, page.limit + 1);
    const shown = items.slice(0, page.limit);
    return {
      total: counts.reduce((sum, row) => sum + row.count, 0),
      counts,
      items: shown,
      nextAfter: items.length > page.limit ? shown[shown.length - 1]!.id : null,
    };
  }

  /** Flags dead letters for replay (only `ids`, when given); each goes back only to the destination that refused it. */
  async replayDeadLetters(filter: DeadLetterFilter & { ids?: number[] }): Promise<{ replayRequested: number }> {
    const replayRequested = await this.repository.requestReplay(filter);
    for (const queue of this.queues.values()) {
      if (filter.destination === undefined || filter.destination === queue.name) queue.wake({ replay: true });
    }
    return { replayRequested };
  }

  async purgeDeadLetters(filter: DeadLetterFilter): Promise<{ purged: number }> {
    return { purged: await this.repository.purge(filter) };
  }
}

export { deliveryConsumerName };
