import path from 'node:path';

/** Where tickets live: an embedded SQLite file, or a PostgreSQL server shared by many instances. */
export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize: number };

/** How bearer tokens are verified: Clerk in production, a local key pair in development. */
export type AuthConfig =
  | {
      readonly mode: 'clerk';
      /** The browser's key for Clerk's JS SDK and the Frontend API origin it encodes; the dashboard needs it to sign in. */
      readonly publishableKey: { readonly key: string; readonly frontendApi: string } | undefined;
      readonly jwtKey: string | undefined;
      readonly jwksUrl: string | undefined;
      readonly issuer: string | undefined;
      readonly authorizedParties: readonly string[];
      /** Accepted `aud` values; empty = a token carrying any `aud` is refused (Clerk session tokens have none). */
      readonly audience: readonly string[];
      readonly emailClaim: string;
      readonly staffRoles: readonly string[];
    }
  | {
      readonly mode: 'development';
      readonly issuer: string | undefined;
      readonly authorizedParties: readonly string[];
      readonly audience: readonly string[];
      readonly emailClaim: string;
      readonly staffRoles: readonly string[];
    };

/** E-mail notifications out and replies in (docs/EMAIL.md). */
export interface MailConfig {
  /** SMTP server to send through (smtp:// or smtps://, with user:password); undefined: .eml files in the data directory. */
  readonly smtpUrl: string | undefined;
  readonly fromName: string;
  readonly fromAddress: string;
  /** The reply address's local part and domain: replies go to `<local>+<token>@<domain>`. */
  readonly replyLocal: string;
  readonly replyDomain: string;
  /** Addresses told about new tickets (and customer replies on unassigned tickets). */
  readonly team: readonly string[];
  /** The dashboard's origin, for links in messages. */
  readonly publicUrl: string;
  /** Key of the reply tokens' HMAC; undefined: one kept in the data directory. */
  readonly secret: string | undefined;
  /** A folder of templates overriding the built-in ones. */
  readonly templatesDir: string | undefined;
  /** Port of the built-in SMTP receiver; undefined: none. */
  readonly inboundPort: number | undefined;
  readonly inboundHost: string;
  readonly inboundTls: { readonly key: string; readonly cert: string } | undefined;
  /** Shared secret of POST /api/v1/inbound/email; undefined: the endpoint does not exist. */
  readonly inboundSecret: string | undefined;
  /** The largest message accepted, in bytes. */
  readonly maxMessageBytes: number;
  /** Messages one sender may send in an hour before the rest are refused. */
  readonly senderHourlyLimit: number;
  /** Mail from an address helpdesk does not know: refused (recorded), or opening a ticket. */
  readonly unknownSenders: 'refuse' | 'open';
  /** The tenant a stranger's ticket opens in when no address below names one; undefined: none. */
  readonly inboundTenant: string | undefined;
  /** Recipient address (lower case) to the tenant a stranger's mail to it opens a ticket in. */
  readonly inboundTenants: ReadonlyMap<string, string>;
}

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  /** Browser origins allowed to call the API cross-origin; empty = no CORS headers at all. */
  readonly corsOrigins: readonly string[];
  /** Requests per user per window; 0 turns the limit off. */
  readonly rateLimit: { readonly max: number; readonly windowSeconds: number };
  /** Where to listen: every interface with Clerk, this machine only (by default) in development sign-in. */
  readonly host: string;
  readonly port: number;
  /** Connections the kernel queues before the server accepts them; undefined: what the system allows. */
  readonly listenBacklog: number | undefined;
  /** While a storm of connections is accepted, the longest a request waits for it (http/accept-first.ts); 0: off. */
  readonly acceptFirstMs: number;
  readonly logLevel: string;
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  readonly auth: AuthConfig;
  /** Days the events feed keeps an event (pruned in the background). */
  readonly eventRetentionDays: number;
  /** Staff search: a search's total is counted exactly up to this many matches, and said to be a lower bound above. */
  readonly searchTotalBound: number;
  /** Live streams (src/live): caps on open streams, and how often an instance with streams open reads the feed. */
  readonly live: { readonly streamsPerUser: number; readonly streamsPerInstance: number; readonly pollMs: number };
  /** Signed webhooks: what endpoints may point at, and how many deliveries one endpoint gets at once. */
  readonly webhooks: WebhookConfig;
  readonly mail: MailConfig;
  /** Attachments: the largest file, and how many bytes one user may upload in 24 hours. */
  readonly attachments: { readonly maxBytes: number; readonly dailyBytes: number; readonly store: 'filesystem' | 'database' };
}

export interface WebhookConfig {
  /** http:// endpoints allowed as well as https:// (development and tests). */
  readonly allowHttp: boolean;
  /** Loopback, private, link-local and other internal addresses allowed (development and tests only: SSRF). */
  readonly allowPrivate: boolean;
  /** Deliveries in flight to one endpoint at most, across every instance. */
  readonly concurrency: number;
  /** Seconds a receiver has to answer; a claim's lease is twice that and 5 s more. */
  readonly timeoutSeconds: number;
  /** This API's public base URL, put before ticket links in payloads; undefined: links are paths. */
  readonly publicUrl: string | undefined;
}

/** Thrown when the environment cannot produce a valid configuration; lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** Parses the environment once into a frozen Config; the only reader of process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];

  const nodeEnv = env.NODE_ENV ?? 'development';
  if (!['development', 'production', 'test'].includes(nodeEnv)) {
    problems.push(`NODE_ENV must be one of development, production, test (got "${nodeEnv}")`);
  }

  const port = Number(env.PORT ?? '8080');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`PORT must be an integer from 0 to 65535 (got "${env.PORT}")`);
  }
  const listenBacklog = env.HELPDESK_LISTEN_BACKLOG === undefined || env.HELPDESK_LISTEN_BACKLOG.trim() === '' ? undefined : Number(env.HELPDESK_LISTEN_BACKLOG);
  if (listenBacklog !== undefined && (!Number.isInteger(listenBacklog) || listenBacklog < 1 || listenBacklog > 1_000_000)) {
    problems.push(`HELPDESK_LISTEN_BACKLOG must be a whole number of connections from 1 (got "${env.HELPDESK_LISTEN_BACKLOG}")`);
  }

  const acceptFirstMs = Number(env.HELPDESK_ACCEPT_FIRST_MS?.trim() || '250');
  if (!Number.isFinite(acceptFirstMs) || acceptFirstMs < 0 || acceptFirstMs > 1_000) {
    problems.push(`HELPDESK_ACCEPT_FIRST_MS must be a number of milliseconds from 0 (off) to 1000 (got "${env.HELPDESK_ACCEPT_FIRST_MS}")`);
  }

  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }

  const dataDir = path.resolve(env.HELPDESK_DATA_DIR ?? './data');

  const rateLimitMax = Number(env.HELPDESK_RATE_LIMIT ?? '600');
  if (!Number.isInteger(rateLimitMax) || rateLimitMax < 0) {
    problems.push(`HELPDESK_RATE_LIMIT must be a whole number of requests per minute, or 0 for no limit (got "${env.HELPDESK_RATE_LIMIT}")`);
  }
  const eventRetentionDays = Number(env.HELPDESK_EVENT_RETENTION_DAYS ?? '30');
  if (!Number.isInteger(eventRetentionDays) || eventRetentionDays < 1 || eventRetentionDays > 36_500) {
    problems.push(`HELPDESK_EVENT_RETENTION_DAYS must be a whole number of days from 1 to 36500 (got "${env.HELPDESK_EVENT_RETENTION_DAYS}")`);
  }
  const searchTotalBound = wholeNumber(env, 'HELPDESK_SEARCH_TOTAL_BOUND', 10_000, 1, 100_000_000, problems);
  const live = {
    streamsPerUser: wholeNumber(env, 'HELPDESK_LIVE_STREAMS_PER_USER', 5, 1, 1000, problems),
    streamsPerInstance: wholeNumber(env, 'HELPDESK_LIVE_STREAMS_PER_INSTANCE', 10_000, 1, 1_000_000, problems),
    pollMs: wholeNumber(env, 'HELPDESK_LIVE_POLL_MS', 500, 50, 60_000, problems),
  };
  const flag = (name: string): boolean => {
    const value = env[name]?.trim() ?? '';
    if (!['', '0', '1'].includes(value)) problems.push(`${name} must be 1 or 0 (got "${value}")`);
    return value === '1';
  };
  const webhookConcurrency = wholeNumber(env, 'HELPDESK_WEBHOOK_CONCURRENCY', 16, 1, 100, problems);
  const webhookTimeout = wholeNumber(env, 'HELPDESK_WEBHOOK_TIMEOUT_SECONDS', 15, 1, 60, problems);
  const publicUrl = nonEmpty(env.HELPDESK_PUBLIC_URL)?.replace(/\/+$/, '');
  if (publicUrl !== undefined && !/^https?:\/\/[^/]+(\/.*)?$/.test(publicUrl)) {
    problems.push(`HELPDESK_PUBLIC_URL must be an http(s) URL like https://help.example.com (got "${publicUrl}")`);
  }
  const webhooks = {
    allowHttp: flag('HELPDESK_WEBHOOK_ALLOW_HTTP'),
    allowPrivate: flag('HELPDESK_WEBHOOK_ALLOW_PRIVATE'),
    concurrency: webhookConcurrency,
    timeoutSeconds: webhookTimeout,
    publicUrl,
  };
  const maxBytes = Number(env.HELPDESK_ATTACHMENT_MAX_BYTES ?? String(25 * 1024 * 1024));
  if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > 1024 ** 3) {
    problems.push(`HELPDESK_ATTACHMENT_MAX_BYTES must be a whole number of bytes from 1 to 1073741824 (got "${env.HELPDESK_ATTACHMENT_MAX_BYTES}")`);
  }
  const dailyBytes = Number(env.HELPDESK_ATTACHMENT_DAILY_BYTES ?? String(500 * 1024 * 1024));
  if (!Number.isInteger(dailyBytes) || dailyBytes < 1) {
    problems.push(`HELPDESK_ATTACHMENT_DAILY_BYTES must be a whole number of bytes, at least 1 (got "${env.HELPDESK_ATTACHMENT_DAILY_BYTES}")`);
  }
  const attachmentStore = env.HELPDESK_ATTACHMENT_STORE ?? 'filesystem';
  if (attachmentStore !== 'filesystem' && attachmentStore !== 'database') {
    problems.push(`HELPDESK_ATTACHMENT_STORE must be filesystem or database (got "${attachmentStore}")`);
  }
  const corsOrigins = list(env.HELPDESK_CORS_ORIGINS);
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/]+$/.test(origin)) problems.push(`HELPDESK_CORS_ORIGINS entries must be origins like https://app.example.com (got "${origin}")`);
  }
  const poolSize = Number(env.DATABASE_POOL_SIZE ?? '10');
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) {
    problems.push(`DATABASE_POOL_SIZE must be an integer from 1 to 1000 (got "${env.DATABASE_POOL_SIZE}")`);
  }
  const database = parseDatabaseUrl(env.DATABASE_URL, dataDir, poolSize, problems);

  const jwtKey = nonEmpty(env.CLERK_JWT_KEY)?.replace(/\\n/g, '\n');
  const jwksUrl = nonEmpty(env.CLERK_JWKS_URL);
  if (jwtKey && !jwtKey.includes('-----BEGIN PUBLIC KEY-----')) {
    problems.push('CLERK_JWT_KEY must be a PEM public key ("-----BEGIN PUBLIC KEY-----…"), as shown in the Clerk dashboard under API keys');
  }
  if (jwksUrl && !/^https?:\/\//.test(jwksUrl)) {
    problems.push(`CLERK_JWKS_URL must be an http(s) URL (got "${jwksUrl}")`);
  } else if (jwksUrl && nodeEnv === 'production' && !jwksUrl.startsWith('https://')) {
    // Whoever can tamper with this fetch can mint tokens for anyone.
    problems.push('CLERK_JWKS_URL must use https:// in production');
  }
  // A Clerk setting that is there but cannot be used is a mistake, never a reason to fall back
  // to development sign-in: that fallback mints staff tokens from a local key.
  const clerkVariables = Object.keys(env)
    .filter((name) => name.startsWith('CLERK_') && env[name] !== undefined)
    .sort();
  for (const name of clerkVariables) {
    if (nonEmpty(env[name]) === undefined) problems.push(`${name} is set but empty: give it a value, or unset it`);
  }
  const shared = {
    issuer: nonEmpty(env.CLERK_ISSUER),
    authorizedParties: list(env.CLERK_AUTHORIZED_PARTIES),
    audience: list(env.CLERK_AUDIENCE),
    emailClaim: nonEmpty(env.CLERK_EMAIL_CLAIM) ?? 'email',
    staffRoles: env.HELPDESK_STAFF_ROLES === undefined ? ['support'] : list(env.HELPDESK_STAFF_ROLES),
  };
  const publishableKey = parsePublishableKey(nonEmpty(env.CLERK_PUBLISHABLE_KEY), problems);
  let auth: AuthConfig;
  if (jwtKey || jwksUrl) {
    auth = { mode: 'clerk', publishableKey, jwtKey, jwksUrl, ...shared };
    if (nodeEnv === 'production') {
      // Without them, a token minted for another of the Clerk instance's apps is accepted here too.
      if (!shared.issuer) problems.push('NODE_ENV=production needs CLERK_ISSUER (your Clerk Frontend API URL, the tokens\' iss)');
      if (shared.authorizedParties.length === 0) {
        problems.push('NODE_ENV=production needs CLERK_AUTHORIZED_PARTIES (the origins of your dashboards, the tokens\' azp)');
      }
    }
  } else {
    if (publishableKey) problems.push('CLERK_PUBLISHABLE_KEY needs CLERK_JWT_KEY or CLERK_JWKS_URL too, so that the tokens it yields can be verified');
    if (nodeEnv === 'production') {
      problems.push('NODE_ENV=production needs CLERK_JWT_KEY or CLERK_JWKS_URL: development sign-in is never enabled in production');
    }
    const stray = clerkVariables.filter((name) => name !== 'CLERK_PUBLISHABLE_KEY' && nonEmpty(env[name]) !== undefined);
    if (stray.length > 0) {
      problems.push(
        `${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} set, but neither CLERK_JWT_KEY nor CLERK_JWKS_URL is: tokens are verified with ` +
          'one of those (a secret key is not used). Set one, or unset every CLERK_ variable to use development sign-in',
      );
    }
    auth = { mode: 'development', ...shared };
  }
  const host = env.HOST ?? (auth.mode === 'development' ? '127.0.0.1' : '0.0.0.0');
  const mail = parseMail(env, host, port, publicUrl, problems);

  if (problems.length > 0) throw new ConfigError(problems);

  return Object.freeze({
    env: nodeEnv as Config['env'],
    corsOrigins: Object.freeze(corsOrigins),
    rateLimit: Object.freeze({ max: rateLimitMax, windowSeconds: 60 }),
    host,
    port,
    listenBacklog,
    acceptFirstMs,
    logLevel,
    dataDir,
    database: Object.freeze(database),
    auth: Object.freeze(auth),
    eventRetentionDays,
    searchTotalBound,
    live: Object.freeze(live),
    webhooks: Object.freeze(webhooks),
    mail: Object.freeze(mail),
    attachments: Object.freeze({ maxBytes, dailyBytes, store: attachmentStore as Config['attachments']['store'] }),
  });
}

const ADDRESS = /^[^\s@<>()",;:]+@[a-z0-9.-]+\.?[a-z0-9-]*$/i;

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const text = env[name];
  const value = text === undefined || text.trim() === '' ? fallback : Number(text);
  if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be a whole number from ${min} to ${max} (got "${text}")`);
  return value;
}

function parseMail(env: NodeJS.ProcessEnv, host: string, port: number, configuredPublicUrl: string | undefined, problems: string[]): MailConfig {
  const smtpUrl = nonEmpty(env.HELPDESK_SMTP_URL);
  if (smtpUrl && !/^smtps?:\/\/[^/]/.test(smtpUrl)) problems.push(`HELPDESK_SMTP_URL must start with smtp:// or smtps:// (got "${redactUrl(smtpUrl)}")`);
  const fromAddress = nonEmpty(env.HELPDESK_MAIL_FROM) ?? 'helpdesk@localhost';
  if (!ADDRESS.test(fromAddress)) problems.push(`HELPDESK_MAIL_FROM must be an e-mail address like support@example.com (got "${fromAddress}")`);
  const replyTo = nonEmpty(env.HELPDESK_MAIL_REPLY_TO) ?? fromAddress;
  if (!ADDRESS.test(replyTo) || replyTo.includes('+')) {
    problems.push(`HELPDESK_MAIL_REPLY_TO must be an e-mail address without "+", like support@example.com (got "${replyTo}")`);
  }
  const at = replyTo.lastIndexOf('@');
  const team = list(env.HELPDESK_MAIL_TEAM);
  for (const address of team) if (!ADDRESS.test(address)) problems.push(`HELPDESK_MAIL_TEAM entries must be e-mail addresses (got "${address}")`);
  // Links in messages need an origin: this server's own when none is configured.
  const publicUrl = configuredPublicUrl ?? `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`;
  const secret = nonEmpty(env.HELPDESK_MAIL_SECRET);
  if (secret !== undefined && secret.length < 32) problems.push('HELPDESK_MAIL_SECRET must be at least 32 characters (openssl rand -hex 32)');
  const inboundSecret = nonEmpty(env.HELPDESK_MAIL_INBOUND_SECRET);
  if (inboundSecret !== undefined && inboundSecret.length < 32) problems.push('HELPDESK_MAIL_INBOUND_SECRET must be at least 32 characters (openssl rand -hex 32)');
  const inboundPortText = nonEmpty(env.HELPDESK_SMTP_INBOUND_PORT);
  const inboundPort = inboundPortText === undefined ? undefined : wholeNumber(env, 'HELPDESK_SMTP_INBOUND_PORT', 0, 0, 65535, problems);
  const unknownSenders = nonEmpty(env.HELPDESK_MAIL_UNKNOWN_SENDERS)?.toLowerCase() ?? 'refuse';
  if (unknownSenders !== 'refuse' && unknownSenders !== 'open') problems.push(`HELPDESK_MAIL_UNKNOWN_SENDERS must be refuse or open (got "${unknownSenders}")`);
  const inboundTenant = nonEmpty(env.HELPDESK_MAIL_INBOUND_TENANT);
  const inboundTenants = new Map<string, string>();
  for (const entry of list(env.HELPDESK_MAIL_INBOUND_TENANTS)) {
    const [address = '', tenant = ''] = entry.split('=').map((part) => part.trim());
    if (!ADDRESS.test(address) || tenant === '' || entry.split('=').length !== 2) {
      problems.push(`HELPDESK_MAIL_INBOUND_TENANTS entries must be address=tenant, like acme@desk.example.com=org_acme (got "${entry}")`);
    } else inboundTenants.set(address.toLowerCase(), tenant);
  }
  if (unknownSenders === 'open' && inboundTenant === undefined && inboundTenants.size === 0) {
    problems.push('HELPDESK_MAIL_UNKNOWN_SENDERS=open needs the tenant their tickets open in: HELPDESK_MAIL_INBOUND_TENANT, or HELPDESK_MAIL_INBOUND_TENANTS per address');
  }
  const tlsKey = nonEmpty(env.HELPDESK_SMTP_INBOUND_TLS_KEY);
  const tlsCert = nonEmpty(env.HELPDESK_SMTP_INBOUND_TLS_CERT);
  if ((tlsKey === undefined) !== (tlsCert === undefined)) problems.push('HELPDESK_SMTP_INBOUND_TLS_KEY and HELPDESK_SMTP_INBOUND_TLS_CERT go together: set both or neither');
  return {
    smtpUrl,
    fromName: nonEmpty(env.HELPDESK_MAIL_FROM_NAME) ?? 'Helpdesk',
    fromAddress,
    replyLocal: replyTo.slice(0, at),
    replyDomain: replyTo.slice(at + 1).toLowerCase(),
    team: Object.freeze(team),
    publicUrl,
    secret,
    templatesDir: nonEmpty(env.HELPDESK_MAIL_TEMPLATES) === undefined ? undefined : path.resolve(env.HELPDESK_MAIL_TEMPLATES as string),
    inboundPort,
    inboundHost: nonEmpty(env.HELPDESK_SMTP_INBOUND_HOST) ?? host,
    inboundTls: tlsKey && tlsCert ? Object.freeze({ key: path.resolve(tlsKey), cert: path.resolve(tlsCert) }) : undefined,
    inboundSecret,
    maxMessageBytes: wholeNumber(env, 'HELPDESK_MAIL_MAX_BYTES', 25 * 1024 * 1024, 1024, 1024 * 1024 * 1024, problems),
    senderHourlyLimit: wholeNumber(env, 'HELPDESK_MAIL_SENDER_HOURLY_LIMIT', 30, 1, 1_000_000, problems),
    unknownSenders: unknownSenders === 'open' ? 'open' : 'refuse',
    inboundTenant,
    inboundTenants,
  };
}

/** Which sign-in is on and why, said at start: loudly (a warning) for development sign-in. */
export function describeAuth(config: Config): { level: 'info' | 'warn'; message: string } {
  const { auth } = config;
  const staff =
    auth.staffRoles.length > 0 ? `staff are tokens whose metadata.role is ${auth.staffRoles.join(' or ')}` : 'no one is staff (HELPDESK_STAFF_ROLES is empty)';
  if (auth.mode === 'clerk') {
    const key = auth.jwtKey ? 'the PEM key in CLERK_JWT_KEY' : `the keys at CLERK_JWKS_URL ${auth.jwksUrl}`;
    const checks = [
      auth.issuer ? `iss must be ${auth.issuer}` : 'iss is not checked (set CLERK_ISSUER)',
      auth.authorizedParties.length > 0 ? `azp must be one of ${auth.authorizedParties.join(', ')}` : 'azp is not checked (set CLERK_AUTHORIZED_PARTIES)',
      auth.audience.length > 0 ? `aud must be one of ${auth.audience.join(', ')}` : 'a token carrying aud is refused (CLERK_AUDIENCE is not set)',
    ];
    return { level: 'info', message: `CLERK SIGN-IN: tokens are verified with ${key}, because it is set; ${checks.join('; ')}; ${staff}.` };
  }
  const loopbackOnly = config.host === 'localhost' || config.host === '::1' || config.host.startsWith('127.');
  return {
    level: 'warn',
    message:
      'DEVELOPMENT SIGN-IN IS ON, because no CLERK_ variable is set: tokens signed with the local key in ' +
      `${config.dataDir} are accepted, staff tokens included. Mint one with: npm run helpdesk -- token --user USER --email EMAIL [--org ORG] [--staff]. ` +
      "The dashboard's demo sign-in (POST /api/v1/dev/tokens) answers this machine only: a loopback connection, a localhost Host and no proxy headers. " +
      (loopbackOnly
        ? `Listening on ${config.host} only (HOST): nothing outside this machine can reach the API.`
        : `HOST=${config.host}: THE API IS REACHABLE FROM THE NETWORK with tokens from the local key; leave HOST unset to listen on 127.0.0.1 only, or configure Clerk.`),
  };
}

function parseDatabaseUrl(url: string | undefined, dataDir: string, poolSize: number, problems: string[]): DatabaseConfig {
  if (url === undefined || url.trim() === '') {
    return { kind: 'sqlite', path: path.join(dataDir, 'helpdesk.db') };
  }
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') problems.push('DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:./data/helpdesk.db');
    return { kind: 'sqlite', path: file === ':memory:' ? file : path.resolve(file) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url, poolSize };
  problems.push(`DATABASE_URL must start with sqlite: or postgres:// (got "${redactUrl(url)}")`);
  return { kind: 'sqlite', path: '' };
}

// A Clerk publishable key is `pk_test_` or `pk_live_` and the base64 of the Frontend API host followed by `$`.
function parsePublishableKey(key: string | undefined, problems: string[]) {
  if (key === undefined) return undefined;
  const match = /^pk_(test|live)_([A-Za-z0-9+/=]+)$/.exec(key);
  const host = match ? Buffer.from(match[2] as string, 'base64').toString('utf8') : '';
  if (!/^[a-z0-9.-]+\.[a-z]{2,}\$$/i.test(host)) {
    problems.push('CLERK_PUBLISHABLE_KEY must be the publishable key from the Clerk dashboard (pk_test_… or pk_live_…)');
    return undefined;
  }
  return Object.freeze({ key, frontendApi: `https://${host.slice(0, -1)}` });
}

/** A database URL with its password hidden, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
