/**
 * HEC indexer acknowledgements. A client that sends `X-Splunk-Request-Channel: <guid>` gets an
 * `ackId` with each success and later asks `/services/collector/ack` which ids are indexed.
 * Vigil answers a success only after the events are durably committed, so an id is
 * acknowledged as soon as it is issued: the ack says exactly what the answer already said, and
 * a client that waits for acks before discarding its copy loses nothing.
 *
 * Bounded: at most `maxChannels` channels are remembered (the one used longest ago is forgotten
 * first; its client's later queries answer false for its old ids, and the client resends, which
 * is at least once, never a loss). Per channel only the next id is kept.
 */
export class HecAcknowledgements {
  /** Next id per channel, in least-recently-used order (a Map iterates in insertion order). */
  private readonly nextIdByChannel = new Map<string, number>();

  constructor(private readonly maxChannels: number) {}

  /** The id of a committed request on `channel`. */
  issue(channel: string): number {
    const next = this.nextIdByChannel.get(channel) ?? 0;
    this.touch(channel, next + 1);
    return next;
  }

  /** Whether each id was issued on `channel` (and so committed). */
  query(channel: string, ids: readonly number[]): Record<string, boolean> {
    const next = this.nextIdByChannel.get(channel);
    if (next !== undefined) this.touch(channel, next);
    const answer: Record<string, boolean> = {};
    for (const id of ids) answer[String(id)] = next !== undefined && Number.isInteger(id) && id >= 0 && id < next;
    return answer;
  }

  get channels(): number {
    return this.nextIdByChannel.size;
  }

  private touch(channel: string, next: number): void {
    this.nextIdByChannel.delete(channel);
    this.nextIdByChannel.set(channel, next);
    if (this.nextIdByChannel.size > this.maxChannels) {
      const oldest = this.nextIdByChannel.keys().next().value as string;
      this.nextIdByChannel.delete(oldest);
    }
  }
}

const CHANNEL = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/** A channel is a GUID, as Splunk requires. */
export function isHecChannel(value: string): boolean {
  return CHANNEL.test(value);
}
