import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from './app.config.js';

/** Injection token for the typed AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/** Provides the AppConfig parsed in main.ts (or built by a test) to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}
