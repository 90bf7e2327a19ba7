import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const PEM = '-----BEGIN PUBLIC KEY-----\\nMIIBIjAN\\n-----END PUBLIC KEY-----';

describe('loadConfig', () => {
  it('defaults to development sign-in on ./data/helpdesk.db, port 8080', () => {
    const config = loadConfig({});
    expect(config.auth.mode).toBe('development');
    expect(config.database).toEqual({ kind: 'sqlite', path: path.resolve('data/helpdesk.db') });
    expect(config.port).toBe(8080);
    expect(config.auth.staffRoles).toEqual(['admin', 'support']);
    expect(Object.isFrozen(config)).toBe(true);
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

  it('refuses production without a Clerk key', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/NODE_ENV=production needs CLERK_JWT_KEY or CLERK_JWKS_URL/);
    expect(loadConfig({ NODE_ENV: 'production', CLERK_JWKS_URL: 'https://clerk.example/.well-known/jwks.json' }).auth.mode).toBe('clerk');
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
