import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { IsIn, IsNumber, IsOptional, IsString, Length, Max, Min, validateSync, type ValidationError } from 'class-validator';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { keyStringProblem } from '../common/key-string.js';
import { DEFAULT_WINDOW, REPORT_WINDOWS, type ReportWindow } from './sla-windows.js';

export type TargetSource = 'default' | 'file' | 'api';

/** An SLA target as Vigil uses it. */
export interface SlaTarget {
  service: string;
  /** Display name (the `target` field of a status). */
  name: string;
  p95Ms: number;
  p99Ms: number;
  availabilityPercent: number;
  errorRatePercent: number;
  window: ReportWindow;
  source: TargetSource;
}

/** The original design's targets; the targets file and the API override or remove them. */
export const DEFAULT_TARGETS: readonly SlaTarget[] = [
  { service: 'api', name: 'API Endpoints', p95Ms: 500, p99Ms: 1000, availabilityPercent: 99.9, errorRatePercent: 1, window: DEFAULT_WINDOW, source: 'default' },
  { service: 'database', name: 'Database Queries', p95Ms: 100, p99Ms: 200, availabilityPercent: 99.99, errorRatePercent: 0.1, window: DEFAULT_WINDOW, source: 'default' },
  { service: 'cache', name: 'Cache Operations', p95Ms: 10, p99Ms: 50, availabilityPercent: 99.5, errorRatePercent: 0.5, window: DEFAULT_WINDOW, source: 'default' },
];

export const SERVICE_NAME_MAX_LENGTH = 100;
const WINDOW_NAMES = Object.keys(REPORT_WINDOWS);
// Said as ingest validation says it (`metrics[3].value must be a finite number`).
const FINITE_NUMBER = { message: '$property must be a finite number' };

/** Body of PUT /sla/targets/:service and one entry of the targets file. */
export class SlaTargetInput {
  @ApiPropertyOptional({ description: 'Display name; defaults to the service name', example: 'API Endpoints', maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiProperty({ description: 'p95 latency objective, milliseconds', example: 500 })
  @IsNumber({ allowNaN: false, allowInfinity: false }, FINITE_NUMBER)
  @Min(0)
  p95Ms!: number;

  @ApiProperty({ description: 'p99 latency objective, milliseconds (≥ p95Ms)', example: 1000 })
  @IsNumber({ allowNaN: false, allowInfinity: false }, FINITE_NUMBER)
  @Min(0)
  p99Ms!: number;

  @ApiProperty({ description: 'Availability objective, percent of requests that succeed (0 – < 100): 100 − it is the error budget', example: 99.9 })
  @IsNumber({ allowNaN: false, allowInfinity: false }, FINITE_NUMBER)
  @Min(0)
  @Max(100)
  availabilityPercent!: number;

  @ApiProperty({ description: 'Highest acceptable error rate, percent', example: 1 })
  @IsNumber({ allowNaN: false, allowInfinity: false }, FINITE_NUMBER)
  @Min(0)
  @Max(100)
  errorRatePercent!: number;

  @ApiPropertyOptional({ description: 'Window the objective (and its error budget) is measured over', enum: WINDOW_NAMES, default: DEFAULT_WINDOW })
  @IsOptional()
  @IsIn(WINDOW_NAMES)
  window?: ReportWindow;
}

// Constraints that say what kind of value a field takes: when one fails, the range
// checks of the same field fail too and would only add noise.
const TYPE_CONSTRAINTS = ['isNumber', 'isString', 'isIn'];

/**
 * One message per wrong field, each naming it (under `prefix`): "is required" when
 * it is missing (absent or null; optional fields skip validation then), "is not a
 * known field" for an unknown one, the type check's message when the value is of
 * the wrong kind, else every range check it fails.
 */
function messagesOf(errors: ValidationError[], prefix: string): string[] {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const constraints = error.constraints ?? {};
    if ('whitelistValidation' in constraints) return [`${path} is not a known field`];
    if (error.value === undefined || error.value === null) return [`${path} is required`];
    const typeFailure = TYPE_CONSTRAINTS.find((name) => name in constraints);
    const failed = typeFailure ? [constraints[typeFailure]!] : Object.values(constraints);
    // class-validator starts each message with the property name: qualify it with the path.
    const own = failed.map((message) => (message.startsWith(error.property) ? `${path}${message.slice(error.property.length)}` : `${path}: ${message}`));
    return [...own, ...messagesOf(error.children ?? [], path)];
  });
}

/**
 * Validates one target body; returns the problems (each naming its field, under
 * `prefix`) or the target. Unknown fields are refused, so a typo is not ignored.
 */
export function parseTargetInput(service: string, raw: unknown, source: TargetSource, prefix = ''): { target: SlaTarget } | { problems: string[] } {
  const at = (field: string) => (prefix ? `${prefix}.${field}` : field);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { problems: [`${prefix || 'body'} must be an object`] };
  const input = plainToInstance(SlaTargetInput, raw);
  const problems = messagesOf(validateSync(input, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false }), prefix);
  if (problems.length === 0) {
    if (input.availabilityPercent >= 100) problems.push(`${at('availabilityPercent')} must be less than 100 (100 % leaves no error budget)`);
    if (input.p99Ms < input.p95Ms) problems.push(`${at('p99Ms')} must not be less than p95Ms`);
  }
  if (service.length === 0 || service.length > SERVICE_NAME_MAX_LENGTH) problems.push(`service must be 1-${SERVICE_NAME_MAX_LENGTH} characters`);
  const serviceProblem = keyStringProblem(service);
  if (serviceProblem !== null) problems.push(`service ${serviceProblem}`);
  const nameProblem = typeof input.name === 'string' ? keyStringProblem(input.name) : null;
  if (nameProblem !== null) problems.push(`${at('name')} ${nameProblem}`);
  if (problems.length > 0) return { problems };
  return {
    target: {
      service,
      name: input.name ?? service,
      p95Ms: input.p95Ms,
      p99Ms: input.p99Ms,
      availabilityPercent: input.availabilityPercent,
      errorRatePercent: input.errorRatePercent,
      window: input.window ?? DEFAULT_WINDOW,
      source,
    },
  };
}

/** What a targets file holds: its targets, and the default services it removes. */
export interface TargetsFile {
  targets: SlaTarget[];
  removed: string[];
}

export class TargetsFileError extends Error {
  constructor(
    path: string,
    readonly problems: string[],
  ) {
    super(`VIGIL_SLA_TARGETS_FILE ${path} is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'TargetsFileError';
  }
}

/**
 * Reads the targets file (YAML, or JSON, which YAML parses too):
 * `targets: {<service>: {name, p95Ms, p99Ms, availabilityPercent, errorRatePercent, window}}`
 * (the `targets:` level may be left out). A service mapped to `null` removes a
 * default target. Returns the file's targets and the services it removes; throws
 * one TargetsFileError listing every problem.
 */
export function loadTargetsFile(path: string): TargetsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TargetsFileError(path, [`cannot be read: ${(error as Error).message}`]);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new TargetsFileError(path, [`is not valid YAML or JSON: ${(error as Error).message}`]);
  }
  const root = document !== null && typeof document === 'object' && 'targets' in document ? (document as { targets: unknown }).targets : document;
  const prefix = document !== null && typeof document === 'object' && 'targets' in document ? 'targets' : '';
  if (root === null || root === undefined) return { targets: [], removed: [] };
  if (typeof root !== 'object' || Array.isArray(root)) throw new TargetsFileError(path, [`${prefix || 'the document'} must map service names to targets`]);
  const targets: SlaTarget[] = [];
  const removed: string[] = [];
  const problems: string[] = [];
  for (const [service, raw] of Object.entries(root as Record<string, unknown>)) {
    const at = prefix ? `${prefix}.${service}` : service;
    if (raw === null) {
      removed.push(service);
      continue;
    }
    const parsed = parseTargetInput(service, raw, 'file', at);
    if ('problems' in parsed) problems.push(...parsed.problems);
    else targets.push(parsed.target);
  }
  if (problems.length > 0) throw new TargetsFileError(path, problems);
  return { targets, removed };
}

/** A target as the API answers it (snake_case). */
export function targetBody(target: SlaTarget) {
  return {
    service: target.service,
    name: target.name,
    p95_ms: target.p95Ms,
    p99_ms: target.p99Ms,
    availability_percent: target.availabilityPercent,
    error_rate_percent: target.errorRatePercent,
    window: target.window,
    source: target.source,
  };
}
export type TargetBody = ReturnType<typeof targetBody>;
