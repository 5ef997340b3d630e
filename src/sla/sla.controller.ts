import { BadRequestException, Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Put, Query, Res } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RequiresScope } from '../common/auth.guard.js';
import { Clock } from '../common/clock.js';
import { ApiBadParameterResponse, ApiErrorResponse, ApiJsonBody, ApiServedResponses } from '../common/api-responses.js';
import { renderReport } from './sla-report.js';
import type { SlaStatusBody } from './sla-status.js';
import { SlaTargetInput, parseTargetInput, targetBody, type TargetBody } from './sla-target.js';
import { SlaTargetsService } from './sla-targets.service.js';
import { REPORT_WINDOWS, isReportWindow, type ReportWindow } from './sla-windows.js';
import { SlaReportDto, SlaStatusDto, SlaTargetDto } from './sla.dto.js';
import { SlaService } from './sla.service.js';

const WINDOW_NAMES = Object.keys(REPORT_WINDOWS);

function parseWindow(raw: unknown): ReportWindow | undefined {
  if (raw === undefined) return undefined;
  if (isReportWindow(raw)) return raw;
  throw new BadRequestException(`window must be one of ${WINDOW_NAMES.join(', ')}`);
}

const WindowQuery = ApiQuery({ name: 'window', required: false, enum: WINDOW_NAMES, description: "Default: each target's window (30d when unset)" });

@ApiTags('sla')
@ApiServedResponses()
@ApiExtraModels(SlaStatusDto, SlaReportDto)
@Controller('sla')
export class SlaController {
  constructor(
    private readonly sla: SlaService,
    private readonly targets: SlaTargetsService,
    private readonly clock: Clock,
  ) {}

  @Get('status')
  @RequiresScope('read')
  @ApiOperation({ summary: 'SLA status of every service with a target or with data in the last 30 days' })
  @WindowQuery
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: { $ref: getSchemaPath(SlaStatusDto) } } })
  @ApiBadParameterResponse('Unknown window')
  async statuses(@Query('window') window?: string): Promise<Record<string, SlaStatusBody>> {
    return Object.fromEntries(await this.sla.statuses(parseWindow(window)));
  }

  @Get('status/:service')
  @RequiresScope('read')
  @ApiOperation({ summary: "One service's SLA status" })
  @WindowQuery
  @ApiOkResponse({ type: SlaStatusDto })
  @ApiErrorResponse(404, 'The service has neither a target nor data')
  @ApiBadParameterResponse('Unknown window')
  async status(@Param('service') service: string, @Query('window') window?: string): Promise<SlaStatusBody> {
    const status = await this.sla.status(service, parseWindow(window));
    if (!status) throw new NotFoundException(`Service ${service} has neither an SLA target nor data`);
    return status;
  }

  @Get('report')
  @RequiresScope('read')
  @ApiOperation({ summary: 'SLA report: text (✅/❌ per service) or, with format=json, every status' })
  @WindowQuery
  @ApiQuery({ name: 'format', required: false, enum: ['text', 'json'] })
  // Two media types with different schemas: `content` is given whole, since `type`
  // with @ApiProduces would declare the JSON object for text/plain too.
  @ApiOkResponse({
    description: 'The text report (default, format=text), or every status as JSON with format=json',
    content: {
      'text/plain': { schema: { type: 'string', description: 'One block per service; names from data are escaped (control characters as \\u001b-style escapes)' } },
      'application/json': { schema: { $ref: getSchemaPath(SlaReportDto) } },
    },
  })
  @ApiBadParameterResponse('Unknown window or format')
  async report(@Res({ passthrough: true }) reply: FastifyReply, @Query('window') window?: string, @Query('format') format?: string) {
    const parsedWindow = parseWindow(window);
    if (format !== undefined && format !== 'json' && format !== 'text') throw new BadRequestException('format must be text or json');
    const statuses = await this.sla.statuses(parsedWindow);
    const generatedAt = new Date(this.clock.now()).toISOString();
    if (format === 'json') return { generated_at: generatedAt, services: Object.fromEntries(statuses) };
    void reply.type('text/plain; charset=utf-8');
    return renderReport(statuses, generatedAt, parsedWindow);
  }

  @Get('targets')
  @RequiresScope('read')
  @ApiOperation({ summary: 'Every SLA target in effect (defaults, targets file, API), by service' })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: { $ref: getSchemaPath(SlaTargetDto) } } })
  @ApiExtraModels(SlaTargetDto)
  async listTargets(): Promise<Record<string, TargetBody>> {
    const targets = await this.targets.all();
    return Object.fromEntries([...targets.values()].sort((left, right) => left.service.localeCompare(right.service)).map((target) => [target.service, targetBody(target)]));
  }

  @Put('targets/:service')
  @RequiresScope('admin')
  @ApiOperation({ summary: "Sets a service's SLA target (stored; overrides a default or file target)" })
  @ApiParam({ name: 'service' })
  @ApiJsonBody({ type: SlaTargetInput, invalid: 'Invalid target; the message names the field' })
  @ApiOkResponse({ type: SlaTargetDto })
  async putTarget(@Param('service') service: string, @Body() body: unknown): Promise<TargetBody> {
    const parsed = parseTargetInput(service, body ?? undefined, 'api');
    if ('problems' in parsed) throw new BadRequestException(parsed.problems.join('; '));
    return targetBody(await this.targets.put(parsed.target));
  }

  @Delete('targets/:service')
  @RequiresScope('admin')
  @HttpCode(204)
  @ApiOperation({ summary: "Removes a service's SLA target (a default or file target too); it is still measured" })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrorResponse(404, 'The service has no target')
  async deleteTarget(@Param('service') service: string): Promise<void> {
    if (!(await this.targets.delete(service))) throw new NotFoundException(`Service ${service} has no SLA target`);
  }
}
