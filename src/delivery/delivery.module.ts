import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '../config/app.config.js';
import { DeadLettersController } from './dead-letters.controller.js';
import { DeliveryMetrics } from './delivery.metrics.js';
import { DeliveryRepository } from './delivery.repository.js';
import { DeliveryService } from './delivery.service.js';
import { DestinationRegistry } from './destination-registry.js';
import { settingsOf } from './destination.plugin.js';
import { DESTINATION_PLUGINS } from './destinations.list.js';

/**
 * The delivery core: the module of every configured destination plug-in (destinations.list.ts)
 * is imported here, so that they are wired wherever the core is; each registers its destination
 * with DestinationRegistry in onModuleInit. A destination that is not configured is never loaded:
 * importing them all held ~25 MiB of heap for nothing (the Datadog API client's thousands of
 * modules alone kept ~8 MiB of source text). DeliveryService starts their queues at application
 * bootstrap and stops them before shutdown.
 */
@Global()
@Module({
  controllers: [DeadLettersController],
  providers: [DestinationRegistry, DeliveryRepository, DeliveryMetrics, DeliveryService],
  exports: [DestinationRegistry, DeliveryService, DeliveryMetrics],
})
export class DeliveryModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: DeliveryModule,
      imports: DESTINATION_PLUGINS.filter((plugin) => settingsOf(plugin, config) !== null).map(async (plugin) => ({ module: await plugin.module() })),
    };
  }
}
