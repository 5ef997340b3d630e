import { seededRandom } from '../support/random.js';

export { seededRandom };
/**
 * A seeded generator of analytics traffic: users with sessions (given sessionIds
 * and sessionless ones), session markers, equal timestamps, gaps around the 30
 * minute boundary, day-long streaks (the 24 h cap), privacy-sensitive
 * properties, and an ingest order that delivers many events late.
 */
export interface GeneratedEvent {
  userId: string;
  sessionId?: string;
  type: string;
  page?: string;
  properties?: Record<string, unknown>;
  timestamp: number;
}


const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ACTIONS = ['signup', 'add_to_cart', 'checkout', 'purchase', 'search', 'click'];
const PAGES = ['/', '/pricing', '/docs', '/blog', '/signup', '/cart'];

export interface GeneratorOptions {
  seed: number;
  users: number;
  /** Events happen in [start, end). */
  start: number;
  end: number;
}

export function generateTraffic(options: GeneratorOptions): GeneratedEvent[] {
  const random = seededRandom(options.seed);
  const pick = <Item>(items: readonly Item[]): Item => items[Math.floor(random() * items.length)]!;
  const events: GeneratedEvent[] = [];
  for (let userIndex = 0; userIndex < options.users; userIndex++) {
    const userId = `user-${userIndex}`;
    let time = options.start + Math.floor(random() * (options.end - options.start) * 0.6);
    const sessions = 1 + Math.floor(random() * 6);
    for (let sessionIndex = 0; sessionIndex < sessions && time < options.end; sessionIndex++) {
      const given = random() < 0.3 ? `s-${userIndex}-${sessionIndex % 3}` : undefined; // ids reused across sessions on purpose
      const streak = random() < 0.08; // a day-long streak of activity: exercises the 24 h cap
      const length = streak ? 80 : 1 + Math.floor(random() * 12);
      const marked = random() < 0.3;
      const base = given ? { userId, sessionId: given } : { userId };
      if (marked) events.push({ ...base, type: 'session_start', timestamp: time });
      for (let index = 0; index < length && time < options.end; index++) {
        const roll = random();
        if (roll < 0.45) events.push({ ...base, type: 'page_view', page: pick(PAGES), timestamp: time });
        else {
          const event: GeneratedEvent = { ...base, type: pick(ACTIONS), timestamp: time };
          if (random() < 0.3) event.properties = { plan: pick(['free', 'pro']), ip: '203.0.113.7', 'User-Agent': 'Mozilla/5.0', nested: { clientIp: '198.51.100.1', ok: 1 } };
          events.push(event);
        }
        const gapRoll = random();
        // Equal timestamps, short gaps, gaps just under, at and just over 30 minutes.
        const gap = streak
          ? 20 * MINUTE
          : gapRoll < 0.15 ? 0 : gapRoll < 0.8 ? Math.floor(random() * 10 * MINUTE) : pick([29 * MINUTE, 30 * MINUTE, 30 * MINUTE + 1, 45 * MINUTE]);
        time += gap;
      }
      if (marked && random() < 0.7) events.push({ ...base, type: 'session_end', timestamp: time });
      time += pick([31 * MINUTE, 2 * HOUR, 20 * HOUR, 3 * 24 * HOUR, 9 * 24 * HOUR]) + Math.floor(random() * HOUR);
    }
  }
  return events.filter((event) => event.timestamp < options.end);
}

/** Delivery order: mostly chronological per batch, with a share of events held back and sent late. */
export function deliveryOrder(events: readonly GeneratedEvent[], seed: number): GeneratedEvent[] {
  const random = seededRandom(seed);
  const onTime: GeneratedEvent[] = [];
  const late: GeneratedEvent[] = [];
  for (const event of [...events].sort((left, right) => left.timestamp - right.timestamp)) (random() < 0.15 ? late : onTime).push(event);
  // Late events are interleaved at random later positions.
  const order = [...onTime];
  for (const event of late) order.splice(Math.floor(order.length * (0.5 + random() * 0.5)), 0, event);
  return order;
}
