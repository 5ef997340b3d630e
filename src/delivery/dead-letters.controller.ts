import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiBadParameterResponse, ApiJsonBody, ApiServedResponses } from '../common/api-responses.js';
import { RequiresScope } from '../common/auth.guard.js';
import { DESTINATION_NAMES } from '../config/app.config.js';
import { DeadLetterListDto, PurgeResultDto, ReplayRequestDto, ReplayResultDto, deadLetterListDto } from './dead-letters.dto.js';
import { DEAD_LETTER_REASONS } from './delivery.tables.js';
import { DeliveryService } from './delivery.service.js';

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
    return deadLetterListDto(await this.delivery.listDeadLetters({ destination, reason, limit, after }));
  }

  @Post('replay')
  @HttpCode(202)
  @ApiOperation({ summary: 'Replays dead letters: each is queued again for the destination that refused it (and only that one)' })
  @ApiJsonBody({ type: ReplayRequestDto, required: false, invalid: 'The filter is invalid; the message names the field' })
  @ApiAcceptedResponse({ type: ReplayResultDto })
  async replay(@Body() body: unknown): Promise<ReplayResultDto> {
    const result = await this.delivery.replayDeadLetters(body);
    return { replay_requested: result.replayRequested };
  }

  @Delete()
  @ApiOperation({ summary: 'Purges dead letters matching the filter (all when none)' })
  @ApiQuery({ name: 'destination', required: false, enum: DESTINATION_NAMES })
  @ApiQuery({ name: 'reason', required: false, enum: DEAD_LETTER_REASONS })
  @ApiOkResponse({ type: PurgeResultDto })
  @ApiBadParameterResponse()
  purge(@Query('destination') destination?: string, @Query('reason') reason?: string): Promise<PurgeResultDto> {
    return this.delivery.purgeDeadLetters({ destination, reason });
  }
}
