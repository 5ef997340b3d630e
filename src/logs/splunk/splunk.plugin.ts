import { Transform } from 'class-transformer';
import { IsBooleanString, IsInt, IsNotEmpty, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';
import { URL_OPTIONS, booleanOf, toInt } from '../../config/variable.transforms.js';
import type { DestinationPlugin } from '../../delivery/destination.plugin.js';

export interface SplunkConfig { url: string; token: string; index?: string; tlsVerify: boolean; caFile?: string }

/** The Splunk HEC destination's environment variables. */
export class SplunkVariables {
  @IsOptional() @IsUrl(URL_OPTIONS) SPLUNK_HEC_URL?: string;
  @IsOptional() @IsString() @IsNotEmpty() SPLUNK_HOST?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(65535) SPLUNK_PORT?: number;
  @IsOptional() @IsString() SPLUNK_HEC_TOKEN?: string;
  @IsOptional() @IsString() SPLUNK_INDEX?: string;
  @IsOptional() @IsBooleanString() SPLUNK_TLS_VERIFY?: string;
  @IsOptional() @IsString() @IsNotEmpty() SPLUNK_CA_FILE?: string;
}

/** Splunk HEC: logs; on when SPLUNK_HEC_URL (or SPLUNK_HOST) and SPLUNK_HEC_TOKEN are set. */
export const splunkPlugin: DestinationPlugin<SplunkConfig, SplunkVariables> = {
  name: 'splunk',
  title: 'Splunk',
  kinds: ['log'],
  variables: SplunkVariables,
  settings(env, problems) {
    if (env.SPLUNK_HEC_URL === undefined && env.SPLUNK_PORT !== undefined && env.SPLUNK_HOST === undefined) {
      problems.push('SPLUNK_PORT is set without SPLUNK_HOST');
    }
    const url = env.SPLUNK_HEC_URL ?? (env.SPLUNK_HOST ? `https://${env.SPLUNK_HOST}:${env.SPLUNK_PORT ?? 8088}` : undefined);
    if (env.SPLUNK_HEC_TOKEN && !url) problems.push('SPLUNK_HEC_TOKEN is set but neither SPLUNK_HEC_URL nor SPLUNK_HOST is');
    if (!url || !env.SPLUNK_HEC_TOKEN) return null;
    return {
      url: url.replace(/\/+$/, ''),
      token: env.SPLUNK_HEC_TOKEN,
      index: env.SPLUNK_INDEX || undefined,
      tlsVerify: booleanOf(env.SPLUNK_TLS_VERIFY, true),
      caFile: env.SPLUNK_CA_FILE,
    };
  },
  secrets: (settings) => [settings.token],
  module: () => import('./splunk.module.js').then((loaded) => loaded.SplunkModule),
};
