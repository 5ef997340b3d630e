import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiBadParameterResponse, ApiJsonBody, ApiServedResponses } from '../common/api-responses.js';
import { RequiresScope } from '../common/auth.guard.js';
import { DeadLetterListDto, PurgeResultDto, ReplayRequestDto, ReplayResultDto, deadLetterListDto } from './dead-letters.dto.js';
import type { DeadLetterFilter } from './delivery.repository.js';
import { DESTINATION_NAMES } from './destinations.list.js';
import { DEAD_LETTER_REASONS, type DeadLetterReason } from './delivery.tables.js';
import { DeliveryService } from './delivery.service.js';

const MAX_LIST_LIMIT = 1000;

/** The dead-letter operations over HTTP: parses and checks the query and body, then hands typed arguments to DeliveryService. */
@ApiTags('admin')
@ApiServedResponses()
@RequiresScope('admin')
@Controller('admin/dead-letters')
export class DeadLettersController {
  constructor(private readonly delivery: DeliveryService) {}

  @Get()
  @ApiOperation({ summary: 'Dead letters: counts by destination and reason, and the items (paginated by id)' })
  @ApiQuery({ name: 'destination', required: false, enum: DESTINATION_NAMES })
  @ApiQuery({ name: 'reason', required: false, enum: DEAD_LETTER_REASONS })
  @ApiQuery({ name: 'limit', required: false, description: 'Items per page, 1-1000 (default 100)' })
  @ApiQuery({ name: 'after', required: false, description: 'next_after of the previous page' })
  @ApiOkResponse({ type: DeadLetterListDto })
  @ApiBadParameterResponse()
  async list(
    @Query('destination') destination?: string,
    @Query('reason') reason?: string,
    @Query('limit') limit?: string,
    @Query('after') after?: string,
  ): Promise<DeadLetterListDto> {
    const filter = filterOf(destination, reason);
    const pageLimit = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(pageLimit) || pageLimit < 1 || pageLimit > MAX_LIST_LIMIT) throw new BadRequestException(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
    const pageAfter = after === undefined ? 0 : Number(after);
    if (!Number.isInteger(pageAfter) || pageAfter < 0) throw new BadRequestException('after must be a non-negative integer (the last id of the previous page)');
    return deadLetterListDto(await this.delivery.listDeadLetters(filter, { after: pageAfter, limit: pageLimit }));
  }

  @Post('replay')
  @HttpCode(202)
  @ApiOperation({ summary: 'Replays dead letters: each is queued again for the destination that refused it (and only that one)' })
  @ApiJsonBody({ type: ReplayRequestDto, required: false, invalid: 'The filter is invalid; the message names the field' })
  @ApiAcceptedResponse({ type: ReplayResultDto })
  async replay(@Body() body: unknown): Promise<ReplayResultDto> {
    const raw = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const filter = filterOf(
      raw['destination'] === undefined ? undefined : String(raw['destination']),
      raw['reason'] === undefined ? undefined : String(raw['reason']),
    );
    let ids: number[] | undefined;
    if (raw['ids'] !== undefined) {
      if (!Array.isArray(raw['ids']) || !raw['ids'].every((id) => Number.isInteger(id))) throw new BadRequestException('ids must be an array of integers');
      ids = raw['ids'] as number[];
    }
    const result = await this.delivery.replayDeadLetters({ ...filter, ids });
    return { replay_requested: result.replayRequested };
  }

  @Delete()
  @ApiOperation({ summary: 'Purges dead letters matching the filter (all when none)' })
  @ApiQuery({ name: 'destination', required: false, enum: DESTINATION_NAMES })
  @ApiQuery({ name: 'reason', required: false, enum: DEAD_LETTER_REASONS })
  @ApiOkResponse({ type: PurgeResultDto })
  @ApiBadParameterResponse()
  purge(@Query('destination') destination?: string, @Query('reason') reason?: string): Promise<PurgeResultDto> {
    return this.delivery.purgeDeadLetters(filterOf(destination, reason));
  }
}

/** The filter of a query or body; empty values filter nothing. */
function filterOf(destination: string | undefined, reason: string | undefined): DeadLetterFilter {
  const filter: DeadLetterFilter = {};
  if (destination !== undefined && destination !== '') {
    if (!DESTINATION_NAMES.includes(destination)) throw new BadRequestException(`destination must be one of ${DESTINATION_NAMES.join(', ')}`);
    filter.destination = destination;
  }
  if (reason !== undefined && reason !== '') {
    if (!DEAD_LETTER_REASONS.includes(reason as DeadLetterReason)) throw new BadRequestException(`reason must be one of ${DEAD_LETTER_REASONS.join(', ')}`);
    filter.reason = reason as DeadLetterReason;
  }
  return filter;
}
