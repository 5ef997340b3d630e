import { Module } from '@nestjs/common';
import { DatadogApiController } from './datadog-api.controller.js';
import { DatadogApiService } from './datadog-api.service.js';
import { DogStatsdListener } from './dogstatsd.listener.js';

/** The Datadog intake: the HTTP API's routes and the DogStatsD listener. */
@Module({ controllers: [DatadogApiController], providers: [DatadogApiService, DogStatsdListener] })
export class DatadogIntakeModule {}
