import { sql, type RawBuilder } from 'kysely';

/**
 * The SQL of an ordered funnel's attempts (one row per step-1 event: user_id, id1, t1..tn, depth),
 * as common table expressions ending in `scored`; AnalyticsQueriesRepository.orderedFunnel picks
 * one and turns `scored` into the report's figures. Both run on SQLite and Postgres.
 */

/** Inclusive bounds in epoch ms; null = unbounded. */
export interface TimeRange {
  from: number | null;
  to: number | null;
}

/** The `where` condition of `range` on `column` (occurred_at unless given). */
export function rangeCondition(range: TimeRange, column = sql.ref('occurred_at')): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [sql`1 = 1`];
  if (range.from !== null) parts.push(sql`${column} >= ${sql.lit(range.from)}`);
  if (range.to !== null) parts.push(sql`${column} <= ${sql.lit(range.to)}`);
  return sql.join(parts, sql` and `);
}

/**
 * Attempts of a funnel whose steps are all different types, in one sorted
 * pass per step instead of one index search per step-1 event. The greedy
 * step after a given time is the earliest event of the step's type at or
 * after it, so the chain that follows a step-k event depends only on its
 * time, and it does not move earlier when that time moves later. Going
 * backwards from the last step, every step-k event gets the times of its
 * chain (steps k+1..n) as running minima over the user's events at or after
 * it: the minimum over the step-(k+1) events there is the earliest one's
 * time, and, the chains being monotone, the minimum of their carried chain
 * times is the earliest one's chain. Same answer as searchedFunnelAttempts.
 */
export function chainedFunnelAttempts(steps: readonly string[], windowMs: number, range: TimeRange): RawBuilder<unknown> {
  const count = steps.length;
  const time = (k: number) => sql.ref(`t${k}`);
  const later = (k: number) => Array.from({ length: count - k }, (_, index) => k + 1 + index);
  const ctes: RawBuilder<unknown>[] = [
    sql`${sql.ref(`c${count}`)} as (select user_id, occurred_at as ${time(count)} from analytics_events where type = ${steps[count - 1]} and ${rangeCondition(range)})`,
  ];
  for (let k = count - 1; k >= 1; k--) {
    const carried = later(k + 1);
    const nextRows = sql`select user_id, null as log_id, 1 as is_next, ${time(k + 1)} as t${sql.join(carried.map((j) => sql`, ${time(j)}`), sql``)} from ${sql.ref(`c${k + 1}`)}`;
    const ownRows = sql`select user_id, log_id, 0 as is_next, occurred_at as t${sql.join(carried.map(() => sql`, null`), sql``)} from analytics_events where type = ${steps[k - 1]} and ${rangeCondition(range)}`;
    const window = sql`over (partition by user_id order by t desc)`;
    const chain = sql.join(
      [sql`min(case when is_next = 1 then t end) ${window} as ${time(k + 1)}`, ...carried.map((j) => sql`min(${time(j)}) ${window} as ${time(j)}`)],
    );
    ctes.push(sql`${sql.ref(`c${k}`)} as (
      select user_id, log_id, t as ${time(k)}, ${sql.join(later(k).map((j) => time(j)))} from (
        select user_id, log_id, is_next, t, ${chain} from (${nextRows} union all ${ownRows}) candidates
      ) chained where is_next = 0)`);
  }
  const depth = sql.join(
    Array.from({ length: count - 1 }, (_, index) => {
      const k = count - index;
      return sql`when ${time(k)} is not null and ${time(k)} <= t1 + ${sql.lit(windowMs)} then ${sql.lit(k)}`;
    }),
    sql` `,
  );
  ctes.push(sql`scored as (select user_id, log_id as id1, ${sql.join(Array.from({ length: count }, (_, index) => time(index + 1)))}, case ${depth} else 1 end as depth from c1)`);
  return sql.join(ctes);
}

/**
 * Attempts of any funnel, repeated step types included: for each step-1
 * event, one index search per further step (and a repeated type's search
 * skips the events its earlier steps took).
 */
export function searchedFunnelAttempts(steps: readonly string[], windowMs: number, range: TimeRange): RawBuilder<unknown> {
  const count = steps.length;
  const columnsUpTo = (k: number) => sql.join(
    [sql.ref('user_id'), ...Array.from({ length: k }, (_, index) => sql`${sql.ref(`id${index + 1}`)}, ${sql.ref(`t${index + 1}`)}`)],
  );
  const upper = range.to === null ? sql`` : sql` and e.occurred_at <= ${sql.lit(range.to)}`;
  const ctes: RawBuilder<unknown>[] = [
    sql`p1 as (select user_id, log_id as id1, occurred_at as t1 from analytics_events where type = ${steps[0]} and ${rangeCondition(range)})`,
  ];
  for (let k = 2; k <= count; k++) {
    const reuse = steps
      .slice(0, k - 1)
      .map((step, index) => (step === steps[k - 1] ? sql` and e.log_id <> q.${sql.ref(`id${index + 1}`)}` : sql``));
    const next = sql`(select e.log_id from analytics_events e
        where e.user_id = q.user_id and e.type = ${steps[k - 1]}
          and e.occurred_at >= q.${sql.ref(`t${k - 1}`)} and e.occurred_at <= q.t1 + ${sql.lit(windowMs)}${upper}${sql.join(reuse, sql``)}
        order by e.occurred_at, e.log_id limit 1)`;
    ctes.push(sql`${sql.ref(`p${k}`)} as (
      select ${sql.join(Array.from({ length: k - 1 }, (_, index) => sql`r.${sql.ref(`id${index + 1}`)}, r.${sql.ref(`t${index + 1}`)}`))},
             r.user_id, n.log_id as ${sql.ref(`id${k}`)}, n.occurred_at as ${sql.ref(`t${k}`)}
      from (select ${columnsUpTo(k - 1)}, ${next} as next_id from ${sql.ref(`p${k - 1}`)} q) r
      left join analytics_events n on n.log_id = r.next_id)`);
  }
  const depth = sql.join(
    Array.from({ length: count - 1 }, (_, index) => {
      const k = count - index;
      return sql`when ${sql.ref(`id${k}`)} is not null then ${sql.lit(k)}`;
    }),
    sql` `,
  );
  ctes.push(sql`scored as (select ${columnsUpTo(count)}, case ${depth} else 1 end as depth from ${sql.ref(`p${count}`)})`);
  return sql.join(ctes);
}
