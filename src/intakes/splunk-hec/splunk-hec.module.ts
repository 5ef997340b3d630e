import { Module } from '@nestjs/common';
import { SplunkHecController, SplunkHecHealthController } from './splunk-hec.controller.js';
import { SplunkHecService } from './splunk-hec.service.js';

/** The Splunk HEC intake. IngestService comes from the global IngestModule. */
@Module({ controllers: [SplunkHecController, SplunkHecHealthController], providers: [SplunkHecService] })
export class SplunkHecIntakeModule {}
