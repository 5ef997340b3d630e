import { Module } from '@nestjs/common';
import { ElasticsearchBulkController } from './elasticsearch-bulk.controller.js';
import { ElasticsearchBulkService } from './elasticsearch-bulk.service.js';

/** The Elasticsearch bulk intake. IngestService comes from the global IngestModule. */
@Module({ controllers: [ElasticsearchBulkController], providers: [ElasticsearchBulkService] })
export class ElasticsearchBulkIntakeModule {}
