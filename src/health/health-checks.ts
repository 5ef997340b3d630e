import { Injectable } from '@nestjs/common';

/** A readiness check another module contributes (delivery: "queues not full"). */
export interface ReadinessCheck {
  readonly name: string;
  /** Null when healthy, else why not. */
  problem(): Promise<string | null> | string | null;
}

@Injectable()
export class ReadinessChecks {
  readonly checks: ReadinessCheck[] = [];
  add(check: ReadinessCheck): void {
    this.checks.push(check);
  }
}

/** Set when shutdown begins: readiness fails and new ingest answers 503. */
@Injectable()
export class Lifecycle {
  private draining = false;
  get isDraining(): boolean {
    return this.draining;
  }
  beginDraining(): void {
    this.draining = true;
  }
}
