import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeAuth, loadConfig } from './config.js';

const PEM = '-----BEGIN PUBLIC KEY-----\\nMIIBIjAN\\n-----END PUBLIC KEY-----';

describe('loadConfig', () => {
  it('defaults to development sign-in on ./data/helpdesk.db, port 8080', () => {
    const config = loadConfig({});
    expect(config.auth.mode).toBe('development');
    expect(config.database).toEqual({ kind: 'sqlite', path: path.resolve('data/helpdesk.db') });
    expect(config.port).toBe(8080);
    // Development sign-in listens on this machine only unless HOST says otherwise; Clerk on every interface.
    expect(config.host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ CLERK_JWT_KEY: PEM }).host).toBe('0.0.0.0');
    expect(config.auth.staffRoles).toEqual(['support']);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the webhook settings: https only, no private addresses, 16 at once, 15 s, unless told otherwise', () => {
    expect(loadConfig({}).webhooks).toEqual({ allowHttp: false, allowPrivate: false, concurrency: 16, timeoutSeconds: 15, publicUrl: undefined });
    expect(
      loadConfig({
        HELPDESK_WEBHOOK_ALLOW_HTTP: '1',
        HELPDESK_WEBHOOK_ALLOW_PRIVATE: '1',
        HELPDESK_WEBHOOK_CONCURRENCY: '8',
        HELPDESK_WEBHOOK_TIMEOUT_SECONDS: '5',
        HELPDESK_PUBLIC_URL: 'https://help.example.com/',
      }).webhooks,
    ).toEqual({ allowHttp: true, allowPrivate: true, concurrency: 8, timeoutSeconds: 5, publicUrl: 'https://help.example.com' });
    expect(() => loadConfig({ HELPDESK_WEBHOOK_ALLOW_PRIVATE: 'yes' })).toThrow(/HELPDESK_WEBHOOK_ALLOW_PRIVATE must be 1 or 0/);
    expect(() => loadConfig({ HELPDESK_WEBHOOK_CONCURRENCY: '0' })).toThrow(/HELPDESK_WEBHOOK_CONCURRENCY must be a whole number from 1 to 100/);
    expect(() => loadConfig({ HELPDESK_WEBHOOK_TIMEOUT_SECONDS: '120' })).toThrow(/HELPDESK_WEBHOOK_TIMEOUT_SECONDS must be a whole number from 1 to 60/);
    expect(() => loadConfig({ HELPDESK_PUBLIC_URL: 'help.example.com' })).toThrow(/HELPDESK_PUBLIC_URL must be an http\(s\) URL/);
  });

  it('switches to Clerk when a key is set, turning escaped newlines into real ones', () => {
    const config = loadConfig({ CLERK_JWT_KEY: PEM, CLERK_AUTHORIZED_PARTIES: 'https://a.test, https://b.test', HELPDESK_STAFF_ROLES: 'agent' });
    expect(config.auth).toMatchObject({ mode: 'clerk', authorizedParties: ['https://a.test', 'https://b.test'], staffRoles: ['agent'] });
    expect(config.auth.mode === 'clerk' && config.auth.jwtKey).toContain('\nMIIBIjAN\n');
  });

  it('reads the Clerk publishable key and the Frontend API it names, refusing malformed ones', () => {
    const key = `pk_live_${Buffer.from('clerk.example.com$').toString('base64')}`;
    const config = loadConfig({ CLERK_JWT_KEY: PEM, CLERK_PUBLISHABLE_KEY: key });
    expect(config.auth.mode === 'clerk' && config.auth.publishableKey).toEqual({ key, frontendApi: 'https://clerk.example.com' });
    expect(() => loadConfig({ CLERK_JWT_KEY: PEM, CLERK_PUBLISHABLE_KEY: 'sk_live_secret' })).toThrow(/CLERK_PUBLISHABLE_KEY must be the publishable key/);
    expect(() => loadConfig({ CLERK_PUBLISHABLE_KEY: key })).toThrow(/CLERK_PUBLISHABLE_KEY needs CLERK_JWT_KEY or CLERK_JWKS_URL/);
  });

  it('refuses production without a Clerk key, an issuer and authorized parties', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/NODE_ENV=production needs CLERK_JWT_KEY or CLERK_JWKS_URL/);
    const clerk = { NODE_ENV: 'production', CLERK_JWKS_URL: 'https://clerk.example/.well-known/jwks.json' };
    expect(() => loadConfig(clerk)).toThrow(/NODE_ENV=production needs CLERK_ISSUER/);
    expect(() => loadConfig(clerk)).toThrow(/NODE_ENV=production needs CLERK_AUTHORIZED_PARTIES/);
    expect(() => loadConfig({ ...clerk, CLERK_ISSUER: 'https://clerk.example' })).toThrow(/CLERK_AUTHORIZED_PARTIES/);
    const complete = loadConfig({ ...clerk, CLERK_ISSUER: 'https://clerk.example', CLERK_AUTHORIZED_PARTIES: 'https://app.example' });
    expect(complete.auth).toMatchObject({ mode: 'clerk', issuer: 'https://clerk.example', authorizedParties: ['https://app.example'] });
  });

  it('never falls back to development sign-in when a Clerk variable is set but unusable', () => {
    const refusals: Array<[Record<string, string>, RegExp]> = [
      [{ CLERK_JWT_KEY: '' }, /CLERK_JWT_KEY is set but empty/],
      [{ CLERK_JWT_KEY: '   ' }, /CLERK_JWT_KEY is set but empty/],
      [{ CLERK_JWKS_URL: ' ' }, /CLERK_JWKS_URL is set but empty/],
      [{ CLERK_JWT_KEY: PEM, CLERK_ISSUER: '' }, /CLERK_ISSUER is set but empty/],
      // Clerk's backend secret key is not what verifies a session token.
      [{ CLERK_SECRET_KEY: 'sk_live_abc' }, /CLERK_SECRET_KEY is set, but neither CLERK_JWT_KEY nor CLERK_JWKS_URL is/],
      [{ CLERK_PEM_PUBLIC_KEY: PEM }, /CLERK_PEM_PUBLIC_KEY is set, but neither/],
      [{ CLERK_ISSUER: 'https://clerk.example', CLERK_AUTHORIZED_PARTIES: 'https://app.example' }, /CLERK_AUTHORIZED_PARTIES, CLERK_ISSUER are set/],
    ];
    for (const [env, message] of refusals) expect(() => loadConfig(env), JSON.stringify(env)).toThrow(message);
    // With a usable key, another Clerk variable the app does not read is fine.
    expect(loadConfig({ CLERK_JWT_KEY: PEM, CLERK_SECRET_KEY: 'sk_live_abc' }).auth.mode).toBe('clerk');
  });

  it('reads CLERK_AUDIENCE as a list', () => {
    expect(loadConfig({ CLERK_JWT_KEY: PEM }).auth.audience).toEqual([]);
    expect(loadConfig({ CLERK_JWT_KEY: PEM, CLERK_AUDIENCE: 'helpdesk, helpdesk-staging' }).auth.audience).toEqual(['helpdesk', 'helpdesk-staging']);
  });

  it('says at start which sign-in is on and why, loudly for development sign-in', () => {
    const development = describeAuth(loadConfig({}));
    expect(development.level).toBe('warn');
    expect(development.message).toMatch(/^DEVELOPMENT SIGN-IN IS ON, because no CLERK_ variable is set/);
    expect(development.message).toContain('Listening on 127.0.0.1 only');
    expect(describeAuth(loadConfig({ HOST: '0.0.0.0' })).message).toContain('HOST=0.0.0.0: THE API IS REACHABLE FROM THE NETWORK');
    const clerk = describeAuth(loadConfig({ CLERK_JWT_KEY: PEM, CLERK_ISSUER: 'https://clerk.example' }));
    expect(clerk.level).toBe('info');
    expect(clerk.message).toContain('CLERK SIGN-IN: tokens are verified with the PEM key in CLERK_JWT_KEY');
    expect(clerk.message).toContain('iss must be https://clerk.example');
    expect(clerk.message).toContain('azp is not checked (set CLERK_AUTHORIZED_PARTIES)');
    expect(clerk.message).toContain('a token carrying aud is refused');
    expect(clerk.message).toContain('staff are tokens whose metadata.role is support');
  });

  it('reads mail settings: .eml files by default, the reply address split, every bad value named', () => {
    const mail = loadConfig({}).mail;
    expect(mail).toMatchObject({ smtpUrl: undefined, fromAddress: 'helpdesk@localhost', replyLocal: 'helpdesk', replyDomain: 'localhost', inboundPort: undefined });
    expect(mail.publicUrl).toBe('http://127.0.0.1:8080');
    const set = loadConfig({
      HELPDESK_SMTP_URL: 'smtps://u:p@mail.example.com:465',
      HELPDESK_MAIL_FROM: 'support@example.com',
      HELPDESK_MAIL_REPLY_TO: 'desk@Reply.Example.com',
      HELPDESK_MAIL_TEAM: 'a@example.com, b@example.com',
      HELPDESK_PUBLIC_URL: 'https://desk.example.com/',
      HELPDESK_SMTP_INBOUND_PORT: '2525',
    }).mail;
    expect(set).toMatchObject({ replyLocal: 'desk', replyDomain: 'reply.example.com', team: ['a@example.com', 'b@example.com'], publicUrl: 'https://desk.example.com', inboundPort: 2525 });
    const problems = (() => {
      try {
        loadConfig({
          HELPDESK_SMTP_URL: 'http://u:secret@x',
          HELPDESK_MAIL_FROM: 'nobody',
          HELPDESK_MAIL_REPLY_TO: 'a+b@example.com',
          HELPDESK_MAIL_SECRET: 'short',
          HELPDESK_SMTP_INBOUND_PORT: '70000',
          HELPDESK_SMTP_INBOUND_TLS_KEY: 'key.pem',
        });
      } catch (error) {
        return (error as ConfigError).problems;
      }
      return [];
    })();
    expect(problems.map((p) => p.split(' ')[0])).toEqual([
      'HELPDESK_SMTP_URL',
      'HELPDESK_MAIL_FROM',
      'HELPDESK_MAIL_REPLY_TO',
      'HELPDESK_MAIL_SECRET',
      'HELPDESK_SMTP_INBOUND_PORT',
      'HELPDESK_SMTP_INBOUND_TLS_KEY',
    ]);
    expect(problems.join('\n')).not.toContain('secret@');
  });

  it('refuses unknown senders unless told where their tickets open', () => {
    expect(loadConfig({}).mail).toMatchObject({ unknownSenders: 'refuse', inboundTenant: undefined });
    const open = loadConfig({
      HELPDESK_MAIL_UNKNOWN_SENDERS: 'open',
      HELPDESK_MAIL_INBOUND_TENANT: 'org_inbox',
      HELPDESK_MAIL_INBOUND_TENANTS: 'Acme@Desk.example.com=org_acme, globex@desk.example.com = org_globex',
    }).mail;
    expect(open).toMatchObject({ unknownSenders: 'open', inboundTenant: 'org_inbox' });
    expect([...open.inboundTenants]).toEqual([
      ['acme@desk.example.com', 'org_acme'],
      ['globex@desk.example.com', 'org_globex'],
    ]);
    const problemsOf = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        return (error as ConfigError).problems;
      }
      return [];
    };
    expect(problemsOf({ HELPDESK_MAIL_UNKNOWN_SENDERS: 'open' })).toEqual([expect.stringContaining('needs the tenant')]);
    expect(problemsOf({ HELPDESK_MAIL_UNKNOWN_SENDERS: 'accept' })).toEqual([expect.stringContaining('must be refuse or open')]);
    expect(problemsOf({ HELPDESK_MAIL_INBOUND_TENANTS: 'acme@desk.example.com, x=y=z' })).toHaveLength(2);
  });

  it('holds requests for at most 250 ms while a storm of connections is accepted, unless told otherwise', () => {
    expect(loadConfig({}).acceptFirstMs).toBe(250);
    expect(loadConfig({ HELPDESK_ACCEPT_FIRST_MS: '0' }).acceptFirstMs).toBe(0);
    expect(loadConfig({ HELPDESK_ACCEPT_FIRST_MS: '25' }).acceptFirstMs).toBe(25);
    for (const bad of ['-1', 'soon', '5000']) {
      expect(() => loadConfig({ HELPDESK_ACCEPT_FIRST_MS: bad })).toThrow(/HELPDESK_ACCEPT_FIRST_MS must be a number of milliseconds/);
    }
  });

  it('lists every problem at once', () => {
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', CLERK_JWT_KEY: 'abc' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toHaveLength(4);
    }
  });

  it('takes sqlite: paths and postgres:// URLs with a pool size, hiding passwords in errors', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.db' }).database).toEqual({ kind: 'sqlite', path: '/tmp/x.db' });
    expect(loadConfig({ DATABASE_URL: 'postgres://u:secret@h/db', DATABASE_POOL_SIZE: '4' }).database).toEqual({
      kind: 'postgres',
      url: 'postgres://u:secret@h/db',
      poolSize: 4,
    });
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:secret@h/db' })).toThrow(/got "mysql:\/\/u:\*\*\*@h\/db"/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:secret@h/db' })).not.toThrow(/secret/);
  });
});
