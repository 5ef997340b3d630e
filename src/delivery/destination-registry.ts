import { Injectable } from '@nestjs/common';
import type { Destination } from './destination.js';

/**
 * Destinations enabled by configuration register here from their own modules
 * (in onModuleInit, only when their credentials are set); the delivery core
 * starts one durable queue per registered destination at application bootstrap.
 */
@Injectable()
export class DestinationRegistry {
  private readonly registered = new Map<string, Destination>();

  register(destination: Destination): void {
    if (this.registered.has(destination.name)) throw new Error(`Destination ${destination.name} registered twice`);
    this.registered.set(destination.name, destination);
  }

  get all(): Destination[] {
    return [...this.registered.values()];
  }
}
