import { IsOptional, IsString, IsUrl, Matches } from 'class-validator';
import { URL_OPTIONS } from '../../config/variable.transforms.js';
import type { DestinationPlugin } from '../../delivery/destination.plugin.js';

export interface DatadogConfig { apiKey: string; appKey?: string; site: string; apiUrl?: string }

/** The Datadog destination's environment variables. */
export class DatadogVariables {
  @IsOptional() @IsString() DATADOG_API_KEY?: string;
  @IsOptional() @IsString() DATADOG_APP_KEY?: string;
  @IsOptional() @Matches(/^[a-z0-9.-]+\.[a-z]{2,}$/, { message: 'DATADOG_SITE must be a host name such as datadoghq.com or datadoghq.eu' })
  DATADOG_SITE?: string;
  @IsOptional() @IsUrl(URL_OPTIONS) DATADOG_API_URL?: string;
}

/** Datadog: metrics, events and request timings; on when DATADOG_API_KEY is set. */
export const datadogPlugin: DestinationPlugin<DatadogConfig, DatadogVariables> = {
  name: 'datadog',
  title: 'Datadog',
  kinds: ['metric', 'event', 'request'],
  variables: DatadogVariables,
  settings: (env) =>
    env.DATADOG_API_KEY
      ? { apiKey: env.DATADOG_API_KEY, appKey: env.DATADOG_APP_KEY || undefined, site: env.DATADOG_SITE ?? 'datadoghq.com', apiUrl: env.DATADOG_API_URL }
      : null,
  secrets: (settings) => [settings.apiKey, settings.appKey],
  module: () => import('./datadog.module.js').then((loaded) => loaded.DatadogModule),
};
