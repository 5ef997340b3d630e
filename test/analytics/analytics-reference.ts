import type { GeneratedEvent } from './analytics-generator.js';

/**
 * The reference: every analytics report computed plainly, by loops over the
 * generated events, independently of the service's SQL. `sequence` is the
 * position in delivery order (= ingest order, the tie-breaker for equal
 * timestamps).
 */
export interface RefEvent extends GeneratedEvent {
  sequence: number;
}

export interface Range {
  from?: number;
  to?: number;
}

const DAY = 86_400_000;
const MARKERS = new Set(['session_start', 'session_end']);
const round2 = (value: number) => Math.round(value * 100) / 100;
const toSeconds = (milliseconds: number) => Math.round(milliseconds) / 1000;
const share = (part: number, whole: number) => (whole === 0 ? 0 : round2((part / whole) * 100));
const byCodePoint = (left: string, right: string) => (left < right ? -1 : left > right ? 1 : 0);
const inRange = (event: RefEvent, range: Range) =>
  (range.from === undefined || event.timestamp >= range.from) && (range.to === undefined || event.timestamp <= range.to);
const isoDate = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);
const weekOf = (day: number) => day - (((day + 3) % 7) + 7) % 7;

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor((sorted.length - 1) / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle]! + sorted[middle + 1]!) / 2;
}

export interface RefSession {
  userId: string;
  key: string;
  events: RefEvent[];
}

/** Sessions: given ids as they are; sessionless events split by inactivity, markers and the 24 h cap. */
export function referenceSessions(events: readonly RefEvent[]): RefSession[] {
  const sessions = new Map<string, RefSession>();
  const add = (userId: string, key: string, event: RefEvent) => {
    const id = `${userId}\u0000${key}`;
    if (!sessions.has(id)) sessions.set(id, { userId, key, events: [] });
    sessions.get(id)!.events.push(event);
  };
  const sessionless = new Map<string, RefEvent[]>();
  for (const event of events) {
    if (event.sessionId !== undefined) add(event.userId, `given:${event.sessionId}`, event);
    else {
      if (!sessionless.has(event.userId)) sessionless.set(event.userId, []);
      sessionless.get(event.userId)!.push(event);
    }
  }
  for (const [userId, list] of sessionless) {
    list.sort((left, right) => left.timestamp - right.timestamp || left.sequence - right.sequence);
    let number = 0;
    let start = 0;
    let previous: RefEvent | null = null;
    for (const event of list) {
      const gap = previous === null ? Infinity : event.timestamp - previous.timestamp;
      if (previous === null || previous.type === 'session_end' || event.type === 'session_start' || gap > 30 * 60_000 || event.timestamp - start >= DAY) {
        number++;
        start = event.timestamp;
      }
      add(userId, `inferred:${number}`, event);
      previous = event;
    }
  }
  return [...sessions.values()];
}

export function referenceUser(events: readonly RefEvent[], userId: string) {
  const mine = events.filter((event) => event.userId === userId);
  if (mine.length === 0) return { user_id: userId, no_data: true };
  const breakdown = new Map<string, number>();
  for (const event of mine) if (!MARKERS.has(event.type)) breakdown.set(event.type, (breakdown.get(event.type) ?? 0) + 1);
  const sorted = [...breakdown].sort((left, right) => right[1] - left[1] || byCodePoint(left[0], right[0]));
  const sessions = referenceSessions(mine);
  let durations = 0;
  for (const session of sessions) {
    const times = session.events.map((event) => event.timestamp);
    durations += Math.max(...times) - Math.min(...times);
  }
  const times = mine.map((event) => event.timestamp);
  return {
    user_id: userId,
    total_actions: sorted.reduce((sum, [, count]) => sum + count, 0),
    total_sessions: sessions.length,
    avg_session_duration_seconds: sessions.length === 0 ? 0 : toSeconds(durations / sessions.length),
    action_breakdown: Object.fromEntries(sorted),
    most_common_action: sorted.length === 0 ? null : [sorted[0]![0], sorted[0]![1]],
    first_seen: new Date(Math.min(...times)).toISOString(),
    last_seen: new Date(Math.max(...times)).toISOString(),
  };
}

function ranked(events: readonly RefEvent[], nameOf: (event: RefEvent) => string | null, limit: number) {
  const counts = new Map<string, number>();
  const users = new Map<string, Set<string>>();
  let total = 0;
  for (const event of events) {
    const name = nameOf(event);
    if (name === null) continue;
    total++;
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (!users.has(name)) users.set(name, new Set());
    users.get(name)!.add(event.userId);
  }
  const top = [...counts].sort((left, right) => right[1] - left[1] || byCodePoint(left[0], right[0])).slice(0, limit);
  return { total, distinct: counts.size, top: top.map(([name, count]) => ({ name, count, users: users.get(name)!.size, percentage: share(count, total) })) };
}

export function referenceFeatures(events: readonly RefEvent[], range: Range, limit = 10) {
  const result = ranked(events.filter((event) => inRange(event, range)), (event) => (MARKERS.has(event.type) ? null : event.type), limit);
  return {
    total_actions: result.total,
    unique_features: result.distinct,
    top_features: result.top.map((row) => ({ feature: row.name, usage_count: row.count, percentage: row.percentage, unique_users: row.users })),
  };
}

export function referencePages(events: readonly RefEvent[], range: Range, limit = 10) {
  const result = ranked(events.filter((event) => inRange(event, range)), (event) => (event.type === 'page_view' ? event.page! : null), limit);
  return {
    total_page_views: result.total,
    unique_pages: result.distinct,
    top_pages: result.top.map((row) => ({ page: row.name, views: row.count, percentage: row.percentage, unique_users: row.users })),
  };
}

export function referenceFunnel(events: readonly RefEvent[], steps: string[], mode: 'ordered' | 'any', windowMs: number, range: Range) {
  const candidates = events.filter((event) => inRange(event, range));
  const users: number[] = [];
  const medians: Array<number | null> = steps.map(() => null);
  if (mode === 'any') {
    for (const step of steps) users.push(new Set(candidates.filter((event) => event.type === step).map((event) => event.userId)).size);
  } else {
    const byUser = new Map<string, RefEvent[]>();
    for (const event of candidates) {
      if (!byUser.has(event.userId)) byUser.set(event.userId, []);
      byUser.get(event.userId)!.push(event);
    }
    const durations: number[][] = steps.map(() => []);
    const reached = new Array<number>(steps.length).fill(0);
    for (const list of byUser.values()) {
      let best: RefEvent[] | null = null;
      for (const first of list) {
        if (first.type !== steps[0]) continue;
        const path = [first];
        for (let k = 1; k < steps.length; k++) {
          const previous = path[k - 1]!;
          let chosen: RefEvent | null = null;
          for (const event of list) {
            if (event.type !== steps[k] || path.includes(event)) continue;
            if (event.timestamp < previous.timestamp || event.timestamp > first.timestamp + windowMs) continue;
            if (chosen === null || event.timestamp < chosen.timestamp || (event.timestamp === chosen.timestamp && event.sequence < chosen.sequence)) chosen = event;
          }
          if (chosen === null) break;
          path.push(chosen);
        }
        const better =
          best === null ||
          path.length > best.length ||
          (path.length === best.length && (first.timestamp < best[0]!.timestamp || (first.timestamp === best[0]!.timestamp && first.sequence < best[0]!.sequence)));
        if (better) best = path;
      }
      if (best === null) continue;
      for (let k = 0; k < best.length; k++) {
        reached[k]!++;
        if (k > 0) durations[k]!.push(best[k]!.timestamp - best[k - 1]!.timestamp);
      }
    }
    users.push(...reached);
    durations.forEach((list, k) => (medians[k] = k === 0 ? null : median(list)));
  }
  const usersPerStep: Record<string, number> = {};
  steps.forEach((step, index) => (usersPerStep[step in usersPerStep ? `${step}#${index + 1}` : step] = users[index]!));
  return {
    mode,
    window_seconds: windowMs / 1000,
    funnel_steps: steps,
    users_per_step: usersPerStep,
    conversions: steps.slice(1).map((step, index) => ({ from: steps[index], to: step, conversion_rate: share(users[index + 1]!, users[index]!) })),
    steps: steps.map((step, index) => ({
      step,
      users: users[index],
      conversion_from_previous_percent: index === 0 ? (users[0]! > 0 ? 100 : 0) : share(users[index]!, users[index - 1]!),
      conversion_from_start_percent: share(users[index]!, users[0]!),
      median_time_to_convert_seconds: medians[index] === null ? null : toSeconds(medians[index]!),
    })),
  };
}

/** Sessions starting in range, from the given partition (so retention tests can pass a trimmed one). */
export function referenceSessionsReport(sessions: readonly RefSession[], range: Range) {
  const chosen = sessions
    .map((session) => {
      const times = session.events.map((event) => event.timestamp);
      return {
        start: Math.min(...times),
        duration: Math.max(...times) - Math.min(...times),
        actions: session.events.filter((event) => !MARKERS.has(event.type)).length,
        pages: session.events.filter((event) => event.type === 'page_view').length,
      };
    })
    .filter((session) => (range.from === undefined || session.start >= range.from) && (range.to === undefined || session.start <= range.to));
  const count = chosen.length;
  const total = chosen.reduce((sum, session) => sum + session.duration, 0);
  return {
    total_sessions: count,
    avg_session_duration_seconds: count === 0 ? 0 : toSeconds(total / count),
    median_session_duration_seconds: count === 0 ? 0 : toSeconds(median(chosen.map((session) => session.duration))!),
    bounce_rate_percent: share(chosen.filter((session) => session.actions <= 1).length, count),
    pages_per_session: count === 0 ? 0 : round2(chosen.reduce((sum, session) => sum + session.pages, 0) / count),
  };
}

function activeDays(events: readonly RefEvent[], range: Range): Map<string, Set<number>> {
  const days = new Map<string, Set<number>>();
  for (const event of events) {
    if (!inRange(event, range)) continue;
    if (!days.has(event.userId)) days.set(event.userId, new Set());
    days.get(event.userId)!.add(Math.floor(event.timestamp / DAY));
  }
  return days;
}

export function referenceActiveUsers(events: readonly RefEvent[], range: Range) {
  const days = activeDays(events, range);
  const all = [...days.values()].flatMap((set) => [...set]);
  if (all.length === 0 && (range.from === undefined || range.to === undefined)) return { from: null, to: null, unique_users: 0, days: [] };
  const first = range.from !== undefined ? Math.floor(range.from / DAY) : Math.min(...all);
  const last = range.to !== undefined ? Math.floor(range.to / DAY) : Math.max(...all);
  const rows = [];
  for (let day = first; day <= last; day++) {
    const activeWithin = (length: number) => [...days.values()].filter((set) => [...set].some((active) => active <= day && active > day - length)).length;
    rows.push({ date: isoDate(day), dau: activeWithin(1), wau: activeWithin(7), mau: activeWithin(30) });
  }
  return { from: isoDate(first), to: isoDate(last), unique_users: days.size, days: rows };
}

export function referenceRetention(events: readonly RefEvent[], range: Range, interval: 'day' | 'week') {
  const days = activeDays(events, range);
  const length = interval === 'day' ? 1 : 7;
  const bucket = (day: number) => (interval === 'day' ? day : weekOf(day));
  if (days.size === 0) return { interval, cohorts: [] };
  const lastDay = range.to !== undefined ? Math.floor(range.to / DAY) : Math.max(...[...days.values()].flatMap((set) => [...set]));
  const lastBucket = bucket(lastDay);
  const cohorts = new Map<number, number[]>();
  for (const set of days.values()) {
    const buckets = new Set([...set].map(bucket));
    const cohort = Math.min(...buckets);
    if (!cohorts.has(cohort)) cohorts.set(cohort, new Array<number>((lastBucket - cohort) / length + 1).fill(0));
    for (const value of buckets) cohorts.get(cohort)![(value - cohort) / length]!++;
  }
  return {
    interval,
    cohorts: [...cohorts]
      .sort((left, right) => left[0] - right[0])
      .map(([cohort, retained]) => ({ cohort: isoDate(cohort), users: retained[0], retained, retention_percent: retained.map((users) => share(users, retained[0]!)) })),
  };
}

/** Users with an event in (now − window, ∞): what vigil_active_users reports. */
export function referenceActiveNow(events: readonly RefEvent[], now: number, windowMs: number): number {
  return new Set(events.filter((event) => event.timestamp > now - windowMs).map((event) => event.userId)).size;
}
