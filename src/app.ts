import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { adminRoutes } from './admin/admin.routes.js';
import { attachmentRoutes } from './attachments/attachment.routes.js';
import { attachmentSchemas } from './attachments/attachment.schemas.js';
import { createBlobStore } from './attachments/attachment.db-store.js';
import { adminSchemas } from './admin/admin.schemas.js';
import type { Config } from './config.js';
import { durable, type Db } from './db/database.js';
import { createTokenVerifier, requireActor, type Actor, type VerifyToken } from './http/auth.js';
import { loadOrCreateDevKeys } from './http/dev-keys.js';
import { installHandlerTimeout } from './http/handler-timeout.js';
import { installAcceptFirst } from './http/accept-first.js';
import { healthRoutes } from './http/health.routes.js';
import { openApiRoutes, registerOpenApi } from './http/openapi.js';
import { AppError, handleError, installNotFound, problemPayload, sendProblem, serverErrorDetail } from './http/problem.js';
import { createRateLimiter } from './http/rate-limit.js';
import { redactTokens } from './http/redact.js';
import { API_PREFIX, ErrorDetail, ErrorModel } from './http/schemas.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { createSerializerCompiler } from './http/serializer.js';
import { createValidatorCompiler } from './http/validator.js';
import { ticketRoutes } from './tickets/ticket.routes.js';
import { ticketSchemas } from './tickets/ticket.schemas.js';
import { createUserTracker } from './users/user.service.js';
import { cspDirectives } from './web/csp.js';
import { dashboardNotFoundPage, dashboardRoutes } from './web/dashboard.routes.js';
import { eventRoutes } from './events/event.routes.js';
import { eventSchemas } from './events/event.schemas.js';
import { webSchemas } from './web/web.schemas.js';
import { liveRoutes } from './live/live.routes.js';
import { liveSchemas } from './live/live.schemas.js';
import { createLiveStreams, LIVE_CHANNEL } from './live/live.service.js';
import { createNotifier, listenPostgres } from './db/notifications.js';
import { webhookRoutes } from './webhooks/webhook.routes.js';
import { webhookSchemas } from './webhooks/webhook.schemas.js';
import { devOutboxRoutes, inboundMailRoutes, mailPreferenceRoutes } from './mail/mail.routes.js';
import { mailSchemas } from './mail/mail.schemas.js';
import { createMailContext } from './mail/mail.service.js';

// The largest legal body, every character \u-escaped (an emoji is then 12 bytes: a client with
// ASCII-only JSON, Python's default, sends that), is a new ticket at 245,677 bytes; the rest of
// 256 KiB leaves room for whitespace. Anything larger is refused before it is read.
const BODY_LIMIT = 256 * 1024;
const MAX_PARAM_LENGTH = 200;
/** Other instances hear of this one's writes at most this often (ms): a burst of writes is one notification. */
const LIVE_NOTIFY_GAP_MS = 20;
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** Every schema with an $id: validated, serialized, documented and served from this one list. */
const NAMED_SCHEMAS = [ErrorDetail, ErrorModel, ...attachmentSchemas, ...ticketSchemas, ...adminSchemas, ...eventSchemas, ...liveSchemas, ...webhookSchemas, ...webSchemas, ...mailSchemas];

// What a browser client may read from a cross-origin response.
const EXPOSED_HEADERS = ['location', 'etag', 'link', 'x-request-id', 'ratelimit', 'ratelimit-policy', 'retry-after'];
// The request headers the API reads beyond the CORS-safelisted ones: a browser must be allowed to send each.
const ALLOWED_HEADERS = ['authorization', 'content-type', 'if-match', 'idempotency-key', 'last-event-id'];

export interface AppOptions {
  /** Where logs go (stdout by default); tests pass a stream to read what was logged, or false. */
  logStream?: { write(line: string): void } | false;
  /** Overrides token verification (e.g. a shared verifier); defaults to the configured one. */
  verifyToken?: VerifyToken;
}

/** One access-log line per request, when it is answered, naming the request: Fastify writes two. */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/** Builds the HTTP application on an open database. Never listens: main.ts and tests do that. */
export async function buildApp(config: Config, db: Db, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logStream === false ? false : {
      level: config.logLevel,
      ...(options.logStream ? { stream: options.logStream } : {}),
      redact: ['req.headers.authorization'],
      serializers: {
        req: (req: { method: string; url: string; id: string }) => ({
          id: req.id,
          method: req.method,
          url: redactTokens(req.url),
        }),
      },
    },
    logController: new AccessLog(),
    bodyLimit: BODY_LIMIT,
    // A client gets 30 s to send its request and a socket 60 s of silence; the database has its own limits.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    // On SIGTERM a request already arriving is served, not refused with a bare 503; the
    // listener is closed, idle keep-alive sockets are dropped and main.ts bounds the wait.
    return503OnClosing: false,
    // Errors the router raises before any route runs get the same problem+json as the rest.
    frameworkErrors: (error, _request, reply) =>
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? sendProblem(reply, 422, 'validation failed', [{ location: 'path', message: `expected path parameters of at most ${MAX_PARAM_LENGTH} characters` }])
        : sendProblem(reply, error.statusCode && error.statusCode < 500 ? error.statusCode : 400, error.message),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    genReqId: () => randomUUID(),
    requestIdHeader: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(createValidatorCompiler(NAMED_SCHEMAS));
  app.setSerializerCompiler(createSerializerCompiler(NAMED_SCHEMAS));
  app.setErrorHandler(handleError);
  // A handler still running after 15 s is answered 503 (and logged) rather than left hanging.
  installHandlerTimeout(app, 15_000);
  // Before every hook but the timeout's: while a storm of connections is accepted, requests wait for it.
  installAcceptFirst(app, config.acceptFirstMs);
  installNotFound(app, await dashboardNotFoundPage());

  // JSON only (and JSON merge patch for PATCH); an empty body is "no body" (a bodiless POST /close with a JSON content type is fine).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'application/merge-patch+json'], { parseAs: 'string', bodyLimit: BODY_LIMIT }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    parseJson(request, text, (error, value) => {
      if (error) return done(new AppError(400, `request body is not valid JSON: ${error.message}`), undefined);
      done(null, value);
    });
  });

  // Each named body carries `$schema`; the Link header points at the same schema (Huma does both).
  app.addHook('preSerialization', async (_request, reply, payload) => {
    const link = (payload as { $schema?: unknown } | null)?.$schema;
    if (typeof link === 'string') reply.header('link', `<${link}>; rel="describedBy"`);
    return payload;
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    // Under SQLite group commit, nothing leaves before the commits it may show are on disk.
    const flushed = durable(db);
    if (!flushed) return done(null, payload);
    // Called from a promise, where a throw (Node refusing a header value as it writes the head)
    // would escape every handler and end the process: the connection is dropped instead.
    const finish = (body: unknown) => {
      try {
        done(null, body);
      } catch (error) {
        request.log.error({ err: error }, 'response could not be written');
        reply.raw.destroy();
      }
    };
    flushed.then(
      () => finish(payload),
      (error: unknown) => {
        // A commit that may not survive a power cut is not reported as done.
        request.log.error({ err: error }, 'commit not flushed to disk');
        finish(problemPayload(reply, 500, serverErrorDetail(request)));
      },
    );
  });

  // Security headers everywhere; CORS only for the configured dashboard origins.
  registerSecurityHeaders(app, { hsts: config.env === 'production', contentSecurityPolicy: { directives: cspDirectives(config) } });
  // The allowed methods are those of the routes the app serves, collected as they register (the plugin reads
  // this array at each preflight), so a method added later (a staff PATCH, a DELETE) is never refused by CORS.
  const servedMethods: string[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'OPTIONS' && !servedMethods.includes(method)) servedMethods.push(method);
  });
  await app.register(cors, {
    origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false,
    methods: servedMethods,
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
  });

  await registerOpenApi(app, NAMED_SCHEMAS, version);

  const devKeys = config.auth.mode === 'development' ? await loadOrCreateDevKeys(config.dataDir) : undefined;
  const verifyToken = options.verifyToken ?? (await createTokenVerifier(config.auth, devKeys));
  const rememberUser = createUserTracker(db);
  const streams = createLiveStreams(db, config.live, (error) => app.log.error({ err: error }, 'reading the events feed for live streams failed; trying again'));
  // Changes made through other instances: each instance notifies `helpdesk_live` on PostgreSQL
  // after its writes commit, and the streams of every instance read the feed at once.
  const postgres = config.database.kind === 'postgres' ? config.database : undefined;
  const listener = postgres
    ? listenPostgres(postgres.url, LIVE_CHANNEL, () => streams.wake(), (error) => app.log.warn({ err: error }, 'listening for changes made through other instances failed; listening again shortly'))
    : undefined;
  const notifier = postgres
    ? createNotifier(db, LIVE_CHANNEL, { minGapMs: LIVE_NOTIFY_GAP_MS, onError: (error) => app.log.warn({ err: error }, 'telling other instances of a change failed; they see it at their next poll') })
    : undefined;
  // A write (any request but a read that succeeded) is read for this instance's streams at
  // once, and the other instances are told, rather than left to their next poll.
  app.addHook('onResponse', (request, reply, done) => {
    if (request.method !== 'GET' && request.method !== 'HEAD' && reply.statusCode < 400) {
      streams.wake();
      notifier?.signal();
    }
    done();
  });
  // Open streams would keep the server from closing: they end first.
  app.addHook('preClose', async () => {
    await listener?.stop();
    await notifier?.stop();
    await streams.close();
  });

  await app.register(healthRoutes, { db });
  await app.register(async (api) => {
    app.decorateRequest('actor', null);
    app.decorateRequest('idempotency', null);
    api.addHook('onRequest', requireActor(verifyToken));
    api.addHook('onRequest', createRateLimiter(config.rateLimit));
    api.addHook('onRequest', async (request) => rememberUser(request.actor as Actor));
    await api.register(ticketRoutes, { db });
    await api.register(adminRoutes, { db, dialect: config.database.kind, searchTotalBound: config.searchTotalBound });
    await api.register(eventRoutes, { db });
    await api.register(liveRoutes, { db, streams });
    await api.register(webhookRoutes, { db, config: config.webhooks });
    await api.register(mailPreferenceRoutes, { db });
    // Without SMTP, notifications are files that staff read here; with it, neither exists.
    if (!config.mail.smtpUrl) await api.register(devOutboxRoutes, { dataDir: config.dataDir });
    await api.register(attachmentRoutes, { db, store: createBlobStore(config, db), limits: config.attachments });
  }, { prefix: API_PREFIX });
  // Mail providers post replies here with a shared secret, not a user's token.
  if (config.mail.inboundSecret) {
    await app.register(inboundMailRoutes, { prefix: API_PREFIX, context: await createMailContext(config, db), secret: config.mail.inboundSecret });
  }
  await openApiRoutes(app, NAMED_SCHEMAS);
  await app.register(dashboardRoutes, { config, devKeys });

  return app;
}
