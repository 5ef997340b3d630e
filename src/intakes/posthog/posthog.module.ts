import { Module } from '@nestjs/common';
import { PostHogController } from './posthog.controller.js';
import { PostHogService } from './posthog.service.js';

/** The PostHog intake. IngestService comes from the global IngestModule. */
@Module({ controllers: [PostHogController], providers: [PostHogService] })
export class PostHogIntakeModule {}
