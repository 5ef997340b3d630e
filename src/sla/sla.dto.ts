import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** OpenAPI shapes of the SLA answers (documentation only; the service builds plain objects). */
export class LatencyDto {
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'p95 over the window: the duration at rank ⌊0.95·(n−1)⌋ of its n requests, exact while n ≤ 100, else within 1 % (see relative_error_bound)',
  })
  p95_ms!: number | null;
  @ApiProperty({ nullable: true, type: Number }) p95_target_ms!: number | null;
  @ApiProperty({ nullable: true, type: Boolean }) p95_ok!: boolean | null;
  @ApiProperty({ nullable: true, type: Number, description: 'p99 over the window, as p95_ms' }) p99_ms!: number | null;
  @ApiProperty({ nullable: true, type: Number }) p99_target_ms!: number | null;
  @ApiProperty({ nullable: true, type: Boolean }) p99_ok!: boolean | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    enum: [0, 0.01],
    description: 'Bound on the relative error of p95_ms and p99_ms: 0 when exact (the window holds at most 100 requests, each stored with its duration), 0.01 otherwise; null without data',
  })
  relative_error_bound!: number | null;
}

export class PercentMeasureDto {
  @ApiProperty({ nullable: true, type: Number, description: 'Rounded to 3 decimals' }) current_percent!: number | null;
  @ApiProperty({ nullable: true, type: Number }) target_percent!: number | null;
  @ApiProperty({ nullable: true, type: Boolean }) ok!: boolean | null;
}

export class RequestCountsDto {
  @ApiProperty() total!: number;
  @ApiProperty() successful!: number;
  @ApiProperty() failed!: number;
}

export class SlaMetricsDto {
  @ApiProperty({ type: LatencyDto }) latency!: LatencyDto;
  @ApiProperty({ type: PercentMeasureDto }) availability!: PercentMeasureDto;
  @ApiProperty({ type: PercentMeasureDto }) error_rate!: PercentMeasureDto;
  @ApiProperty({ type: RequestCountsDto }) requests!: RequestCountsDto;
}

export class ErrorBudgetDto {
  @ApiProperty({ enum: ['1h', '24h', '7d', '30d'], description: "The status's window (the one asked for, else the target's): the budget is counted over its requests" })
  window!: string;
  @ApiProperty({ description: 'Requests in the window' }) total_requests!: number;
  @ApiProperty({ description: '(1 − availability target) × requests in the window' }) allowed_failures!: number;
  @ApiProperty() consumed_failures!: number;
  @ApiProperty() consumed_percent!: number;
  @ApiProperty() remaining_failures!: number;
  @ApiProperty({ description: 'Negative once the budget is overspent' }) remaining_percent!: number;
}

export class BurnRateAlertDto {
  @ApiProperty({ enum: ['page', 'ticket'] }) tier!: string;
  @ApiProperty() long_window!: string;
  @ApiProperty() short_window!: string;
  @ApiProperty() threshold!: number;
  @ApiProperty({ description: 'Share of a 30-day budget this burn consumes over the long window' }) budget_consumed_percent!: number;
  @ApiProperty() long_burn_rate!: number;
  @ApiProperty() short_burn_rate!: number;
  @ApiProperty({ description: 'Both windows burn above the threshold' }) firing!: boolean;
}

export class BurnRateDto {
  @ApiProperty({ description: 'Burn rate per window: 5m, 30m, 1h, 2h, 6h, 1d, 3d', type: 'object', additionalProperties: { type: 'number' } })
  windows!: Record<string, number>;
  @ApiProperty({ type: [BurnRateAlertDto], description: 'SRE workbook multiwindow, multi-burn-rate pairs' }) alerts!: BurnRateAlertDto[];
  @ApiProperty({ nullable: true, enum: ['page', 'ticket'] }) firing_tier!: string | null;
}

export class SlaStatusDto {
  @ApiProperty() service!: string;
  @ApiProperty({ nullable: true, type: String, description: "The target's display name; null when the service has no target" }) target!: string | null;
  @ApiPropertyOptional({ description: 'Whether status is meeting; absent when the service has no target (status no_target)' }) sla_met?: boolean;
  @ApiProperty({ enum: ['meeting', 'violated', 'no_data', 'no_target'], description: 'no_target: measured, but the service has no target to meet' }) status!: string;
  @ApiProperty({ enum: ['1h', '24h', '7d', '30d'] }) window!: string;
  @ApiProperty({ type: SlaMetricsDto }) metrics!: SlaMetricsDto;
  @ApiProperty({ type: ErrorBudgetDto, nullable: true }) error_budget!: ErrorBudgetDto | null;
  @ApiProperty({ type: BurnRateDto, nullable: true }) burn_rate!: BurnRateDto | null;
  @ApiProperty({ description: "Hours from the service's first request in the window (or the window start) to now" }) uptime_hours!: number;
}

export class SlaReportDto {
  @ApiProperty({ description: 'ISO 8601' }) generated_at!: string;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/SlaStatusDto' } }) services!: Record<string, SlaStatusDto>;
}

export class SlaTargetDto {
  @ApiProperty() service!: string;
  @ApiProperty() name!: string;
  @ApiProperty() p95_ms!: number;
  @ApiProperty() p99_ms!: number;
  @ApiProperty() availability_percent!: number;
  @ApiProperty() error_rate_percent!: number;
  @ApiProperty({ enum: ['1h', '24h', '7d', '30d'] }) window!: string;
  @ApiPropertyOptional({ enum: ['default', 'file', 'api'] }) source!: string;
}
