/**
 * A consumer's failure streak: from its first failure to its next success. Consumers log once at
 * each end of a streak, never per failure, batch or item; this says when an end is reached. Each
 * mode gives it its own words (the apply runner's in apply.mode.ts, a destination's in
 * delivery/queue/failure-streak.log.ts).
 */
export class FailureStreak {
  private failingSince: number | null = null;

  get isFailing(): boolean {
    return this.failingSince !== null;
  }

  /** A failure at `now`; true when it starts a streak. */
  failed(now: number): boolean {
    if (this.failingSince !== null) return false;
    this.failingSince = now;
    return true;
  }

  /** A success at `now`; the streak's length in milliseconds when it ends one, else null. */
  succeeded(now: number): number | null {
    if (this.failingSince === null) return null;
    const length = now - this.failingSince;
    this.failingSince = null;
    return length;
  }
}
