import { Transform } from 'class-transformer';
import { IsBooleanString, IsInt, IsOptional, Max, Min } from 'class-validator';
import { booleanOf, toInt } from '../../config/variable.transforms.js';
import type { IntakePlugin } from '../intake.plugin.js';

export interface SplunkHecSettings {
  /** `?token=` in the URL is accepted as the credential (Splunk's allowQueryStringAuth); off by default. */
  allowQueryToken: boolean;
  /** Indexer-acknowledgement channels remembered at once (see HecAcknowledgements). */
  maxAckChannels: number;
}

export class SplunkHecVariables {
  @IsOptional() @IsBooleanString() VIGIL_HEC_QUERY_TOKEN?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000) VIGIL_HEC_MAX_ACK_CHANNELS?: number;
}

/** Splunk's HTTP Event Collector: `/services/collector/*`, for HEC loggers and shippers. */
export const splunkHecIntakePlugin: IntakePlugin<SplunkHecSettings, SplunkHecVariables> = {
  name: 'splunk-hec',
  variables: SplunkHecVariables,
  settings: (env) => ({
    allowQueryToken: booleanOf(env.VIGIL_HEC_QUERY_TOKEN, false),
    maxAckChannels: typeof env.VIGIL_HEC_MAX_ACK_CHANNELS === 'number' ? env.VIGIL_HEC_MAX_ACK_CHANNELS : 10_000,
  }),
  module: () => import('./splunk-hec.module.js').then((loaded) => loaded.SplunkHecIntakeModule),
};
