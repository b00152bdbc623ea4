import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument, MeDocument, RefreshDocument } from '../generated/graphql.js';
import { backends, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { registerUser } from '../support/users.js';

const metricsToken = 'metrics-token-0123456789abcdef0123456789';
const alertsFile = new URL('../../ops/prometheus/alerts.yml', import.meta.url);
const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((path) => existsSync(path));

/** Reads the value of one series, such as `gatehouse_logins_total{result="success"}`. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));

  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe.each(backends)('metrics on %s', (backend) => {
  let gatehouse: TestGatehouse;
  const scrape = async (headers: Record<string, string> = {}) => {
    const response = await fetch(`${gatehouse.url}/metrics`, { headers });
    return { status: response.status, text: await response.text(), type: response.headers.get('content-type') };
  };

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend, env: { METRICS_TOKEN: metricsToken } });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('serves loopback clients', async () => {
    const response = await scrape();
    expect(response.status).toBe(200);
    expect(response.type).toMatch(/^text\/plain/);
    expect(response.text).toMatch(/^gatehouse_redis_degraded 0$/m);
    const maxConnections = backend === 'pglite' ? 1 : 10;
    expect(sample(response.text, 'gatehouse_database_pool_connections{state="max"}')).toBe(maxConnections);
  });

  it('rejects proxied clients without the token', async () => {
    const proxied = await scrape({ 'x-forwarded-for': '203.0.113.9' });
    expect(proxied.status).toBe(403);
    const wrongToken = await scrape({ 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${metricsToken}x` });
    expect(wrongToken.status).toBe(403);
    const withToken = await scrape({ 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${metricsToken}` });
    expect(withToken.status).toBe(200);
  });

  it('counts logins, refreshes, reuse and denials', async () => {
    const before = (await scrape()).text;
    const user = await registerUser(gatehouse);
    await gatehouse.op(LoginDocument, { input: { email: user.email, password: 'wrong password 1234' } });
    await gatehouse.op(LoginDocument, { input: { email: user.email, password: user.password } });
    const refreshed = await gatehouse.op(RefreshDocument, { token: user.refreshToken });
    expect(refreshed.body.data?.refreshToken).toBeTruthy();
    // The grace period covers only a retry whose child token is still unused, so rotating the
    // child first makes the replay of the first token a reuse.
    await gatehouse.op(RefreshDocument, { token: refreshed.body.data!.refreshToken.refreshToken });
    const replay = await gatehouse.op(RefreshDocument, { token: user.refreshToken });
    expect(replay.body.errors?.[0]?.extensions?.code).toBe('REFRESH_TOKEN_REUSED');
    await gatehouse.op(MeDocument, {}, { token: 'not-a-token' });
    gatehouse.app.services.metrics.rateLimitRejections.inc({ limiter: 'login' });

    const after = (await scrape()).text;
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('gatehouse_logins_total{result="success"}')).toBe(1);
    expect(delta('gatehouse_logins_total{result="INVALID_CREDENTIALS"}')).toBe(1);
    expect(delta('gatehouse_token_refreshes_total{result="success"}')).toBe(2);
    expect(delta('gatehouse_token_refreshes_total{result="REFRESH_TOKEN_REUSED"}')).toBe(1);
    expect(delta('gatehouse_refresh_token_reuse_total')).toBe(1);
    expect(delta('gatehouse_session_revocations_total{reason="refresh_token_reused"}')).toBe(1);
    expect(delta('gatehouse_authorization_denials_total{code="UNAUTHENTICATED"}')).toBe(1);
    expect(delta('gatehouse_rate_limit_rejections_total{limiter="login"}')).toBe(1);
    expect(delta('gatehouse_graphql_requests_total{operation="login",result="ok"}')).toBe(1);
    expect(delta('gatehouse_graphql_request_duration_seconds_count{operation="register"}')).toBe(1);
  });

  it('counts aliased and fragment logins', async () => {
    const user = await registerUser(gatehouse);
    const before = (await scrape()).text;
    const login = (alias: string, password: string) =>
      `${alias}: login(input: { email: "${user.email}", password: "${password}" }) { accessToken }`;
    const aliased = await gatehouse.gql({ query: `mutation { ${login('a', user.password)} ${login('b', user.password)} }` });
    expect(aliased.body.data?.b?.accessToken).toBeTruthy();
    // The failed login nulls the whole result and stops the third one, which never runs.
    const mixed = await gatehouse.gql({
      query: `mutation { ${login('ok', user.password)} ...Failing ${login('never', user.password)} }
        fragment Failing on Mutation { ${login('bad', 'wrong password 1234')} }`,
    });
    expect(mixed.body.errors?.map((error) => error.extensions?.code)).toEqual(['INVALID_CREDENTIALS']);

    const after = (await scrape()).text;
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('gatehouse_logins_total{result="success"}')).toBe(3);
    expect(delta('gatehouse_logins_total{result="INVALID_CREDENTIALS"}')).toBe(1);
    expect(delta('gatehouse_logins_total{result="ok"}')).toBe(0);
  });

  it('reports an account with more than 10 failed logins', async () => {
    const user = await registerUser(gatehouse);
    const before = sample((await scrape()).text, 'gatehouse_login_failure_hotspots{scope="email"}');
    for (let attempt = 0; attempt < 11; attempt++) {
      await gatehouse.op(LoginDocument, { input: { email: user.email, password: 'not the password' } });
    }
    const after = sample((await scrape()).text, 'gatehouse_login_failure_hotspots{scope="email"}');
    expect(after).toBe(before + 1);
  });

  it('names every alert metric', async () => {
    const exposed = new Set([...(await scrape()).text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]));
    const expressions = [...readFileSync(alertsFile, 'utf8').matchAll(/\bgatehouse_[a-z_]+\b/g)].map((match) => match[0]);
    const used = new Set(expressions);
    expect(used.size).toBeGreaterThan(4);
    for (const name of used) expect(exposed, name).toContain(name);
  });
});

describe('metrics registries', () => {
  it('stay apart between instances', async () => {
    const first = await startGatehouse({ backend: 'postgresql' });
    const second = await startGatehouse({ backend: 'postgresql' });
    try {
      first.app.services.metrics.rateLimitRejections.inc({ limiter: 'apart' }, 3);
      const text = await (await fetch(`${second.url}/metrics`)).text();
      expect(sample(text, 'gatehouse_rate_limit_rejections_total{limiter="apart"}')).toBe(0);
      const own = await (await fetch(`${first.url}/metrics`)).text();
      expect(sample(own, 'gatehouse_rate_limit_rejections_total{limiter="apart"}')).toBe(3);
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe('alert rules', () => {
  it.skipIf(!promtool)('pass promtool check and unit tests', () => {
    const cwd = new URL('../../ops/prometheus/', import.meta.url).pathname;
    expect(() => execFileSync(promtool!, ['check', 'rules', 'alerts.yml'], { cwd, stdio: 'pipe' })).not.toThrow();
    expect(() => execFileSync(promtool!, ['test', 'rules', 'alerts.test.yml'], { cwd, stdio: 'pipe' })).not.toThrow();
  });
});
