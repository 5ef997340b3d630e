import type { INestApplicationContext } from '@nestjs/common';
import { after, before } from 'node:test';
import { NestFactory } from '@nestjs/core';
import { Global, Module } from '@nestjs/common';
import { ManualClock, Clock } from '../../src/common/clock.js';
import { UserErasure } from '../../src/common/user-erasure.js';
import { ConfigModule } from '../../src/config/config.module.js';
import { loadConfig } from '../../src/config/app.config.js';
import { StorageModule } from '../../src/storage/storage.module.js';
import { APP_MIGRATIONS } from '../../src/app.migrations.js';
import { IngestLogModule } from '../../src/ingest-log/ingest-log.module.js';
import { IngestLogRepository } from '../../src/ingest-log/ingest-log.repository.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import type { TestDb as Db } from './all-tables.js';
import { looseEntries } from './stored-entries.js';
import type { TestDatabase } from './databases.js';

/** The ingest log's medium tests: storage and the ingest log on `url`, with a manual clock and a 7-day retention. */
async function storageContext(url: string, clock: ManualClock): Promise<INestApplicationContext> {
  @Global()
  @Module({
    imports: [ConfigModule.forRoot(loadConfig({ DATABASE_URL: url, VIGIL_RETENTION_DAYS: '7' })), StorageModule.forRoot(APP_MIGRATIONS), IngestLogModule],
    providers: [{ provide: Clock, useValue: clock }, UserErasure],
    exports: [Clock, UserErasure],
  })
  class TestModule {}
  const context = await NestFactory.createApplicationContext(TestModule, { logger: false, abortOnError: false });
  return context;
}

/** Appends `values` as one transaction of `kind` entries ({ name: 'm', value }) at the clock's time. */
function valueAppender(context: INestApplicationContext, clock: ManualClock) {
  return async (values: number[], kind: 'metric' | 'log' = 'metric', userId: string | null = null): Promise<void> => {
    const db = context.get<Db>(DATABASE);
    await db.transaction().execute((trx) =>
      context.get(IngestLogRepository).append(
        trx,
        looseEntries(values.map((value) => ({ kind, eventTime: clock.now(), userId, item: { name: 'm', value } }))),
        clock.now(),
      ),
    );
  };
}

/**
 * Inside a describe: a new database from `make` and its storage context for the suite's tests
 * (`context` is set once the suite's before hook ran), closed and dropped after them.
 */
export function ingestLogSuite(make: () => Promise<TestDatabase>, clock: ManualClock) {
  let database: TestDatabase;
  let context: INestApplicationContext;
  before(async () => {
    database = await make();
    context = await storageContext(database.url, clock);
  });
  after(async () => {
    await context.close();
    await database.drop();
  });
  return {
    get context(): INestApplicationContext {
      return context;
    },
    append: (values: number[], kind?: 'metric' | 'log', userId?: string | null) => valueAppender(context, clock)(values, kind, userId),
  };
}
