import { Body, Controller, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyRing } from '../../common/api-keys.js';
import { RequiresScope, SpeaksProtocol } from '../../common/auth.guard.js';
import type { RawRequestBody } from '../../common/raw-body.js';
import { refusalOfBodyKey } from '../body-key.check.js';
import { decodePostHog, PostHogBodyError, postHogJson } from './posthog.decode.js';
import { postHogDialect, postHogError } from './posthog.dialect.js';
import { PostHogService } from './posthog.service.js';

/**
 * PostHog's capture API (`/batch/`, `/capture/`, `/e/`, `/i/v0/e/`, with or without the trailing
 * slash) for posthog-node and posthog-js: the project key (`api_key` in the body) is one of
 * Vigil's ingest keys. Documented in README, not in the OpenAPI document.
 */
@ApiExcludeController()
@RequiresScope('ingest')
@SpeaksProtocol(postHogDialect, { rawBody: true })
@Controller()
export class PostHogController {
  constructor(
    private readonly postHog: PostHogService,
    private readonly keys: ApiKeyRing,
  ) {}

  @Post(['batch', 'capture', 'e', 'i/v0/e'])
  async capture(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: RawRequestBody): Promise<void> {
    let decoded: ReturnType<typeof decodePostHog>;
    try {
      decoded = decodePostHog(postHogJson(body, this.postHog.maxBodyBytes));
    } catch (error) {
      if (!(error instanceof PostHogBodyError)) throw error;
      const refusal = postHogError(400, 'validation_error', 'invalid_payload', error.message);
      void reply.code(400).header('content-type', refusal.contentType).send(refusal.body);
      return;
    }
    const refusal = refusalOfBodyKey(this.keys, request, decoded.apiKey);
    if (refusal !== null) {
      const answer = postHogDialect.errorAnswer(refusal.status, refusal.message, refusal.reason, request);
      void reply.code(answer.status).header('content-type', answer.contentType).send(answer.body);
      return;
    }
    const answer = await this.postHog.receive(decoded.items);
    void reply.code(answer.status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(answer.body));
  }
}
