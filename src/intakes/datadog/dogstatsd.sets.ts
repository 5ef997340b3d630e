import type { SetMember } from './dogstatsd.parse.js';

/**
 * DogStatsD sets (`user.id:u1|s`): the number of distinct members per series (name and tags)
 * seen in one interval, committed as a gauge when the interval closes, as the Datadog Agent
 * does. Bounded: at most `maxSeries` series and `maxMembers` members each per interval; members
 * past a bound are not counted (add() says how many were turned away).
 */
export class SetCounter {
  private readonly series = new Map<string, { name: string; tags: Record<string, string>; members: Set<string> }>();

  constructor(
    private readonly maxSeries: number,
    private readonly maxMembers: number,
  ) {}

  /** Counts the members; returns how many were turned away by the bounds. */
  add(members: readonly SetMember[]): number {
    let over = 0;
    for (const { name, member, tags } of members) {
      const key = `${name}|${Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([tag, value]) => `${tag}:${value}`).join(',')}`;
      let entry = this.series.get(key);
      if (entry === undefined) {
        if (this.series.size >= this.maxSeries) {
          over++;
          continue;
        }
        entry = { name, tags, members: new Set() };
        this.series.set(key, entry);
      }
      if (entry.members.size >= this.maxMembers && !entry.members.has(member)) over++;
      else entry.members.add(member);
    }
    return over;
  }

  /** Closes the interval: one gauge item per series (its distinct members), and starts afresh. */
  close(): Array<Record<string, unknown>> {
    const gauges = [...this.series.values()].map(({ name, tags, members }) => ({ name, value: members.size, type: 'gauge', tags }));
    this.series.clear();
    return gauges;
  }
}
