import { Module } from '@nestjs/common';
import { SegmentController } from './segment.controller.js';
import { SegmentService } from './segment.service.js';

/** The Segment intake. IngestService comes from the global IngestModule. */
@Module({ controllers: [SegmentController], providers: [SegmentService] })
export class SegmentIntakeModule {}
