import { Global, Module, type OnModuleInit } from '@nestjs/common';
import { UserErasure } from '../common/user-erasure.js';
import { ConsumerPositionsRepository } from './consumer-positions.repository.js';
import { IngestLogRepository } from './ingest-log.repository.js';
import { ConsumerRegistry, DerivedStateRunner, IngestLogSignal } from './log-consumers.js';
import { RetentionJob } from './retention.job.js';

/**
 * The ingest log: append and read (IngestLogRepository), consumers' positions, the runner
 * of derived-state consumers, the commit signal, and retention. Global, like the database
 * it sits on: every feature reads the log. Imported after StorageModule, so it shuts down
 * before the database closes.
 */
@Global()
@Module({
  providers: [IngestLogRepository, ConsumerPositionsRepository, ConsumerRegistry, IngestLogSignal, DerivedStateRunner, RetentionJob],
  exports: [IngestLogRepository, ConsumerPositionsRepository, ConsumerRegistry, IngestLogSignal, DerivedStateRunner, RetentionJob],
})
export class IngestLogModule implements OnModuleInit {
  constructor(
    private readonly log: IngestLogRepository,
    private readonly erasure: UserErasure,
  ) {}

  onModuleInit(): void {
    this.erasure.register('ingest_log', (trx, userId) => this.log.deleteUser(trx, userId));
  }
}
