import { abortableDelay } from '../common/abortable-delay.js';
import type { Clock } from '../common/clock.js';

/**
 * Waits measured on the injected Clock. The wait re-reads the clock every
 * `tickMs` of real time, so with the system clock it ends on time, and with a
 * test's ManualClock it ends as soon as the test moves the clock past the
 * deadline: an outage of minutes passes in milliseconds.
 */
export class ClockSleeper {
  constructor(
    private readonly clock: Clock,
    private readonly tickMs = 20,
  ) {}

  /** Resolves after `milliseconds` of clock time, or early (without error) when `signal` aborts. */
  async sleep(milliseconds: number, signal?: AbortSignal): Promise<void> {
    const deadline = this.clock.now() + milliseconds;
    while (!signal?.aborted) {
      const remaining = deadline - this.clock.now();
      if (remaining <= 0) return;
      await abortableDelay(Math.min(remaining, this.tickMs), signal);
    }
  }
}

/** Capped exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 30_000 };

/** Delay before retry number `attempt` (0 = first retry): uniform in [0, min(cap, base * 2^attempt)). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
