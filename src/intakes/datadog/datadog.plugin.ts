import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { toInt } from '../../config/variable.transforms.js';
import type { IntakePlugin } from '../intake.plugin.js';

export interface DatadogIntakeSettings {
  dogstatsd: {
    /** UDP port; null: DogStatsD is off. */
    port: number | null;
    host: string;
    receiveBufferBytes: number;
    /** Items received and not yet committed, at most; past it datagrams are dropped and counted. */
    maxPendingItems: number;
    /** Counts and gauges are aggregated per series over this interval, then everything pending is committed. */
    flushIntervalMs: number;
    /** Series aggregated in one interval, at most; past it the interval closes early. */
    maxAggregatedSeries: number;
    /** A set's distinct members are counted over this interval. */
    setIntervalMs: number;
    maxSetSeries: number;
    maxSetMembers: number;
  };
}

export class DatadogIntakeVariables {
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535) VIGIL_DOGSTATSD_PORT?: number;
  @IsOptional() @IsString() VIGIL_DOGSTATSD_HOST?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(65_536) @Max(1 << 30) VIGIL_DOGSTATSD_RECEIVE_BUFFER_BYTES?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) @Max(10_000_000) VIGIL_DOGSTATSD_MAX_PENDING_ITEMS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(10) @Max(60_000) VIGIL_DOGSTATSD_FLUSH_INTERVAL_MS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(3_600_000) VIGIL_DOGSTATSD_SET_INTERVAL_MS?: number;
}

const numberOr = (value: number | undefined, fallback: number) => (typeof value === 'number' ? value : fallback);

/** The Datadog intake: DogStatsD over UDP (off unless VIGIL_DOGSTATSD_PORT is set) and the Datadog HTTP API. */
export const datadogIntakePlugin: IntakePlugin<DatadogIntakeSettings, DatadogIntakeVariables> = {
  name: 'datadog',
  variables: DatadogIntakeVariables,
  settings: (env) => ({
    dogstatsd: {
      port: typeof env.VIGIL_DOGSTATSD_PORT === 'number' ? env.VIGIL_DOGSTATSD_PORT : null,
      host: env.VIGIL_DOGSTATSD_HOST ?? '0.0.0.0',
      receiveBufferBytes: numberOr(env.VIGIL_DOGSTATSD_RECEIVE_BUFFER_BYTES, 8 * 1024 * 1024),
      maxPendingItems: numberOr(env.VIGIL_DOGSTATSD_MAX_PENDING_ITEMS, 100_000),
      flushIntervalMs: numberOr(env.VIGIL_DOGSTATSD_FLUSH_INTERVAL_MS, 1000),
      setIntervalMs: numberOr(env.VIGIL_DOGSTATSD_SET_INTERVAL_MS, 10_000),
      maxAggregatedSeries: 100_000,
      maxSetSeries: 1000,
      maxSetMembers: 10_000,
    },
  }),
  module: () => import('./datadog.module.js').then((loaded) => loaded.DatadogIntakeModule),
};
