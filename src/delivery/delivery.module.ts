import { Global, Module } from '@nestjs/common';
import { DeadLettersController } from './dead-letters.controller.js';
import { DeliveryMetrics } from './delivery.metrics.js';
import { DeliveryRepository } from './delivery.repository.js';
import { DeliveryService } from './delivery.service.js';
import { DestinationRegistry } from './destination-registry.js';
import { DESTINATION_PLUGINS } from './destinations.list.js';

/**
 * The delivery core: every destination plug-in's module (destinations.list.ts)
 * is imported here, so that they are wired wherever the core is; each
 * registers its destination with DestinationRegistry in onModuleInit when
 * configured. DeliveryService starts their queues at application bootstrap and
 * stops them before shutdown.
 */
@Global()
@Module({
  imports: DESTINATION_PLUGINS.map(async (plugin) => ({ module: await plugin.module() })),
  controllers: [DeadLettersController],
  providers: [DestinationRegistry, DeliveryRepository, DeliveryMetrics, DeliveryService],
  exports: [DestinationRegistry, DeliveryService, DeliveryMetrics],
})
export class DeliveryModule {}
