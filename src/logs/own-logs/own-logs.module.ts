import { Module, type DynamicModule } from '@nestjs/common';
import { OwnLogBuffer } from './own-log.buffer.js';
import { OwnLogShipper } from './own-log.shipper.js';

/**
 * VIGIL_SHIP_OWN_LOGS. The buffer is made before the application (the logger
 * writes into it from the first line: see loggingOptions) and handed in here.
 */
@Module({})
export class OwnLogsModule {
  static forRoot(buffer: OwnLogBuffer): DynamicModule {
    return { module: OwnLogsModule, providers: [{ provide: OwnLogBuffer, useValue: buffer }, OwnLogShipper], exports: [OwnLogShipper] };
  }
}
