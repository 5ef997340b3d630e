import { Global, Module } from '@nestjs/common';
import { DatadogModule } from '../apm/datadog/datadog.module.js';
import { NewRelicModule } from '../apm/newrelic/newrelic.module.js';
import { DeadLettersController } from './dead-letters.controller.js';
import { DeliveryMetrics } from './delivery.metrics.js';
import { DeliveryRepository } from './delivery.repository.js';
import { DeliveryService } from './delivery.service.js';
import { DestinationRegistry } from './destination-registry.js';

/**
 * The delivery core: destinations register with DestinationRegistry in their
 * modules' onModuleInit; DeliveryService starts their queues at application
 * bootstrap and stops them before shutdown. The APM destination modules are
 * imported here so that they are wired wherever the core is (importing them
 * again from AppModule is harmless: Nest keeps one instance of each).
 */
@Global()
@Module({
  imports: [DatadogModule, NewRelicModule],
  controllers: [DeadLettersController],
  providers: [DestinationRegistry, DeliveryRepository, DeliveryMetrics, DeliveryService],
  exports: [DestinationRegistry, DeliveryService, DeliveryMetrics],
})
export class DeliveryModule {}
