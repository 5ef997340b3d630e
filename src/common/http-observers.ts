import { Injectable } from '@nestjs/common';

/** One finished request to Vigil's own HTTP API. */
export interface ServedRequest {
  /** Route pattern (`/sla/status/:service`), or `unmatched`. */
  route: string;
  method: string;
  statusCode: number;
  durationMs: number;
  finishedAt: number;
}

/**
 * Listeners for Vigil's own served requests (the SLA module counts them as
 * service `vigil`). Called on every response: listeners must be O(1) and must
 * not throw.
 */
@Injectable()
export class HttpObservers {
  private readonly listeners: Array<(request: ServedRequest) => void> = [];
  add(listener: (request: ServedRequest) => void): void {
    this.listeners.push(listener);
  }
  notify(request: ServedRequest): void {
    for (const listener of this.listeners) listener(request);
  }
}
