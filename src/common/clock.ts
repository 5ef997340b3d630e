import { Injectable } from '@nestjs/common';

/**
 * The one source of "now" for Vigil. Injected everywhere time matters so that
 * tests can move time forward (outages of minutes pass in milliseconds).
 */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }
}

/** A clock tests drive by hand. */
export class ManualClock extends Clock {
  constructor(private current = Date.UTC(2026, 0, 1)) {
    super();
  }
  override now(): number {
    return this.current;
  }
  set(epochMs: number): void {
    this.current = epochMs;
  }
  advance(milliseconds: number): void {
    this.current += milliseconds;
  }
}
