import type { ConsumerLease } from '../../ingest-log/deliver.mode.js';
import type { QueueDependencies } from './queue.types.js';

/**
 * The lease on a destination's queue when several replicas share a Postgres store (a row of
 * `delivery_leases`, held by `owner` until `ttlMs` after its last renewal): the deliver mode of the
 * consumer runtime takes it before each step, renews it while it waits and inside each commit.
 */
export function queueLease(destination: string, ttlMs: number, deps: Pick<QueueDependencies, 'repository' | 'clock' | 'owner'>): ConsumerLease {
  return {
    acquire: (executor) => {
      const now = deps.clock.now();
      return deps.repository.acquireLease(destination, deps.owner, now, now + ttlMs, executor);
    },
    release: () => deps.repository.releaseLease(destination, deps.owner),
  };
}
