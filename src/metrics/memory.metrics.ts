import { Inject, Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { getHeapSpaceStatistics } from 'node:v8';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MemoryParts } from '../common/memory-parts.js';
import { VigilMetrics } from '../common/vigil.metrics.js';
import { IngestLogRepository } from '../ingest-log/ingest-log.repository.js';

const MIB = 1024 * 1024;
/** V8's spaces of the young generation; every other space is the old generation's. */
const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

/** The shares of the memory budget by part, in bytes (src/config/memory-budget.ts). */
export function memorySharesOf(config: AppConfig): Record<string, number> {
  const { memory } = config;
  return {
    young_generation: 3 * memory.semiSpaceMebibytes * MIB,
    old_generation: memory.oldSpaceMebibytes * MIB,
    recent_entries: memory.recentEntriesBytes,
    request_bodies: config.protections.maxBodyBytesInFlight,
    detection_worker: (memory.detectionWorker.maxOldGenerationSizeMb + memory.detectionWorker.maxYoungGenerationSizeMb) * MIB,
    // SQLite's page cache, native memory: only a SQLite store has one.
    ...(config.database.dialect === 'sqlite' ? { sqlite_page_cache: config.database.sqliteCacheBytes } : {}),
  };
}

/**
 * The memory budget and its parts on /metrics: `vigil_memory_budget_bytes`, each part's share
 * (`vigil_memory_share_bytes{part}`) and its size at the scrape (`vigil_memory_part_bytes{part}`):
 * the main thread's young and old generations as V8 has them committed, the window of recent
 * ingest-log entries (its estimate, inside the old generation), the request bodies in flight, and
 * the parts other modules measure (MemoryParts: the detection worker's heap and external bytes as
 * of its last reply). SQLite's page cache shows its share only: better-sqlite3 does not report it.
 */
@Injectable()
export class MemoryMetrics {
  constructor(@Inject(APP_CONFIG) config: AppConfig, metrics: VigilMetrics, log: IngestLogRepository, measured: MemoryParts) {
    const { registry } = metrics;
    new Gauge({ name: 'vigil_memory_budget_bytes', help: 'VIGIL_MEMORY_BUDGET_MB in bytes: what the process should stay under', registers: [registry] }).set(config.memory.totalBytes);
    const shares = new Gauge({
      name: 'vigil_memory_share_bytes',
      help: 'The share of the memory budget each part is bounded by (README, "Memory")',
      labelNames: ['part'] as const,
      registers: [registry],
    });
    for (const [part, bytes] of Object.entries(memorySharesOf(config))) shares.set({ part }, bytes);
    const parts: Gauge<'part'> = new Gauge({
      name: 'vigil_memory_part_bytes',
      help: 'Bytes each part of the memory budget holds now (recent_entries is an estimate)',
      labelNames: ['part'] as const,
      registers: [registry],
      async collect() {
        // A measured part that cannot tell now (a detection thread not yet started) has no series.
        parts.reset();
        let young = 0;
        let old = 0;
        for (const space of getHeapSpaceStatistics()) {
          if (YOUNG_SPACES.has(space.space_name)) young += space.space_size;
          else old += space.space_size;
        }
        parts.set({ part: 'young_generation' }, young);
        parts.set({ part: 'old_generation' }, old);
        parts.set({ part: 'recent_entries' }, log.recentEntriesBytes);
        const bodies = await registry.getSingleMetric('vigil_http_body_bytes_in_flight')?.get();
        parts.set({ part: 'request_bodies' }, bodies?.values[0]?.value ?? 0);
        for (const [part, bytes] of measured.sizes()) parts.set({ part }, bytes);
      },
    });
  }
}
