import { Module } from '@nestjs/common';
import { IngestController } from './json.controller.js';

/** The JSON intake. IngestService comes from the global IngestModule. */
@Module({ controllers: [IngestController] })
export class JsonIntakeModule {}
