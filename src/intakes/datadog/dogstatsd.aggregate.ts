import { tagsFromDatadog } from './datadog.tags.js';

type Raw = Record<string, unknown>;

/** What add() did with a line. */
export type AggregateOutcome = 'aggregated' | 'not_aggregated' | 'malformed' | 'full';

interface SeriesTotal {
  name: string;
  type: 'c' | 'g';
  /** The `#tags` field as sent: parsed once per series and interval, at close(). */
  tagsText: string;
  value: number;
}

/**
 * DogStatsD counts and gauges aggregated per series (name, type and tags) over one flush
 * interval, as the Datadog Agent aggregates them: counts summed (each scaled by 1/rate), a gauge's
 * last value kept. close() turns each series into one item, so ingest appends one item per
 * series per interval instead of one per line. Lines it does not aggregate — histograms,
 * distributions, timings and sets (kept as samples and distinct members by the listener), lines
 * with a `|T` timestamp (stored as sent, as the Agent does), events and service checks — are
 * left to parseDatagram.
 *
 * Parsing is by index, without splitting the line or parsing its tags: the series key is the
 * tags text as sent. Two spellings of one series (tags in another order) meet at close(), where
 * tags are parsed once per key and series with equal tags merged. Bounded by `maxSeries` keys:
 * add() answers 'full' and the listener closes the interval early.
 */
export class DogStatsdAggregator {
  private series = new Map<string, SeriesTotal>();

  constructor(private readonly maxSeries: number) {}

  get size(): number {
    return this.series.size;
  }

  add(line: string): AggregateOutcome {
    const bar = line.indexOf('|');
    const colon = line.indexOf(':');
    if (bar < 0 || colon <= 0 || colon > bar || line.charCodeAt(0) === 95 /* _ */) return 'not_aggregated';
    const typeEnd = line.indexOf('|', bar + 1);
    const type = line.slice(bar + 1, typeEnd < 0 ? line.length : typeEnd);
    if (type !== 'c' && type !== 'g') return 'not_aggregated';
    let rate = 1;
    let tagsText = '';
    for (let start = typeEnd; start >= 0; ) {
      const end = line.indexOf('|', start + 1);
      const field = line.slice(start + 1, end < 0 ? line.length : end);
      const first = field.charCodeAt(0);
      if (first === 84 /* T */) return 'not_aggregated';
      if (first === 64 /* @ */) {
        rate = Number(field.slice(1));
        if (!(rate > 0 && rate <= 1)) return 'malformed';
      } else if (first === 35 /* # */) tagsText = field.slice(1);
      start = end;
    }
    const name = line.slice(0, colon);
    const valuesText = line.slice(colon + 1, bar);
    // `name:1:2:3|c` packs several values into one line.
    const values = valuesText.includes(':') ? valuesText.split(':') : [valuesText];
    let total = 0;
    let last = 0;
    for (const text of values) {
      const value = Number(text);
      if (text.trim() === '' || !Number.isFinite(value)) return 'malformed';
      total += value / rate;
      last = value;
    }
    const key = `${type}\u0000${name}\u0000${tagsText}`;
    const entry = this.series.get(key);
    if (entry !== undefined) {
      entry.value = type === 'c' ? entry.value + total : last;
      return 'aggregated';
    }
    if (this.series.size >= this.maxSeries) return 'full';
    this.series.set(key, { name, type, tagsText, value: type === 'c' ? total : last });
    return 'aggregated';
  }

  /** Ends the interval: one count or gauge item per series, in first-seen order, and starts afresh. */
  close(): Raw[] {
    if (this.series.size === 0) return [];
    const byTags = new Map<string, Raw>();
    for (const { name, type, tagsText, value } of this.series.values()) {
      const tags = tagsFromDatadog(tagsText.length === 0 ? [] : tagsText.split(','));
      const identity = `${type}\u0000${name}\u0000${JSON.stringify(Object.entries(tags).sort(([left], [right]) => (left < right ? -1 : 1)))}`;
      const merged = byTags.get(identity);
      if (merged === undefined) byTags.set(identity, { name, value, type: type === 'c' ? 'count' : 'gauge', tags });
      // Another spelling of the same series: counts add up; of two gauges the later-seen wins.
      else merged['value'] = type === 'c' ? (merged['value'] as number) + value : value;
    }
    this.series = new Map();
    return [...byTags.values()];
  }
}
