import { BadRequestException, Injectable, Logger } from '@nestjs/common';
import { UserErasure } from '../common/user-erasure.js';
import { AnalyticsIdentitiesRepository } from './analytics-identities.repository.js';
import type { TimeRange } from './analytics-funnel.statements.js';
import { AnalyticsQueriesRepository } from './analytics-queries.repository.js';
import { AnalyticsStoreRepository, DAY_MS } from './analytics-store.repository.js';
import { ANALYTICS_CONSUMER } from './analytics.consumer.js';
import type { FunnelMode, RetentionInterval } from './analytics.params.js';
import type {
  ActiveUsersReport,
  FeaturesReport,
  FunnelReport,
  NoDataReport,
  PagesReport,
  RetentionReport,
  SessionsReport,
  UserReport,
} from './analytics.results.js';
import { percent, seconds } from './analytics.results.js';

const MAX_REPORT_DAYS = 3660;

function isoDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Rounded share, 0 when the base is empty. */
function share(part: number, whole: number): number {
  return whole === 0 ? 0 : percent((part / whole) * 100);
}

/**
 * The analytics reports (shaped as the contract's snake_case bodies from the
 * database's aggregates) and user erasure.
 */
@Injectable()
export class AnalyticsService {
  private readonly logger = new Logger('Analytics');

  constructor(
    private readonly queries: AnalyticsQueriesRepository,
    private readonly store: AnalyticsStoreRepository,
    private readonly identities: AnalyticsIdentitiesRepository,
    private readonly erasure: UserErasure,
  ) {}

  async user(userId: string): Promise<UserReport | NoDataReport> {
    const aggregates = await this.queries.userAggregates(userId);
    if (aggregates === null) return { user_id: userId, no_data: true };
    const breakdown: Record<string, number> = {};
    let mostCommon: [string, number] | null = null;
    let actions = 0;
    const sorted = [...aggregates.breakdown].sort((left, right) => right.count - left.count || (left.type < right.type ? -1 : left.type > right.type ? 1 : 0));
    for (const { type, count } of sorted) {
      breakdown[type] = count;
      actions += count;
      mostCommon ??= [type, count];
    }
    return {
      user_id: userId,
      total_actions: actions,
      total_sessions: aggregates.sessions,
      avg_session_duration_seconds: aggregates.sessions === 0 ? 0 : seconds(aggregates.sessionDurationSumMs / aggregates.sessions),
      action_breakdown: breakdown,
      most_common_action: mostCommon,
      first_seen: new Date(aggregates.firstSeen).toISOString(),
      last_seen: new Date(aggregates.lastSeen).toISOString(),
    };
  }

  async features(range: TimeRange, limit: number): Promise<FeaturesReport> {
    const usage = await this.queries.features(range, limit);
    return {
      total_actions: usage.total,
      unique_features: usage.distinct,
      top_features: usage.top.map((row) => ({
        feature: row.name,
        usage_count: row.count,
        percentage: share(row.count, usage.total),
        unique_users: row.users,
      })),
    };
  }

  async pages(range: TimeRange, limit: number): Promise<PagesReport> {
    const usage = await this.queries.pages(range, limit);
    return {
      total_page_views: usage.total,
      unique_pages: usage.distinct,
      top_pages: usage.top.map((row) => ({ page: row.name, views: row.count, percentage: share(row.count, usage.total), unique_users: row.users })),
    };
  }

  async funnel(steps: string[], mode: FunnelMode, windowMs: number, range: TimeRange): Promise<FunnelReport> {
    let users: number[];
    let medians: Array<number | null>;
    if (mode === 'ordered') {
      const aggregates = await this.queries.orderedFunnel(steps, windowMs, range);
      users = aggregates.usersReaching;
      medians = aggregates.medianStepMs;
    } else {
      const perType = await this.queries.usersPerType(steps, range);
      users = steps.map((step) => perType.get(step) ?? 0);
      medians = steps.map(() => null);
    }
    const usersPerStep: Record<string, number> = {};
    steps.forEach((step, index) => {
      usersPerStep[step in usersPerStep ? `${step}#${index + 1}` : step] = users[index]!;
    });
    return {
      mode,
      window_seconds: windowMs / 1000,
      funnel_steps: steps,
      users_per_step: usersPerStep,
      conversions: steps.slice(1).map((step, index) => ({ from: steps[index]!, to: step, conversion_rate: share(users[index + 1]!, users[index]!) })),
      steps: steps.map((step, index) => ({
        step,
        users: users[index]!,
        conversion_from_previous_percent: index === 0 ? (users[0]! > 0 ? 100 : 0) : share(users[index]!, users[index - 1]!),
        conversion_from_start_percent: share(users[index]!, users[0]!),
        median_time_to_convert_seconds: medians[index] === null || medians[index] === undefined ? null : seconds(medians[index]),
      })),
    };
  }

  async sessions(range: TimeRange): Promise<SessionsReport> {
    const aggregates = await this.queries.sessions(range);
    const count = aggregates.sessions;
    return {
      total_sessions: count,
      avg_session_duration_seconds: count === 0 ? 0 : seconds(aggregates.durationSumMs / count),
      median_session_duration_seconds: aggregates.medianDurationMs === null ? 0 : seconds(aggregates.medianDurationMs),
      bounce_rate_percent: share(aggregates.bounces, count),
      pages_per_session: count === 0 ? 0 : percent(aggregates.pageViews / count),
    };
  }

  async activeUsers(range: TimeRange): Promise<ActiveUsersReport> {
    const span = await this.queries.activeSpan(range);
    const firstDay = range.from !== null ? Math.floor(range.from / DAY_MS) : span.firstDay;
    const lastDay = range.to !== null ? Math.floor(range.to / DAY_MS) : span.lastDay;
    if (firstDay === null || lastDay === null || firstDay > lastDay) return { from: null, to: null, unique_users: span.users, days: [] };
    if (lastDay - firstDay + 1 > MAX_REPORT_DAYS) throw new BadRequestException(`from and to must span at most ${MAX_REPORT_DAYS} days`);
    const changes = await this.queries.activityChanges(range);
    const days: ActiveUsersReport['days'] = [];
    let next = 0;
    let current = { dau: 0, wau: 0, mau: 0 };
    for (let day = firstDay; day <= lastDay; day++) {
      while (next < changes.length && changes[next]!.day <= day) current = changes[next++]!;
      days.push({ date: isoDate(day), dau: current.dau, wau: current.wau, mau: current.mau });
    }
    return { from: isoDate(firstDay), to: isoDate(lastDay), unique_users: span.users, days };
  }

  async retention(range: TimeRange, interval: RetentionInterval): Promise<RetentionReport> {
    const length = interval === 'day' ? 1 : 7;
    const bucketOf = (day: number) => (interval === 'day' ? day : day - ((((day + 3) % 7) + 7) % 7));
    const cells = await this.queries.retention(range, interval);
    if (cells.length === 0) return { interval, cohorts: [] };
    let lastDay = range.to !== null ? Math.floor(range.to / DAY_MS) : null;
    if (lastDay === null) lastDay = (await this.queries.activeSpan(range)).lastDay ?? 0;
    const lastBucket = bucketOf(lastDay);
    const cohorts = new Map<number, number[]>();
    for (const cell of cells) {
      let retained = cohorts.get(cell.cohort);
      if (!retained) {
        retained = new Array<number>(Math.max(1, (lastBucket - cell.cohort) / length + 1)).fill(0);
        cohorts.set(cell.cohort, retained);
      }
      retained[cell.offsetDays / length] = cell.users;
    }
    return {
      interval,
      cohorts: [...cohorts].map(([cohort, retained]) => ({
        cohort: isoDate(cohort),
        users: retained[0]!,
        retained,
        retention_percent: retained.map((users) => share(users, retained[0]!)),
      })),
    };
  }

  /**
   * Erases every stored trace of the user in one transaction: analytics rows and
   * every store registered with UserErasure (the ingest log among them). The
   * analytics consumer is locked meanwhile, so no batch holding the user's
   * entries can commit after the erasure and bring them back. No record of the
   * erased user id is kept; the log line carries only counts.
   */
  async eraseUser(userId: string): Promise<void> {
    const deleted = await this.store.database.transaction().execute(async (trx) => {
      await this.store.lockConsumer(trx, ANALYTICS_CONSUMER);
      // The person's other ids (joined by identify or alias) are the person too: their raw
      // entries in the ingest log and anything still stored under them go with the rest.
      const ids = [userId, ...(await this.identities.aliasesOf(trx, userId))];
      const counts: Record<string, number> = {};
      for (const id of ids) {
        for (const [store, rows] of Object.entries(await this.erasure.eraseAll(trx, id))) counts[store] = (counts[store] ?? 0) + rows;
      }
      counts['identities'] = await this.identities.erase(trx, userId);
      return counts;
    });
    this.logger.log({ deleted }, 'User erased');
  }
}
