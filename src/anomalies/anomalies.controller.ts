import { Controller, Get, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RequiresScope } from '../common/auth.guard.js';
import { ApiBadParameterResponse, ApiServedResponses } from '../common/api-responses.js';
import { DEFAULT_LIMIT, MAX_LIMIT, parseAnomalyQuery } from './anomalies.params.js';
import { AnomaliesList, AnomalyReportBody, MetricReport } from './anomalies.results.js';
import { AnomaliesService } from './anomalies.service.js';

const RANGE_DOC = "Inclusive bound on the point's own time: ISO 8601 (UTC when no zone is given) or epoch milliseconds";

@ApiTags('anomalies')
@ApiServedResponses()
@ApiExtraModels(MetricReport)
@RequiresScope('read')
@Controller('anomalies')
export class AnomaliesController {
  constructor(private readonly anomalies: AnomaliesService) {}

  @Get()
  @ApiOperation({
    summary: 'Detected anomalies, newest point first',
    description:
      'Every metric series (name + tags) and every service\u2019s request latency (metric "request.duration_ms", tag service) is modelled; ' +
      'each point is judged by its own timestamp, after a warm-up of 150 points per series.',
  })
  @ApiQuery({ name: 'metric', required: false, type: String, description: 'Only this metric name (all its series)' })
  @ApiQuery({ name: 'from', required: false, type: String, description: RANGE_DOC })
  @ApiQuery({ name: 'to', required: false, type: String, description: RANGE_DOC })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: `1-${MAX_LIMIT} (default ${DEFAULT_LIMIT})` })
  @ApiOkResponse({ type: AnomaliesList })
  @ApiBadParameterResponse()
  list(@Query() query: Record<string, unknown>): Promise<AnomaliesList> {
    return this.anomalies.list(parseAnomalyQuery(query));
  }

  @Get('report')
  @ApiOperation({
    summary: 'Detection report by metric name',
    description:
      'Counters are exact: every point counts once, across restarts. data_points: points the models learnt from; points_processed: every ' +
      'point seen, including late points (older than the series\u2019 previous one) that the model ignores. mean/std/min/max: over every ' +
      'processed point. A metric sent with several tag sets sums over its series. At VIGIL_ANOMALY_MAX_SERIES a new series evicts the ' +
      'series idle longest in data time, if idle VIGIL_ANOMALY_SERIES_IDLE_SECONDS (series_evicted; its counters leave the report), else ' +
      'it is refused: its points are only in points_over_cap.',
  })
  @ApiOkResponse({ type: AnomalyReportBody })
  report(): AnomalyReportBody {
    return this.anomalies.report();
  }
}
