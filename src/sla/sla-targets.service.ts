import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { DEFAULT_TARGETS, type SlaTarget } from './sla-target.js';
import { SlaTargetsRepository } from './sla-targets.repository.js';

/**
 * The effective targets: the defaults, overridden or removed by the targets file
 * (read once at startup), overridden or removed by the API (stored, so every
 * replica and every restart sees them). The API has the last word: a DELETE
 * removes a default or file target too, until a PUT sets it again.
 */
@Injectable()
export class SlaTargetsService implements OnModuleInit {
  private readonly logger = new Logger('SlaTargets');
  private configured = new Map<string, SlaTarget>();

  constructor(
    private readonly repository: SlaTargetsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** The targets file was read and validated with the rest of the configuration. */
  onModuleInit(): void {
    const configured = new Map(DEFAULT_TARGETS.map((target) => [target.service, { ...target }]));
    const path = this.config.sla.targetsFile;
    const file = this.config.sla.file;
    if (path && file) {
      for (const service of file.removed) configured.delete(service);
      for (const target of file.targets) configured.set(target.service, target);
      this.logger.log(`Loaded ${file.targets.length} SLA target(s) from ${path}${file.removed.length ? `, removed ${file.removed.join(', ')}` : ''}`);
    }
    this.configured = configured;
  }

  async all(): Promise<Map<string, SlaTarget>> {
    const targets = new Map(this.configured);
    for (const stored of await this.repository.all()) {
      if (stored.target) targets.set(stored.service, stored.target);
      else targets.delete(stored.service);
    }
    return targets;
  }

  async get(service: string): Promise<SlaTarget | null> {
    return (await this.all()).get(service) ?? null;
  }

  async put(target: SlaTarget): Promise<SlaTarget> {
    await this.repository.upsert(target, false, this.clock.now());
    return { ...target, source: 'api' };
  }

  /** Removes the service's target; false when it had none. */
  async delete(service: string): Promise<boolean> {
    const existing = await this.get(service);
    if (!existing) return false;
    await this.repository.upsert({ ...existing, service }, true, this.clock.now());
    return true;
  }
}
