import type { LogEntry } from '../../ingest-log/log-entry.js';
import type { DestinationLimits } from '../destination.js';
import type { Resolutions } from './queue.types.js';

/**
 * Stage contract — the expiry filter. Before every send attempt, resolves the
 * entries older (by their own timestamp) than the destination accepts for
 * their kind as dead (`expired`) instead of sending them to fail; returns the
 * rest. Entries of kinds without a limit always pass.
 */
export function withoutExpired(entries: LogEntry[], resolutions: Resolutions, destination: string, limits: DestinationLimits, now: number): LogEntry[] {
  return entries.filter((entry) => {
    const maxAge = limits.maxAgeMs[entry.kind];
    if (maxAge === undefined || entry.eventTime >= now - maxAge) return true;
    resolutions.set(entry.id, {
      outcome: 'dead',
      reason: 'expired',
      status: null,
      detail: `${entry.kind} older than ${destination} accepts (${Math.round(maxAge / 60_000)} min)`,
    });
    return false;
  });
}
