import type { LogItem } from '../../ingest-log/ingest-log.items.js';

/** Vigil's own lines that may wait for the next append to the ingest log. */
export const OWN_LOG_BUFFER_CAPACITY = 10_000;

/**
 * Vigil's own log lines on their way to the ingest log (VIGIL_SHIP_OWN_LOGS).
 * Created before the application, because the logger writes into it from the
 * first line on; OwnLogShipper empties it. Bounded: when full, the incoming
 * line is dropped and counted (the line itself still reaches stdout).
 */
export class OwnLogBuffer {
  private items: LogItem[] = [];
  private droppedLines = 0;
  private open: boolean;

  constructor(
    enabled: boolean,
    readonly capacity = OWN_LOG_BUFFER_CAPACITY,
  ) {
    this.open = enabled;
  }

  /** Whether lines are being collected (VIGIL_SHIP_OWN_LOGS and not closed). */
  get collecting(): boolean {
    return this.open;
  }

  get size(): number {
    return this.items.length;
  }

  /** Lines dropped because the buffer was full or an append failed, since start. */
  get dropped(): number {
    return this.droppedLines;
  }

  offer(item: LogItem): void {
    if (!this.open) return;
    if (this.items.length >= this.capacity) {
      this.droppedLines++;
      return;
    }
    this.items.push(item);
  }

  /** Removes and returns up to `max` of the oldest lines. */
  take(max: number): LogItem[] {
    if (this.items.length <= max) {
      const all = this.items;
      this.items = [];
      return all;
    }
    return this.items.splice(0, max);
  }

  countDropped(lines: number): void {
    this.droppedLines += lines;
  }

  /** Stops collecting and forgets what is waiting (nothing will ship it). */
  close(): void {
    this.open = false;
    this.items = [];
  }
}
