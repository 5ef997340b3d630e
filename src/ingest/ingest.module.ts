import { Global, Module } from '@nestjs/common';
import { GroupCommitter } from './group-committer.js';
import { IngestHooks } from './ingest-hooks.js';
import { IngestService } from './ingest.service.js';
import { InternalEvents } from './internal-events.js';

@Global()
@Module({
  providers: [IngestService, GroupCommitter, IngestHooks, InternalEvents],
  exports: [IngestService, IngestHooks, GroupCommitter, InternalEvents],
})
export class IngestModule {}
