import { Global, Module } from '@nestjs/common';
import { BufferingIntakes } from './buffering-intakes.js';
import { GroupCommitter } from './group-committer.js';
import { IngestHooks } from './ingest-hooks.js';
import { IngestService } from './ingest.service.js';
import { InternalEvents } from './internal-events.js';

@Global()
@Module({
  providers: [IngestService, GroupCommitter, IngestHooks, InternalEvents, BufferingIntakes],
  exports: [IngestService, IngestHooks, GroupCommitter, InternalEvents, BufferingIntakes],
})
export class IngestModule {}
