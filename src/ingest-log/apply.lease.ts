import type { Clock } from '../common/clock.js';
import type { ConsumerPositionsRepository } from './consumer-positions.repository.js';

/**
 * How long an apply consumer's lease lasts without renewal. A replica killed while holding it is
 * replaced this long after its last renewal at most, plus a poll (APPLY_POLL_INTERVAL_MS); one that
 * shuts down releases it, and another takes it on its next poll.
 */
export const APPLY_LEASE_TTL_MS = 5_000;
/** The holder renews once this much of the lease has passed (one statement, not one per step). */
const RENEW_AFTER_MS = APPLY_LEASE_TTL_MS / 3;

/**
 * Which replica runs an *apply* consumer when several share a Postgres store: one at a time holds
 * the lease (a row of `consumer_leases`), the others only try to take it on their poll.
 *
 * Not what exactly-once rests on: each batch still locks the position's row and applies only from
 * the position it read, so two replicas that both believe they hold the lease (one stalled past its
 * expiry) stay correct. What the lease buys is that replicas do not take turns: without it each
 * replica ran the consumer on its own commits, and each change of hands made the next one reload
 * the consumer's state (the anomaly models: every series' snapshot, replayed from the log) and
 * read inside transactions that queued on the position's row lock. With three replicas taking
 * single items that was most of their CPU (about 2.9 ms a request across the replicas).
 *
 * Expiry compares the holder's clock (which wrote `expires_at`) with the taker's: replicas' clocks
 * are assumed within a fraction of the lease of each other, as for the delivery queues' leases.
 * Skew beyond that makes the consumer change hands more often, never apply anything twice.
 */
export class ApplyLease {
  /** When this process last took or renewed the lease (its clock); undefined: it does not hold it. */
  private renewedAt: number | undefined;

  constructor(
    private readonly consumer: string,
    private readonly owner: string,
    private readonly positions: ConsumerPositionsRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * True when this process holds the lease: taken or renewed now, or renewed less than a third of
   * its length ago (then without a query).
   */
  async holds(): Promise<boolean> {
    const now = this.clock.now();
    if (this.renewedAt !== undefined && now - this.renewedAt < RENEW_AFTER_MS) return true;
    const held = await this.positions.acquireLease(this.consumer, this.owner, now, now + APPLY_LEASE_TTL_MS);
    this.renewedAt = held ? now : undefined;
    return held;
  }

  /** Lets the lease go at shutdown, so that another replica need not wait for it to expire. */
  async release(): Promise<void> {
    this.renewedAt = undefined;
    await this.positions.releaseLease(this.consumer, this.owner);
  }
}
