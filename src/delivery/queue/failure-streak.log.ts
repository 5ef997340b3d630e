import type { FailureStreak } from '../../ingest-log/failure-streak.js';
import type { QueueDependencies } from './queue.types.js';

// Rejections are logged at most this often per destination.
const REJECTION_LOG_INTERVAL_MS = 60_000;

/** The retry reason of a refusal of the credentials or settings (see RetryCause in destination.ts). */
export const CONFIGURATION_RETRY_REASON = 'configuration';

type LogDependencies = Pick<QueueDependencies, 'clock' | 'logger' | 'metrics' | 'redactor'>;

/**
 * Stage contract — throttled logging. The queue's only voice: it logs once per
 * failure streak (never per item or batch), once when the destination
 * recovers, and rejections at most once a minute. A refusal of the credentials
 * or settings is logged once per streak on its own (at error: it does not heal
 * by itself), also when the streak began as an outage. Whatever a destination
 * said is redacted before it is logged. It also sets the `paused` gauge at the
 * ends of a streak. The streak itself is the consumer runtime's (failure-streak.ts).
 */
export class FailureStreakLog {
  /** The refusal of the credentials or settings was logged in the current failure streak. */
  private configurationLogged = false;
  private lastRejectionLog = 0;

  constructor(
    private readonly name: string,
    private readonly deps: LogDependencies,
    private readonly streak: FailureStreak,
  ) {}

  get isFailing(): boolean {
    return this.streak.isFailing;
  }

  /** A send, a prepare or the loop failed for `reason` (a label of vigil_delivery_retries_total, or the loop's own). */
  failed(reason: string, detail: unknown, status?: number): void {
    const starting = this.streak.failed(this.deps.clock.now());
    if (starting) this.deps.metrics.paused.set({ destination: this.name }, 1);
    const redacted = this.deps.redactor.redact(detail instanceof Error ? detail.message : String(detail));
    if (reason === CONFIGURATION_RETRY_REASON) {
      if (this.configurationLogged) return;
      this.configurationLogged = true;
      this.deps.logger.error(
        { destination: this.name, reason, status, detail: redacted },
        `${this.name} refused Vigil's credentials or settings${status === undefined ? '' : ` (HTTP ${status})`}: check its key or token, URL and index. ` +
          'Items stay queued and are retried with backoff until it accepts them; only items older than it accepts are dead-lettered (expired)',
      );
      return;
    }
    if (!starting) return;
    this.deps.logger.warn({ destination: this.name, reason, detail: redacted }, `Delivery to ${this.name} failing (${reason}); retrying with backoff, nothing is lost meanwhile`);
  }

  /** A send went through: ends the streak. */
  succeeded(): void {
    this.configurationLogged = false;
    const length = this.streak.succeeded(this.deps.clock.now());
    if (length === null) return;
    const seconds = Math.round(length / 1000);
    this.deps.metrics.paused.set({ destination: this.name }, 0);
    this.deps.logger.log({ destination: this.name, outageSeconds: seconds }, `Delivery to ${this.name} recovered after ${seconds} s`);
  }

  /** The destination refused `items` items for good. */
  rejected(items: number, reason: string, status: number | undefined): void {
    const now = this.deps.clock.now();
    if (now - this.lastRejectionLog < REJECTION_LOG_INTERVAL_MS) return;
    this.lastRejectionLog = now;
    this.deps.logger.warn({ destination: this.name, items, status, reason }, `${this.name} rejected ${items} items; they are in the dead-letter store`);
  }
}
