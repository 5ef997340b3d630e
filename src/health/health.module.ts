import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { Lifecycle, ReadinessChecks } from './health-checks.js';
import { HealthController } from './health.controller.js';

@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [ReadinessChecks, Lifecycle],
  exports: [ReadinessChecks, Lifecycle],
})
export class HealthModule {}
