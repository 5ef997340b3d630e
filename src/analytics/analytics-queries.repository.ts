import { Inject, Injectable } from '@nestjs/common';
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../storage/database.js';
import type { AnalyticsTables } from './analytics.tables.js';
import { DATABASE, isPostgres } from '../storage/database.provider.js';
import { DAY_MS } from './analytics-store.repository.js';
import { chainedFunnelAttempts, rangeCondition, searchedFunnelAttempts, type TimeRange } from './analytics-funnel.statements.js';
import { MARKER_TYPES, PAGE_VIEW } from './session-inference.js';

export interface UserAggregates {
  events: number;
  firstSeen: number;
  lastSeen: number;
  breakdown: Array<{ type: string; count: number }>;
  sessions: number;
  sessionDurationSumMs: number;
}

export interface RankedUsage {
  total: number;
  distinct: number;
  top: Array<{ name: string; count: number; users: number }>;
}

export interface FunnelAggregates {
  /** Users whose furthest step is at least k, for k = 1..n (index k-1). */
  usersReaching: number[];
  /** Median ms from step k-1 to step k over users reaching k (index k-1; null for step 1 or no users). */
  medianStepMs: Array<number | null>;
}

export interface SessionAggregates {
  sessions: number;
  durationSumMs: number;
  medianDurationMs: number | null;
  bounces: number;
  pageViews: number;
}

export interface ActivityChange {
  day: number;
  dau: number;
  wau: number;
  mau: number;
}

export interface RetentionCell {
  cohort: number;
  offsetDays: number;
  users: number;
}

const markers = () => sql.join(MARKER_TYPES.map((type) => sql.lit(type)));

/**
 * Every analytics report, computed by the database with SQL that runs on both
 * SQLite (≥ 3.25, window functions) and Postgres: only aggregates come back,
 * never events. Text ordering uses binary (code point) collation on both, so
 * ties break the same way everywhere.
 */
@Injectable()
export class AnalyticsQueriesRepository {
  private readonly postgres: boolean;

  constructor(@Inject(DATABASE) private readonly db: Db<AnalyticsTables>) {
    this.postgres = isPostgres(db);
  }

  /** Distinct users whose last event is after `since` (one index range count on analytics_users). */
  async usersSeenAfter(since: number): Promise<number> {
    const row = await this.db
      .selectFrom('analytics_users')
      .select((eb) => eb.fn.countAll<number>().as('users'))
      .where('last_seen', '>', since)
      .executeTakeFirst();
    return Number(row?.users ?? 0);
  }

  private binary(expression: RawBuilder<unknown>): RawBuilder<unknown> {
    return this.postgres ? sql`${expression} collate "C"` : expression;
  }

  async userAggregates(userId: string): Promise<UserAggregates | null> {
    const totals = await this.db
      .selectFrom('analytics_events')
      .select((eb) => [eb.fn.countAll<number>().as('events'), eb.fn.min('occurred_at').as('first'), eb.fn.max('occurred_at').as('last')])
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!totals || Number(totals.events) === 0) return null;
    const breakdown = await this.db
      .selectFrom('analytics_events')
      .select((eb) => ['type', eb.fn.countAll<number>().as('count')])
      .where('user_id', '=', userId)
      .where('type', 'not in', MARKER_TYPES)
      .groupBy('type')
      .execute();
    const sessions = await this.db
      .selectFrom('analytics_sessions')
      .select((eb) => [eb.fn.countAll<number>().as('sessions'), sql<number>`sum(ended_at - started_at)`.as('duration')])
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return {
      events: Number(totals.events),
      firstSeen: Number(totals.first),
      lastSeen: Number(totals.last),
      breakdown: breakdown.map((row) => ({ type: row.type, count: Number(row.count) })),
      sessions: Number(sessions?.sessions ?? 0),
      sessionDurationSumMs: Number(sessions?.duration ?? 0),
    };
  }

  /**
   * Actions by type. Counted per (user, type) first: that grouping follows the
   * (user_id, type, occurred_at) index, so the database streams it without sorting.
   */
  async features(range: TimeRange, limit: number): Promise<RankedUsage> {
    const filter = sql`type not in (${markers()}) and ${rangeCondition(range)}`;
    return this.rankedUsage(sql`select user_id, type as name, count(*) as n from analytics_events where ${filter} group by user_id, type`, limit);
  }

  /** Page views by page. Counted per (page, user): the (type, page, user_id, occurred_at) index streams that grouping. */
  async pages(range: TimeRange, limit: number): Promise<RankedUsage> {
    const filter = sql`type = ${sql.lit(PAGE_VIEW)} and page is not null and ${rangeCondition(range)}`;
    return this.rankedUsage(sql`select page as name, user_id, count(*) as n from analytics_events where ${filter} group by page, user_id`, limit);
  }

  private async rankedUsage(perUser: RawBuilder<unknown>, limit: number): Promise<RankedUsage> {
    const totals = await sql<{ count: number | null; names: number }>`
      with per_user as (${perUser})
      select sum(n) as count, count(distinct name) as names from per_user
    `.execute(this.db);
    const top = await sql<{ name: string; count: number; users: number }>`
      with per_user as (${perUser})
      select name, sum(n) as count, count(*) as users from per_user group by name
      order by count desc, ${this.binary(sql.ref('name'))} limit ${sql.lit(limit)}
    `.execute(this.db);
    return {
      total: Number(totals.rows[0]?.count ?? 0),
      distinct: Number(totals.rows[0]?.names ?? 0),
      top: top.rows.map((row) => ({ name: String(row.name), count: Number(row.count), users: Number(row.users) })),
    };
  }

  /**
   * Ordered funnel. For every step-1 event in range, each later step takes the
   * earliest event of its type (ties: ingest order) at or after the previous
   * step's time and at most `windowMs` after step 1, never reusing an event of
   * an earlier step. Each user's best attempt is the one reaching the furthest
   * step, the earliest such step-1 event on ties; its step times give the
   * medians.
   */
  async orderedFunnel(steps: readonly string[], windowMs: number, range: TimeRange): Promise<FunnelAggregates> {
    const distinct = steps.length > 1 && new Set(steps).size === steps.length;
    const chosen = distinct ? chainedFunnelAttempts(steps, windowMs, range) : searchedFunnelAttempts(steps, windowMs, range);
    return this.funnelFigures(steps.length, chosen);
  }

  /** Users per furthest step and median step times, from `scored` (user_id, id1, t1..tn, depth: one row per attempt). */
  private async funnelFigures(count: number, scored: RawBuilder<unknown>): Promise<FunnelAggregates> {
    const ctes: RawBuilder<unknown>[] = [scored];
    // Materialized: it is read once per step below, and computing it is the whole cost (SQLite ≥ 3.35 and Postgres ≥ 12 accept the keyword).
    ctes.push(sql`chosen as materialized (select * from (select s.*, row_number() over (partition by user_id order by depth desc, t1, id1) as attempt from scored s) ranked where attempt = 1)`);
    const durations = sql.join(
      Array.from({ length: count - 1 }, (_, index) => {
        const k = index + 2;
        return sql`select ${sql.lit(k)} as step, ${sql.ref(`t${k}`)} - ${sql.ref(`t${k - 1}`)} as duration from chosen where depth >= ${sql.lit(k)}`;
      }),
      sql` union all `,
    );
    ctes.push(sql`durations as (${durations})`);
    ctes.push(sql`ordered_durations as (select step, duration, row_number() over (partition by step order by duration) as step_rank, count(*) over (partition by step) as step_size from durations)`);
    const result = await sql<{ kind: string; step: number; total: number; members: number }>`
      with ${sql.join(ctes)}
      select 'depth' as kind, depth as step, count(*) as total, count(*) as members from chosen group by depth
      union all
      select 'median' as kind, step, sum(duration) as total, count(*) as members from ordered_durations
        where step_rank in ((step_size + 1) / 2, (step_size + 2) / 2) group by step
    `.execute(this.db);
    const atDepth = new Array<number>(count + 1).fill(0);
    const medianStepMs: Array<number | null> = new Array<number | null>(count).fill(null);
    for (const row of result.rows) {
      const step = Number(row.step);
      if (row.kind === 'depth') atDepth[step] = Number(row.total);
      else medianStepMs[step - 1] = Number(row.total) / Number(row.members);
    }
    const usersReaching: number[] = [];
    let reaching = 0;
    for (let k = count; k >= 1; k--) {
      reaching += atDepth[k]!;
      usersReaching[k - 1] = reaching;
    }
    return { usersReaching, medianStepMs };
  }

  /** `any` funnel: distinct users per step type in range. */
  async usersPerType(types: readonly string[], range: TimeRange): Promise<Map<string, number>> {
    const rows = await sql<{ type: string; users: number }>`
      select type, count(distinct user_id) as users from analytics_events
      where type in (${sql.join([...new Set(types)])}) and ${rangeCondition(range)} group by type
    `.execute(this.db);
    return new Map(rows.rows.map((row) => [row.type, Number(row.users)]));
  }

  /** Sessions starting in range; a session's figures include all its events. */
  async sessions(range: TimeRange): Promise<SessionAggregates> {
    const filter = rangeCondition(range, sql.ref('started_at'));
    const result = await sql<{ sessions: number; duration: number | null; bounces: number | null; page_views: number | null; middle_sum: number | null; middle_count: number }>`
      with chosen as (select ended_at - started_at as duration, actions, page_views from analytics_sessions where ${filter}),
      ranked as (select duration, row_number() over (order by duration) as duration_rank, count(*) over () as session_count from chosen)
      select
        (select count(*) from chosen) as sessions,
        (select sum(duration) from chosen) as duration,
        (select sum(case when actions <= 1 then 1 else 0 end) from chosen) as bounces,
        (select sum(page_views) from chosen) as page_views,
        (select sum(duration) from ranked where duration_rank in ((session_count + 1) / 2, (session_count + 2) / 2)) as middle_sum,
        (select count(*) from ranked where duration_rank in ((session_count + 1) / 2, (session_count + 2) / 2)) as middle_count
    `.execute(this.db);
    const row = result.rows[0]!;
    const middleCount = Number(row.middle_count);
    return {
      sessions: Number(row.sessions),
      durationSumMs: Number(row.duration ?? 0),
      medianDurationMs: middleCount === 0 ? null : Number(row.middle_sum) / middleCount,
      bounces: Number(row.bounces ?? 0),
      pageViews: Number(row.page_views ?? 0),
    };
  }

  /**
   * (user, UTC day) pairs with an event in range: whole days inside the range
   * come from analytics_user_days, the partial days at its ends from the events.
   */
  private activeDays(range: TimeRange): RawBuilder<unknown> {
    if (range.from === null && range.to === null) return sql`select user_id, day from analytics_user_days`;
    const dayConditions: RawBuilder<unknown>[] = [sql`1 = 1`];
    const edgeConditions: RawBuilder<unknown>[] = [];
    if (range.from !== null) {
      const firstWholeDay = Math.ceil(range.from / DAY_MS);
      dayConditions.push(sql`day >= ${sql.lit(firstWholeDay)}`);
      edgeConditions.push(sql`occurred_at < ${sql.lit(firstWholeDay * DAY_MS)}`);
    }
    if (range.to !== null) {
      const lastWholeDay = Math.floor((range.to + 1) / DAY_MS) - 1;
      dayConditions.push(sql`day <= ${sql.lit(lastWholeDay)}`);
      edgeConditions.push(sql`occurred_at >= ${sql.lit((lastWholeDay + 1) * DAY_MS)}`);
    }
    return sql`select user_id, day from analytics_user_days where ${sql.join(dayConditions, sql` and `)}
      union
      select user_id, occurred_at / ${sql.lit(DAY_MS)} as day from analytics_events
        where ${rangeCondition(range)} and (${sql.join(edgeConditions, sql` or `)})`;
  }

  /** First and last active day in range, and distinct users; nulls when nothing is in range. */
  async activeSpan(range: TimeRange): Promise<{ firstDay: number | null; lastDay: number | null; users: number }> {
    const result = await sql<{ first_day: number | null; last_day: number | null; users: number }>`
      with active as (${this.activeDays(range)})
      select min(day) as first_day, max(day) as last_day, count(distinct user_id) as users from active
    `.execute(this.db);
    const row = result.rows[0];
    return {
      firstDay: row?.first_day === null || row?.first_day === undefined ? null : Number(row.first_day),
      lastDay: row?.last_day === null || row?.last_day === undefined ? null : Number(row.last_day),
      users: Number(row?.users ?? 0),
    };
  }

  /**
   * Daily, 7-day and 30-day active users as running totals over change days:
   * each (user, day) counts for the days from it until the user's next active
   * day or the window's end, whichever is first, so the windows of one user never
   * overlap and one pass over the user-days answers all three.
   */
  async activityChanges(range: TimeRange): Promise<ActivityChange[]> {
    const endOf = (length: number) =>
      sql`case when next_day is not null and next_day < day + ${sql.lit(length)} then next_day else day + ${sql.lit(length)} end`;
    const result = await sql<{ day: number; dau: number; wau: number; mau: number }>`
      with active as (${this.activeDays(range)}),
      user_sequence as (select user_id, day, lead(day) over (partition by user_id order by day) as next_day from active),
      changes as (
        select day as change_day, 1 as dau, 1 as wau, 1 as mau from user_sequence
        union all select day + 1, -1, 0, 0 from user_sequence
        union all select ${endOf(7)}, 0, -1, 0 from user_sequence
        union all select ${endOf(30)}, 0, 0, -1 from user_sequence
      ),
      per_day as (select change_day, sum(dau) as dau, sum(wau) as wau, sum(mau) as mau from changes group by change_day)
      select change_day as day,
             sum(dau) over (order by change_day) as dau,
             sum(wau) over (order by change_day) as wau,
             sum(mau) over (order by change_day) as mau
      from per_day order by change_day
    `.execute(this.db);
    return result.rows.map((row) => ({ day: Number(row.day), dau: Number(row.dau), wau: Number(row.wau), mau: Number(row.mau) }));
  }

  /** Users per (cohort bucket, days since cohort bucket) where buckets are days or ISO weeks (Monday, UTC). */
  async retention(range: TimeRange, interval: 'day' | 'week'): Promise<RetentionCell[]> {
    // Epoch day 0 was a Thursday: (day + 3) % 7 is the number of days since Monday.
    const bucket = interval === 'day' ? sql`day` : sql`day - ((day + 3) % 7)`;
    const result = await sql<{ cohort: number; offset_days: number; users: number }>`
      with active as (${this.activeDays(range)}),
      buckets as (select distinct user_id, ${bucket} as bucket from active),
      firsts as (select user_id, min(bucket) as cohort from buckets group by user_id)
      select f.cohort, b.bucket - f.cohort as offset_days, count(*) as users
      from buckets b join firsts f on f.user_id = b.user_id
      group by f.cohort, b.bucket - f.cohort
      order by f.cohort, b.bucket - f.cohort
    `.execute(this.db);
    return result.rows.map((row) => ({ cohort: Number(row.cohort), offsetDays: Number(row.offset_days), users: Number(row.users) }));
  }
}
