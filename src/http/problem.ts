import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { schemaUrl, type ErrorDetail, type ErrorModel } from './schemas.js';
import { validationErrorDetails } from './validation.js';

/** The one error type of the code base: a status, a client-safe message, optional details. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: ErrorDetail[],
    readonly headers?: Record<string, string>,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'AppError';
  }
}

export const notFound = (what = 'ticket') => new AppError(404, `${what} not found`);
export const conflict = (message: string) => new AppError(409, message);

// Huma titles come from Go's http.StatusText, which differs from Node's in a few places.
const GO_STATUS_TEXT: Record<number, string> = { 413: 'Request Entity Too Large', 422: 'Unprocessable Entity' };

export function statusTitle(status: number): string {
  return GO_STATUS_TEXT[status] ?? STATUS_CODES[status] ?? 'Error';
}

/** Sends an RFC 9457 problem document in the seed's ErrorModel shape. */
export function sendProblem(reply: FastifyReply, status: number, detail: string, errors?: ErrorDetail[]): FastifyReply {
  return reply.send(problemPayload(reply, status, detail, errors));
}

/** Sets the status and headers of a problem document on `reply` and returns its body. */
export function problemPayload(reply: FastifyReply, status: number, detail: string, errors?: ErrorDetail[]): string {
  const body: ErrorModel = { $schema: schemaUrl('ErrorModel'), title: statusTitle(status), status, detail };
  if (errors && errors.length > 0) body.errors = errors;
  reply
    .code(status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .header('link', `<${schemaUrl('ErrorModel')}>; rel="describedBy"`);
  return JSON.stringify(body);
}

/** The body of every unexpected failure: a reference to the log, nothing of the cause. */
export const serverErrorDetail = (request: FastifyRequest) => `An unexpected error occurred. Reference: ${request.id}`;

// SQLSTATE query_canceled, which is what a statement_timeout raises.
const STATEMENT_TIMEOUT = '57014';

/** Translates every thrown error into problem+json; 5xx details stay in the log. */
export function handleError(error: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof AppError) {
    if (error.status >= 500) request.log.error({ err: error.cause ?? error }, error.message);
    if (error.headers) reply.headers(error.headers);
    return sendProblem(reply, error.status, error.message, error.errors);
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const context = fastifyError.validationContext ?? 'body';
    const errors = validationErrorDetails(fastifyError.validation, context, request);
    return sendProblem(reply, 422, 'validation failed', errors);
  }
  const status = fastifyError.statusCode ?? 500;
  // PostgreSQL cancelled a statement at its statement_timeout (postgres.ts): too busy, not broken.
  if (fastifyError.code === STATEMENT_TIMEOUT) {
    request.log.error({ err: error }, 'statement timed out');
    return sendProblem(reply, 503, 'the request took too long; retry later');
  }
  if (status >= 400 && status < 500) {
    return sendProblem(reply, status, clientMessage(fastifyError));
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendProblem(reply, 500, serverErrorDetail(request));
}

function clientMessage(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'request body is too large: limit of 1048576 bytes';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported media type: send the request body as application/json';
    default:
      return error.message;
  }
}

/** One registered route, as the inventory check and the 405 handler see it. */
export interface RouteEntry {
  method: string;
  url: string;
  pattern: RegExp;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered, method by method (catch-alls aside). */
    routeTable: readonly RouteEntry[];
  }
}

/**
 * Unknown paths are 404; a known path with another method is 405 with an Allow header. `page`
 * may answer an unknown path with an HTML page instead (the dashboard's, to a browser).
 */
export function installNotFound(app: FastifyInstance, page?: (request: FastifyRequest) => string | undefined): void {
  const routes: RouteEntry[] = [];
  app.decorate('routeTable', routes);
  app.addHook('onRoute', (route) => {
    // Catch-alls (the CORS preflight route) say nothing about which methods a path allows.
    if (route.url === '*' || route.url === '/*') return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const source = route.url
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    const pattern = new RegExp(`^${source}$`);
    for (const method of methods) routes.push({ method, url: route.url, pattern });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))];
    if (allowed.length > 0) {
      reply.header('allow', allowed.sort().join(', '));
      return sendProblem(reply, 405, `method ${request.method} not allowed; allowed: ${allowed.join(', ')}`);
    }
    const html = page?.(request);
    if (html !== undefined) return reply.code(404).type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
    return sendProblem(reply, 404, `no route for ${request.method} ${path}`);
  });
}
