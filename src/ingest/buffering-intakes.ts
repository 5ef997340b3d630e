import { Injectable, Logger } from '@nestjs/common';

/**
 * Intakes that hold received items in memory before handing them to ingest (DogStatsD, whose
 * UDP datagrams have no answer to wait for) register here, so that shutdown commits what they
 * hold: main.ts calls flushAll() after HTTP has stopped taking requests and before the group
 * committer stops. A flush that fails is logged; shutdown goes on.
 */
@Injectable()
export class BufferingIntakes {
  private readonly logger = new Logger('BufferingIntakes');
  private readonly flushes = new Map<string, () => Promise<void>>();

  register(name: string, flush: () => Promise<void>): void {
    this.flushes.set(name, flush);
  }

  async flushAll(): Promise<void> {
    for (const [name, flush] of this.flushes) {
      try {
        await flush();
      } catch (error) {
        this.logger.error({ err: error, intake: name }, `Intake ${name} could not commit what it held at shutdown`);
      }
    }
  }
}
