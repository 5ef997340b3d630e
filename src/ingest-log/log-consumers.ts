import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { newLeaseOwner } from '../common/lease-owner.js';
import type { Db, Tx } from '../storage/database.js';
import { DATABASE, isPostgres } from '../storage/database.provider.js';
import { ApplyLease } from './apply.lease.js';
import { APPLY_LINGER_MS, ApplyMode, type DerivedStateConsumer } from './apply.mode.js';
import { ConsumerPositionsRepository } from './consumer-positions.repository.js';
import { ConsumerRuntime, realTimeSleeper } from './consumer-runtime.js';
import type { IngestKind } from './ingest-log.items.js';
import { IngestLogRepository } from './ingest-log.repository.js';

export type { DerivedStateConsumer } from './apply.mode.js';

/** Positions that retention must not pass; delivery consumers register here too. */
@Injectable()
export class ConsumerRegistry {
  private readonly names = new Set<string>();
  register(name: string): void {
    this.names.add(name);
  }
  get consumerNames(): string[] {
    return [...this.names];
  }
}

/**
 * Wakes consumers when entries are committed instead of making them poll quickly.
 * `kinds` says which kinds the commit held (undefined: any), so a consumer is not
 * woken by commits it has nothing to read in.
 */
@Injectable()
export class IngestLogSignal {
  private readonly listeners = new Set<(kinds?: ReadonlySet<IngestKind>) => void>();
  subscribe(listener: (kinds?: ReadonlySet<IngestKind>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  notify(kinds?: ReadonlySet<IngestKind>): void {
    for (const listener of this.listeners) listener(kinds);
  }
}

/**
 * Hosts the *apply* consumers (SLA, anomalies, analytics): one ConsumerRuntime in apply mode per
 * registered DerivedStateConsumer (apply.mode.ts), woken by commits of its kinds after a 50 ms
 * linger and polling every second for other replicas' commits. On Postgres each consumer runs on
 * the replica that holds its lease (apply.lease.ts); the others poll for the lease. Started once every module has
 * registered its consumers; stopped at shutdown, after the batch in flight.
 */
@Injectable()
export class DerivedStateRunner implements BeforeApplicationShutdown {
  private readonly logger = new Logger('DerivedStateRunner');
  private readonly runtimes = new Map<DerivedStateConsumer, { runtime: ConsumerRuntime; mode: ApplyMode }>();
  private started = false;
  private stopped = false;
  /** Several replicas may share the store (Postgres): each apply consumer runs where its lease is held. */
  private readonly shared: boolean;
  /** This process, as the holder of apply consumers' leases. */
  private readonly owner = newLeaseOwner();

  constructor(
    @Inject(DATABASE) private readonly db: Db,
    private readonly positions: ConsumerPositionsRepository,
    private readonly log: IngestLogRepository,
    private readonly registry: ConsumerRegistry,
    private readonly signal: IngestLogSignal,
    private readonly clock: Clock,
  ) {
    this.shared = isPostgres(db);
  }

  async register(consumer: DerivedStateConsumer): Promise<void> {
    await this.positions.ensure(consumer.name, this.clock.now());
    this.registry.register(consumer.name);
    const runtime = new ConsumerRuntime(consumer.name, {
      kinds: consumer.kinds,
      wakeOn: 'own kinds',
      lingerMs: APPLY_LINGER_MS,
      sleeper: realTimeSleeper,
      signal: this.signal,
    });
    const lease = this.shared ? new ApplyLease(consumer.name, this.owner, this.positions, this.clock) : null;
    const mode = new ApplyMode(consumer, runtime, { db: this.db, positions: this.positions, log: this.log, clock: this.clock, logger: this.logger, lease });
    this.runtimes.set(consumer, { runtime, mode });
    if (this.started) runtime.start(mode);
  }

  /** Starts draining; called once every module has registered its consumers. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const { runtime, mode } of this.runtimes.values()) runtime.start(mode);
  }

  /** Resolves when every consumer has applied everything committed so far (tests). */
  async drainAll(): Promise<void> {
    for (const { mode } of this.runtimes.values()) await mode.drainExclusively();
  }

  /**
   * Per registered consumer, the seconds since receipt of the oldest entry of its
   * kinds that it has not applied yet (0 when caught up): how far its derived
   * state trails ingest. Positions are read from the store, so on Postgres this
   * also covers consumers another replica advances.
   */
  async lagSeconds(now: number): Promise<Map<string, number>> {
    const positions = new Map((await this.positions.all()).map((row) => [row.consumer, row.position]));
    const lag = new Map<string, number>();
    for (const { mode } of this.runtimes.values()) {
      lag.set(mode.consumer.name, await mode.lagSeconds(positions.get(mode.consumer.name) ?? 0, now));
    }
    return lag;
  }

  /** ApplyMode.runAtPosition of a registered consumer (the anomaly models' checkpoint); false for one not registered. */
  async runAtPosition(consumer: DerivedStateConsumer, step: (trx: Tx, position: number) => Promise<void>): Promise<boolean> {
    const registered = this.runtimes.get(consumer);
    return registered ? registered.mode.runAtPosition(step) : false;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.runtimes.values()].map(({ runtime }) => runtime.stop()));
    await Promise.all([...this.runtimes.values()].map(({ mode }) => mode.release()));
  }
}
