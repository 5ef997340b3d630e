import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import type { DestinationStream } from 'pino';
import { AnalyticsModule } from './analytics/analytics.module.js';
import { AnomaliesModule } from './anomalies/anomalies.module.js';
import { ApiKeyRing } from './common/api-keys.js';
import { Clock } from './common/clock.js';
import { HttpObservers } from './common/http-observers.js';
import { MemoryParts } from './common/memory-parts.js';
import { UserErasure } from './common/user-erasure.js';
import { VigilLogger } from './common/vigil-logger.js';
import { VigilMetrics } from './common/vigil.metrics.js';
import type { AppConfig } from './config/app.config.js';
import { APP_CONFIG, ConfigModule } from './config/config.module.js';
import { DeliveryModule } from './delivery/delivery.module.js';
import { HealthModule } from './health/health.module.js';
import { IngestModule } from './ingest/ingest.module.js';
import { IngestLogModule } from './ingest-log/ingest-log.module.js';
import { INTAKE_PLUGINS } from './intakes/intakes.list.js';
import { APP_MIGRATIONS } from './app.migrations.js';
import { createRootLogger } from './logging.options.js';
import { OwnLogBuffer } from './logs/own-logs/own-log.buffer.js';
import { OwnLogsModule } from './logs/own-logs/own-logs.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { SlaModule } from './sla/sla.module.js';
import { StorageModule } from './storage/storage.module.js';

/** What a test may swap: every side effect Vigil has is reachable from here. */
export interface AppOverrides {
  clock?: Clock;
  logStream?: DestinationStream;
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, overrides: AppOverrides = {}): DynamicModule {
    const ownLogs = new OwnLogBuffer(config.shipOwnLogs);
    const common: Provider[] = [
      // The app's logger (app.factory.ts hands it to Nest): JSON lines through pino.
      { provide: VigilLogger, useValue: new VigilLogger(createRootLogger(config, overrides.logStream, ownLogs)) },
      { provide: Clock, useValue: overrides.clock ?? new Clock() },
      // The one Prometheus registry: every feature registers its vigil_* metrics on it.
      VigilMetrics,
      // Sizes of the memory budget's parts, measured by the modules that own them (for /metrics).
      MemoryParts,
      HttpObservers,
      UserErasure,
      {
        provide: ApiKeyRing,
        inject: [APP_CONFIG],
        useFactory: (appConfig: AppConfig) =>
          new ApiKeyRing({ ingest: appConfig.auth.ingestKeys, read: appConfig.auth.readKeys, admin: appConfig.auth.adminKeys }),
      },
    ];
    return {
      module: AppModule,
      global: true,
      imports: [
        ConfigModule.forRoot(config),
        ScheduleModule.forRoot(),
        MetricsModule,
        StorageModule.forRoot(APP_MIGRATIONS),
        IngestLogModule,
        HealthModule,
        IngestModule,
        ...INTAKE_PLUGINS.map(async (plugin) => ({ module: await plugin.module() })),
        DeliveryModule.forRoot(config),
        OwnLogsModule.forRoot(ownLogs),
        SlaModule,
        AnomaliesModule,
        AnalyticsModule,
      ],
      providers: common,
      exports: common,
    };
  }
}
