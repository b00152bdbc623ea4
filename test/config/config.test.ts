import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { configWarnings } from '../../src/config/warnings.js';

const productionKeys = JSON.stringify({ keys: [{ kid: 'k', alg: 'EdDSA', kty: 'OKP', crv: 'Ed25519', x: 'x', d: 'd' }] });

function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);

    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('has defaults that run with nothing set', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.graphiql).toBe(true);
    expect(config.jwt.accessTokenTtlSeconds).toBe(1800);
    expect(config.session.refreshTokenTtlSeconds).toBe(30 * 86_400);
    expect(config.bcryptCost).toBe(12);
    expect(config.cookie).toEqual({ name: 'gatehouse_refresh', sameSite: 'strict', secure: false, path: '/graphql' });
  });

  it.each([
    ['PORT', 'eighty', /PORT/],
    ['PORT', '70000', /PORT/],
    ['DATABASE_URL', 'not a url', /DATABASE_URL/],
    ['BCRYPT_COST', '40', /BCRYPT_COST/],
    ['ACCESS_TOKEN_TTL_SECONDS', '5', /ACCESS_TOKEN_TTL_SECONDS/],
    ['COOKIE_SECURE', 'maybe', /COOKIE_SECURE/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL/],
    ['REFRESH_COOKIE_NAME', 'a;b', /REFRESH_COOKIE_NAME/],
  ])('rejects %s=%s naming the variable', (name, value, pattern) => {
    const message = errorOf({ [name]: value });
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' }).port).toBe(4000);
  });

  it('refuses production without a configured signing key', () => {
    expect(errorOf({ NODE_ENV: 'production' })).toMatch(/JWT_PRIVATE_JWKS/);
  });

  it('refuses production without Secure cookies', () => {
    expect(errorOf({ NODE_ENV: 'production', JWT_PRIVATE_JWKS: productionKeys, COOKIE_SECURE: 'false' })).toMatch(/COOKIE_SECURE/);
  });

  it('refuses a weak bcrypt cost in production', () => {
    expect(errorOf({ NODE_ENV: 'production', JWT_PRIVATE_JWKS: productionKeys, BCRYPT_COST: '8' })).toMatch(/BCRYPT_COST/);
  });

  it('refuses SameSite=None without Secure', () => {
    expect(errorOf({ REFRESH_COOKIE_SAME_SITE: 'none' })).toMatch(/REFRESH_COOKIE_SAME_SITE/);
  });

  it('warns of plain-HTTP CORS origins in production', () => {
    const production = { NODE_ENV: 'production', JWT_PRIVATE_JWKS: productionKeys, ALLOWED_HOSTS: 'auth.example.com' };
    const origins = 'https://app.example.com,http://intranet.example.com,http://localhost:5173';
    const warnings = configWarnings(loadConfig({ ...production, CORS_ORIGINS: origins }));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/CORS_ORIGINS/);
    expect(warnings[0]).toContain('http://intranet.example.com');
    expect(warnings[0]).not.toContain('localhost');
    expect(configWarnings(loadConfig({ CORS_ORIGINS: origins }))).toEqual([]);
    expect(configWarnings(loadConfig({ ...production, CORS_ORIGINS: 'https://app.example.com' }))).toEqual([]);
  });

  it('uses production defaults', () => {
    const config = loadConfig({ NODE_ENV: 'production', JWT_PRIVATE_JWKS: productionKeys, ALLOWED_HOSTS: 'auth.example.com' });
    expect(config.host).toBe('0.0.0.0');
    expect(config.cookie.secure).toBe(true);
    expect(config.graphiql).toBe(false);
  });

  it('reads the bcrypt thread nice increment', () => {
    expect(loadConfig({}).bcryptNiceIncrement).toBe(5);
    expect(loadConfig({ BCRYPT_NICE_INCREMENT: '0' }).bcryptNiceIncrement).toBe(0);
    expect(loadConfig({ BCRYPT_NICE_INCREMENT: '19' }).bcryptNiceIncrement).toBe(19);
    expect(errorOf({ BCRYPT_NICE_INCREMENT: '20' })).toMatch(/BCRYPT_NICE_INCREMENT/);
    expect(errorOf({ BCRYPT_NICE_INCREMENT: '-1' })).toMatch(/BCRYPT_NICE_INCREMENT/);
  });

  it('reads the key reload interval', () => {
    expect(loadConfig({}).jwt.keysReloadSeconds).toBe(30);
    expect(loadConfig({ JWT_KEYS_RELOAD_SECONDS: '0' }).jwt.keysReloadSeconds).toBe(0);
    expect(errorOf({ JWT_KEYS_RELOAD_SECONDS: '-1' })).toMatch(/JWT_KEYS_RELOAD_SECONDS/);
    expect(errorOf({ JWT_KEYS_RELOAD_SECONDS: '86401' })).toMatch(/JWT_KEYS_RELOAD_SECONDS/);
    expect(errorOf({ JWT_KEYS_RELOAD_SECONDS: 'often' })).toMatch(/JWT_KEYS_RELOAD_SECONDS/);
  });
});
