import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
  applyDecorators,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth, ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiKeyRing, presentedKey, type Scope } from './api-keys.js';

const SCOPE_METADATA = 'vigil:scope';

/** Marks a controller or handler as needing an API key of the given scope. */
export function RequiresScope(scope: Scope) {
  return applyDecorators(
    SetMetadata(SCOPE_METADATA, scope),
    ApiBearerAuth(),
    ApiSecurity('api-key'),
    ApiUnauthorizedResponse({ description: 'Missing or unknown API key' }),
    ApiForbiddenResponse({ description: `Key lacks the ${scope} scope` }),
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Hash-derived id of the key that authenticated this request, when one did. */
    apiKeyId?: string;
  }
}

/**
 * Global guard: routes without RequiresScope are open (/health, /docs, /metrics).
 * With no key configured (protected mode, loopback only) every route is open.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  /**
   * Each route's scope (null for an open route), by controller class and handler: the
   * metadata is fixed once the app is built, and reading it through the Reflector cost
   * more per request than the rest of the check.
   */
  private readonly scopes = new WeakMap<object, WeakMap<object, Scope | null>>();

  constructor(
    private readonly reflector: Reflector,
    @Inject(ApiKeyRing) private readonly keys: ApiKeyRing,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const scope = this.scopeOf(context.getClass(), context.getHandler());
    if (scope === null || this.keys.isEmpty) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const key = presentedKey(request.headers);
    if (key === null) throw new UnauthorizedException('An API key is required: Authorization: Bearer <key> or X-API-Key: <key>');
    const resolved = this.keys.resolveOn(request.raw.socket, key);
    if (resolved === null) throw new UnauthorizedException('Unknown API key');
    request.apiKeyId = resolved.id;
    if (!resolved.scopes.has(scope)) throw new ForbiddenException(`This API key lacks the ${scope} scope`);
    return true;
  }

  private scopeOf(controller: object, handler: object): Scope | null {
    let byHandler = this.scopes.get(controller);
    if (byHandler === undefined) this.scopes.set(controller, (byHandler = new WeakMap()));
    let scope = byHandler.get(handler);
    if (scope === undefined) {
      scope = this.reflector.getAllAndOverride<Scope | undefined>(SCOPE_METADATA, [handler as () => unknown, controller as new () => unknown]) ?? null;
      byHandler.set(handler, scope);
    }
    return scope;
  }
}
