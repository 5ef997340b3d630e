import { Controller, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiExtraModels, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { RequiresScope } from '../common/auth.guard.js';
import { ApiBadParameterResponse, ApiServedResponses } from '../common/api-responses.js';
import { parseInterval, parseLimit, parseMode, parseRange, parseSteps, parseUserId, parseWindow } from './analytics.params.js';
import {
  ActiveUsersReport,
  FeaturesReport,
  FunnelReport,
  NoDataReport,
  PagesReport,
  RetentionReport,
  SessionsReport,
  UserReport,
} from './analytics.results.js';
import { AnalyticsService } from './analytics.service.js';

type QueryParameters = Record<string, unknown>;

const RANGE_DOC = 'ISO 8601 date-time (UTC when no zone is given) or epoch milliseconds; inclusive. Left out: unbounded.';
const FromQuery = () => ApiQuery({ name: 'from', required: false, type: String, description: RANGE_DOC });
const ToQuery = () => ApiQuery({ name: 'to', required: false, type: String, description: RANGE_DOC });
const LimitQuery = () => ApiQuery({ name: 'limit', required: false, type: Number, description: 'Rows in the top list, 1-1000 (default 10)' });
const BadParameter = () => ApiBadParameterResponse();
const BadUserId = () => ApiBadParameterResponse('userId is not 1-128 characters');

const SESSIONS_DOC =
  'Sessions: events with a sessionId belong to that session. Events without one are sessionised per user in (timestamp, ingest) order: ' +
  'a new session begins after 30 minutes without events, after a session_end, at a session_start, or once 24 hours have passed since the ' +
  'session began. Late and out-of-order events are placed by their timestamp, and the sessions around them are recomputed.';

@ApiTags('analytics')
@ApiServedResponses()
@ApiExtraModels(UserReport, NoDataReport)
@RequiresScope('read')
@Controller('analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  @Get('user/:userId')
  @ApiOperation({
    summary: "One user's activity",
    description: `All stored events of the user. session_start and session_end are not actions. ${SESSIONS_DOC}`,
  })
  @ApiOkResponse({
    description: 'The summary; `{"user_id", "no_data": true}` for an unknown or erased user',
    schema: { oneOf: [{ $ref: getSchemaPath(UserReport) }, { $ref: getSchemaPath(NoDataReport) }] },
  })
  @BadUserId()
  user(@Param('userId') userId: string): Promise<UserReport | NoDataReport> {
    return this.analytics.user(parseUserId(userId));
  }

  @Delete('user/:userId')
  @RequiresScope('admin')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Erase a user',
    description:
      'Deletes, in one transaction, every stored trace of the user: analytics events, sessions and derived rows, the raw ingest-log entries ' +
      'and every other store that registered for erasure. Answers 204 once committed (also for an unknown user). No record of the id is kept.',
  })
  @ApiNoContentResponse({ description: 'Erased' })
  @BadUserId()
  async erase(@Param('userId') userId: string): Promise<void> {
    await this.analytics.eraseUser(parseUserId(userId));
  }

  @Get('features')
  @ApiOperation({ summary: 'Feature usage', description: 'Every event other than session_start / session_end is an action; its type is the feature.' })
  @FromQuery()
  @ToQuery()
  @LimitQuery()
  @ApiOkResponse({ type: FeaturesReport })
  @BadParameter()
  features(@Query() query: QueryParameters): Promise<FeaturesReport> {
    return this.analytics.features(parseRange(query), parseLimit(query['limit']));
  }

  @Get('pages')
  @ApiOperation({ summary: 'Page views', description: 'page_view events by page.' })
  @FromQuery()
  @ToQuery()
  @LimitQuery()
  @ApiOkResponse({ type: PagesReport })
  @BadParameter()
  pages(@Query() query: QueryParameters): Promise<PagesReport> {
    return this.analytics.pages(parseRange(query), parseLimit(query['limit']));
  }

  @Get('funnel')
  @ApiOperation({
    summary: 'Conversion funnel',
    description:
      '`ordered` (default): for each step-1 event in [from, to], every next step is matched by the earliest event of its type whose ' +
      'timestamp is at or after the previous step’s (equal timestamps count as in order) and at most `window` after step 1, within ' +
      '[from, to]; among events with the same timestamp the one ingested first is taken. One event never serves two steps, so a ' +
      'repeated step (a → b → a) needs a second, distinct event. A user counts for the furthest step reached over all of their step-1 ' +
      'events; the earliest step-1 event reaching it gives the times. median_time_to_convert_seconds of step k is the median, over the ' +
      'users reaching step k, of the time from their step k−1 to step k (null for step 1). `any`: users who did each step at any time ' +
      'in [from, to], each step on its own (conversions may exceed 100 %; no median). Percentages are 0 when the base step has no users.',
  })
  @ApiQuery({ name: 'steps', required: true, type: String, isArray: true, description: 'Event types in order, 2-20 of them: steps=a&steps=b' })
  @ApiQuery({ name: 'window', required: false, type: String, description: 'Conversion window from step 1: like 30m, 24h, 14d (default 14d, at most 366d)' })
  @ApiQuery({ name: 'mode', required: false, enum: ['ordered', 'any'] })
  @FromQuery()
  @ToQuery()
  @ApiOkResponse({ type: FunnelReport })
  @BadParameter()
  funnel(@Query() query: QueryParameters): Promise<FunnelReport> {
    return this.analytics.funnel(parseSteps(query['steps']), parseMode(query['mode']), parseWindow(query['window']), parseRange(query));
  }

  @Get('sessions')
  @ApiOperation({
    summary: 'Session statistics',
    description:
      `Sessions whose first event is in [from, to], each with all of its events. Duration: last event − first event (markers included). ` +
      `A bounce is a session with at most one action. ${SESSIONS_DOC}`,
  })
  @FromQuery()
  @ToQuery()
  @ApiOkResponse({ type: SessionsReport })
  @BadParameter()
  sessions(@Query() query: QueryParameters): Promise<SessionsReport> {
    return this.analytics.sessions(parseRange(query));
  }

  @Get('active-users')
  @ApiOperation({
    summary: 'Daily, weekly and monthly active users',
    description:
      'One row per UTC day from the day of `from` to the day of `to` (left out: the first and last day with events). A user is active ' +
      'on a day with any event in [from, to]; WAU and MAU count the users active in the 7 and 30 days ending that day, within the range.',
  })
  @FromQuery()
  @ToQuery()
  @ApiOkResponse({ type: ActiveUsersReport })
  @BadParameter()
  activeUsers(@Query() query: QueryParameters): Promise<ActiveUsersReport> {
    return this.analytics.activeUsers(parseRange(query));
  }

  @Get('retention')
  @ApiOperation({
    summary: 'Retention cohorts',
    description:
      'Users are grouped by the UTC day or ISO week (Monday) of their first event in [from, to]; retained[k] counts those with an event ' +
      'in the k-th later interval, up to the interval holding `to` (or the latest event). Only events in [from, to] count.',
  })
  @ApiQuery({ name: 'interval', required: false, enum: ['day', 'week'], description: 'Cohort and return interval (default week)' })
  @FromQuery()
  @ToQuery()
  @ApiOkResponse({ type: RetentionReport })
  @BadParameter()
  retention(@Query() query: QueryParameters): Promise<RetentionReport> {
    return this.analytics.retention(parseRange(query), parseInterval(query['interval']));
  }
}
