import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { Db } from './database.js';
import { DATABASE, openDatabase, rawSqliteOf } from './database.provider.js';
import { migrateToLatest, type Migrations } from './migrator.js';
import { WalCheckpointer } from './wal-checkpointer.js';

/**
 * The database (DATABASE), migrated to the latest schema before any other module gets it,
 * and closed after every other module has shut down. It knows no feature: the app hands it
 * every feature's migrations (collectMigrations).
 */
@Global()
@Module({})
export class StorageModule implements OnModuleInit, OnApplicationShutdown {
  private readonly checkpointer: WalCheckpointer | undefined;

  static forRoot(migrations: Migrations): DynamicModule {
    return {
      module: StorageModule,
      providers: [
        {
          provide: DATABASE,
          inject: [APP_CONFIG],
          useFactory: async (config: AppConfig) => {
            const db = openDatabase(config.database);
            await migrateToLatest(db, migrations);
            return db;
          },
        },
      ],
      exports: [DATABASE],
    };
  }

  constructor(
    @Inject(DATABASE) private readonly db: Db,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const connection = rawSqliteOf(db);
    const path = config.database.sqlitePath;
    if (connection && path && path !== ':memory:') this.checkpointer = new WalCheckpointer(connection, path);
  }

  onModuleInit(): void {
    this.checkpointer?.start();
  }

  /** Runs after every other module's shutdown hook (modules shut down in reverse order of import). */
  async onApplicationShutdown(): Promise<void> {
    await this.checkpointer?.stop();
    await this.db.destroy();
  }
}
