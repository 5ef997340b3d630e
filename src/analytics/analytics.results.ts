import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * Response bodies of /analytics/* (snake_case, as the contract fixes them) and
 * their OpenAPI schemas. Percentages are rounded to 2 decimals, seconds to 3
 * (whole milliseconds).
 */

export function percent(value: number): number {
  return Math.round(value * 100) / 100;
}

export function seconds(milliseconds: number): number {
  return Math.round(milliseconds) / 1000;
}

export class NoDataReport {
  @ApiProperty() user_id!: string;
  @ApiProperty({ enum: [true] }) no_data!: true;
}

export class UserReport {
  @ApiProperty() user_id!: string;
  @ApiProperty({ description: 'Events other than session_start / session_end' }) total_actions!: number;
  @ApiProperty({ description: 'Sessions of the user (given sessionIds and inferred ones)' }) total_sessions!: number;
  @ApiProperty({ description: 'Mean of (last event − first event) over the sessions, 0 with none' }) avg_session_duration_seconds!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, description: 'Actions per type, most frequent first' })
  action_breakdown!: Record<string, number>;
  @ApiProperty({
    type: 'array',
    nullable: true,
    items: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
    description: '[type, count] of the most frequent action (ties: the type first in code-point order); null with no action',
  })
  most_common_action!: [string, number] | null;
  @ApiProperty({ format: 'date-time' }) first_seen!: string;
  @ApiProperty({ format: 'date-time' }) last_seen!: string;
}

export class FeatureUsage {
  @ApiProperty({ description: 'The action type' }) feature!: string;
  @ApiProperty() usage_count!: number;
  @ApiProperty({ description: 'usage_count / total_actions × 100' }) percentage!: number;
  @ApiProperty() unique_users!: number;
}

export class FeaturesReport {
  @ApiProperty() total_actions!: number;
  @ApiProperty() unique_features!: number;
  @ApiProperty({ type: [FeatureUsage], description: 'Most used first; ties in code-point order of the feature' }) top_features!: FeatureUsage[];
}

export class PageUsage {
  @ApiProperty() page!: string;
  @ApiProperty() views!: number;
  @ApiProperty({ description: 'views / total_page_views × 100' }) percentage!: number;
  @ApiProperty() unique_users!: number;
}

export class PagesReport {
  @ApiProperty() total_page_views!: number;
  @ApiProperty() unique_pages!: number;
  @ApiProperty({ type: [PageUsage], description: 'Most viewed first; ties in code-point order of the page' }) top_pages!: PageUsage[];
}

export class FunnelConversion {
  @ApiProperty() from!: string;
  @ApiProperty() to!: string;
  @ApiProperty({ description: 'Percent of the previous step’s users who reached this step' }) conversion_rate!: number;
}

export class FunnelStep {
  @ApiProperty() step!: string;
  @ApiProperty() users!: number;
  @ApiProperty() conversion_from_previous_percent!: number;
  @ApiProperty() conversion_from_start_percent!: number;
  @ApiProperty({
    nullable: true,
    type: 'number',
    description: 'ordered mode: median over converting users of the time from the previous step to this one; null for step 1, in any mode, or with no users',
  })
  median_time_to_convert_seconds!: number | null;
}

export class FunnelReport {
  @ApiProperty({ enum: ['ordered', 'any'] }) mode!: 'ordered' | 'any';
  @ApiProperty() window_seconds!: number;
  @ApiProperty({ type: [String] }) funnel_steps!: string[];
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'Users per step, keyed by step name; a name repeated in the funnel is keyed `name#k` (k = its 1-based position) after its first occurrence',
  })
  users_per_step!: Record<string, number>;
  @ApiProperty({ type: [FunnelConversion] }) conversions!: FunnelConversion[];
  @ApiProperty({ type: [FunnelStep] }) steps!: FunnelStep[];
}

export class SessionsReport {
  @ApiProperty({ description: 'Sessions that started in [from, to]' }) total_sessions!: number;
  @ApiProperty() avg_session_duration_seconds!: number;
  @ApiProperty({ description: 'Median duration (mean of the two middle ones for an even count); 0 with no session' })
  median_session_duration_seconds!: number;
  @ApiProperty({ description: 'Percent of sessions with at most one action' }) bounce_rate_percent!: number;
  @ApiProperty({ description: 'page_view events per session (2 decimals)' }) pages_per_session!: number;
}

export class ActiveUsersDay {
  @ApiProperty({ format: 'date' }) date!: string;
  @ApiProperty({ description: 'Distinct users with an event that day (UTC)' }) dau!: number;
  @ApiProperty({ description: 'Distinct users with an event in the 7 days ending that day' }) wau!: number;
  @ApiProperty({ description: 'Distinct users with an event in the 30 days ending that day' }) mau!: number;
}

export class ActiveUsersReport {
  @ApiPropertyOptional({ format: 'date', nullable: true, type: 'string' }) from!: string | null;
  @ApiPropertyOptional({ format: 'date', nullable: true, type: 'string' }) to!: string | null;
  @ApiProperty({ description: 'Distinct users with an event in the range' }) unique_users!: number;
  @ApiProperty({ type: [ActiveUsersDay] }) days!: ActiveUsersDay[];
}

export class RetentionCohort {
  @ApiProperty({ format: 'date', description: 'First day of the cohort’s day or week (weeks start on Monday, UTC)' }) cohort!: string;
  @ApiProperty({ description: 'Users first seen in that interval' }) users!: number;
  @ApiProperty({ type: [Number], description: 'retained[k]: cohort users with an event k intervals later (k = 0 is the cohort itself)' })
  retained!: number[];
  @ApiProperty({ type: [Number], description: 'retained[k] / users × 100' }) retention_percent!: number[];
}

export class RetentionReport {
  @ApiProperty({ enum: ['day', 'week'] }) interval!: 'day' | 'week';
  @ApiProperty({ type: [RetentionCohort], description: 'One row per cohort, oldest first; each runs to the interval holding `to` (or the latest event)' })
  cohorts!: RetentionCohort[];
}
