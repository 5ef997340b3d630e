import { Global, Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { UserErasure } from '../common/user-erasure.js';
import type { Kysely } from 'kysely';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ConsumerPositionsRepository } from './consumer-positions.repository.js';
import type { Database } from './database.js';
import { DATABASE, openDatabase, rawSqliteOf } from './database.provider.js';
import { IngestLogRepository } from './ingest-log.repository.js';
import { ConsumerRegistry, DerivedStateRunner, IngestLogSignal } from './log-consumers.js';
import { migrateToLatest } from './migrator.js';
import { RetentionJob } from './retention.job.js';
import { WalCheckpointer } from './wal-checkpointer.js';

@Global()
@Module({
  providers: [
    {
      provide: DATABASE,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => {
        const db = openDatabase(config.database);
        await migrateToLatest(db);
        return db;
      },
    },
    IngestLogRepository,
    ConsumerPositionsRepository,
    ConsumerRegistry,
    IngestLogSignal,
    DerivedStateRunner,
    RetentionJob,
  ],
  exports: [DATABASE, IngestLogRepository, ConsumerPositionsRepository, ConsumerRegistry, IngestLogSignal, DerivedStateRunner, RetentionJob],
})
export class StorageModule implements OnModuleInit, OnApplicationShutdown {
  private readonly checkpointer: WalCheckpointer | undefined;

  constructor(
    @Inject(DATABASE) private readonly db: Kysely<Database>,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly log: IngestLogRepository,
    private readonly erasure: UserErasure,
  ) {
    const connection = rawSqliteOf(db);
    const path = config.database.sqlitePath;
    if (connection && path && path !== ':memory:') this.checkpointer = new WalCheckpointer(connection, path);
  }

  onModuleInit(): void {
    this.checkpointer?.start();
    this.erasure.register('ingest_log', (trx, userId) => this.log.deleteUser(trx, userId));
  }

  /** Runs after every other module's shutdown hook (modules shut down in reverse order of import). */
  async onApplicationShutdown(): Promise<void> {
    await this.checkpointer?.stop();
    await this.db.destroy();
  }
}
