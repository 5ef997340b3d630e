import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { dialectOf, type DialectAnswer, type RefusalReason } from './protocol-dialect.js';

/** The body of every error answer: snake_case, with the request id to quote in a report. */
export interface ErrorBody {
  status_code: number;
  error: string;
  message: string;
  request_id: string;
  /** Per-item problems, when a whole batch was refused. */
  errors?: Array<{ index: number; message: string }>;
}

/** Headers an HttpException may carry to the reply (Retry-After on 429 / 503). */
export class HttpExceptionWithHeaders extends HttpException {
  constructor(message: string, status: number, readonly headers: Record<string, string>) {
    super(message, status);
  }
}

export function errorBody(status: number, message: string, requestId: string): ErrorBody {
  return { status_code: status, error: STATUS_CODES[status] ?? 'Error', message, request_id: requestId };
}

/**
 * Answers with ErrorBody from a Fastify hook or handler outside Nest's exception filter (auth,
 * connection caps, draining, routing errors). Headers such as Retry-After are set by the caller first.
 */
export function replyWithError(reply: FastifyReply, status: number, message: string, reason: RefusalReason = 'other'): void {
  const dialect = dialectOf(reply.request);
  if (dialect) {
    sendDialectAnswer(reply, dialect.errorAnswer(status, message, reason, reply.request));
    return;
  }
  void reply
    .code(status)
    .header('content-type', 'application/json; charset=utf-8')
    .send(errorBody(status, message, String(reply.request.id)));
}

function sendDialectAnswer(reply: FastifyReply, answer: DialectAnswer): void {
  if (answer.headers) reply.headers(answer.headers);
  void reply.code(answer.status).header('content-type', answer.contentType).send(answer.body);
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}

/**
 * Maps every error to ErrorBody. Anything that is not an HttpException is a bug
 * of ours: it answers a bare 500 and its details go to the log only, never to the
 * client (they might carry a destination's credentials).
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let message = 'Internal server error';
    let itemErrors: ErrorBody['errors'];
    if (exception instanceof HttpException && isHealthCheckResult(exception.getResponse())) {
      // A failed health check answers with its check results (terminus' shape), not an error body.
      void reply.status(exception.getStatus()).header('content-type', 'application/json; charset=utf-8').send(exception.getResponse());
      return;
    }
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      message = messageOf(exception);
      if (exception instanceof HttpExceptionWithHeaders) reply.headers(exception.headers);
      const details = exception.getResponse() as { errors?: ErrorBody['errors'] };
      if (Array.isArray(details?.errors)) itemErrors = details.errors;
    } else if (isZlibError(exception)) {
      status = 400;
      message = 'Request body is not valid gzip or deflate';
    } else if (isFastifyClientError(exception)) {
      status = exception.statusCode;
      message = exception.message;
    } else {
      this.logger.error({ err: exception, request_id: request.id }, 'Unhandled error');
    }
    const dialect = dialectOf(request);
    if (dialect) {
      sendDialectAnswer(reply, dialect.errorAnswer(status, message, 'other', request));
      return;
    }
    const body = errorBody(status, message, String(request.id));
    if (itemErrors) body.errors = itemErrors;
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}

/** Fastify's own 4xx errors (body too large, bad media type, malformed JSON, bad gzip). */
export function isFastifyClientError(error: unknown): error is Error & { statusCode: number } {
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  return error instanceof Error && typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500;
}

function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

function isHealthCheckResult(response: unknown): boolean {
  return typeof response === 'object' && response !== null && 'details' in response && 'status' in response;
}
