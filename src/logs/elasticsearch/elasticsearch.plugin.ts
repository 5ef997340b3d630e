import { Transform } from 'class-transformer';
import { IsInt, IsNotEmpty, IsOptional, IsString, IsUrl, Matches, Max, Min, ValidateIf } from 'class-validator';
import { URL_OPTIONS, toInt } from '../../config/variable.transforms.js';
import type { DestinationPlugin } from '../../delivery/destination.plugin.js';

export interface ElasticsearchConfig {
  url: string;
  apiKey?: string;
  username?: string;
  password?: string;
  indexPrefix: string;
}

/** The Elasticsearch destination's environment variables. */
export class ElasticsearchVariables {
  @IsOptional() @IsUrl(URL_OPTIONS) ELASTICSEARCH_URL?: string;
  @IsOptional() @IsString() @IsNotEmpty() ELASTICSEARCH_HOST?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(65535) ELASTICSEARCH_PORT?: number;
  @IsOptional() @IsString() ELASTICSEARCH_API_KEY?: string;
  @IsOptional() @IsString() ELASTICSEARCH_USERNAME?: string;
  @ValidateIf((env: ElasticsearchVariables) => env.ELASTICSEARCH_USERNAME !== undefined)
  @IsString({ message: 'ELASTICSEARCH_PASSWORD must be set when ELASTICSEARCH_USERNAME is' })
  ELASTICSEARCH_PASSWORD?: string;
  @IsOptional() @Matches(/^[a-z0-9][a-z0-9._-]*$/, { message: 'ELASTICSEARCH_INDEX_PREFIX must be a lowercase index name' })
  ELASTICSEARCH_INDEX_PREFIX?: string;
}

/** Elasticsearch: logs, into daily indices; on when ELASTICSEARCH_URL (or _HOST) is set. */
export const elasticsearchPlugin: DestinationPlugin<ElasticsearchConfig, ElasticsearchVariables> = {
  name: 'elasticsearch',
  title: 'Elasticsearch',
  kinds: ['log'],
  variables: ElasticsearchVariables,
  settings(env, problems) {
    if (env.ELASTICSEARCH_URL === undefined && env.ELASTICSEARCH_PORT !== undefined && env.ELASTICSEARCH_HOST === undefined) {
      problems.push('ELASTICSEARCH_PORT is set without ELASTICSEARCH_HOST');
    }
    const url = env.ELASTICSEARCH_URL ?? (env.ELASTICSEARCH_HOST ? `http://${env.ELASTICSEARCH_HOST}:${env.ELASTICSEARCH_PORT ?? 9200}` : undefined);
    if (!url) return null;
    return {
      url,
      apiKey: env.ELASTICSEARCH_API_KEY || undefined,
      username: env.ELASTICSEARCH_USERNAME,
      password: env.ELASTICSEARCH_PASSWORD,
      indexPrefix: env.ELASTICSEARCH_INDEX_PREFIX ?? 'vigil-logs',
    };
  },
  secrets: (settings) => [settings.apiKey, settings.password],
  module: () => import('./elasticsearch.module.js').then((loaded) => loaded.ElasticsearchModule),
};
