import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A new name for a holder of leases on a shared store (destination queues, apply consumers):
 * host and pid, so an operator reading the lease tables can tell which replica holds what, and a
 * random part, so two holders in one process (or a restarted pid) are never taken for each other.
 */
export function newLeaseOwner(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}
