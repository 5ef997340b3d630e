import { Global, Module } from '@nestjs/common';
import { GroupCommitter } from './group-committer.js';
import { IngestHooks } from './ingest-hooks.js';
import { IngestController } from './ingest.controller.js';
import { IngestService } from './ingest.service.js';
import { InternalEvents } from './internal-events.js';

@Global()
@Module({
  controllers: [IngestController],
  providers: [IngestService, GroupCommitter, IngestHooks, InternalEvents],
  exports: [IngestHooks, GroupCommitter, InternalEvents],
})
export class IngestModule {}
