import type { ConsumerLease } from '../../ingest-log/deliver.mode.js';
import { deliveryConsumerName, type QueueDependencies } from './queue.types.js';

/**
 * The lease on a destination's queue when several replicas share a Postgres store: the row of its
 * consumer (`delivery:<name>`) in `consumer_leases`, held by `owner` until `ttlMs` after its last
 * renewal. The deliver mode of the consumer runtime takes it before each step, renews it while it
 * waits and inside each commit.
 */
export function queueLease(destination: string, ttlMs: number, deps: Pick<QueueDependencies, 'positions' | 'clock' | 'owner'>): ConsumerLease {
  const consumer = deliveryConsumerName(destination);
  return {
    acquire: (executor) => {
      const now = deps.clock.now();
      return deps.positions.acquireLease(consumer, deps.owner, now, now + ttlMs, executor);
    },
    release: () => deps.positions.releaseLease(consumer, deps.owner),
  };
}
