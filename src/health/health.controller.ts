import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { sql } from 'kysely';
import type { Db } from '../storage/database.js';
import { DATABASE } from '../storage/database.provider.js';
import { Lifecycle, ReadinessChecks } from './health-checks.js';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: ReadinessChecks,
    private readonly lifecycle: Lifecycle,
    @Inject(DATABASE) private readonly db: Db,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'The process is up and its event loop turns' })
  live() {
    return this.health.check([() => this.indicators.check('process').up({ uptime_seconds: Math.round(process.uptime()) })]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Storage answers, no delivery queue is full, not shutting down' })
  ready() {
    return this.health.check([
      () => {
        const session = this.indicators.check('lifecycle');
        return this.lifecycle.isDraining ? session.down({ message: 'shutting down' }) : session.up();
      },
      () =>
        this.indicators
          .check('storage')
          .attempt(async () => {
            await sql`select 1`.execute(this.db);
            return {};
          })
          .withTimeout(2000),
      ...this.readiness.checks.map((check) => async (): Promise<HealthIndicatorResult> => {
        const problem = await check.problem();
        const session = this.indicators.check(check.name);
        return problem === null ? session.up() : session.down({ message: problem });
      }),
    ]);
  }
}
