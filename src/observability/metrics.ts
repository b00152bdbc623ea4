import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FailedLoginTracker } from './failed-logins.js';

/** Probes that the gauges read on each scrape: Redis state and database pool use. */
export interface MetricsProbes {
  /** 1 while Redis is configured but not connected, else 0. */
  redisDegraded(): number;
  /** Connections of the database pool; PGlite reports 0 in use out of 1. */
  databasePool(): { inUse: number; idle: number; waiting: number; max: number };
}

/**
 * The Prometheus metrics of one Gatehouse instance, in a registry of its own rather than
 * prom-client's global one, so several instances in one process do not collide. Labels take only
 * values from fixed sets (schema field names, results, limiter names), never user input, which
 * keeps the number of series bounded.
 */
export class GatehouseMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'gatehouse_graphql_requests_total',
    help: 'GraphQL operations executed, by root fields and result (ok or the first error code).',
    labelNames: ['operation', 'result'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'gatehouse_graphql_request_duration_seconds',
    help: 'Time to execute a GraphQL operation, by root fields.',
    labelNames: ['operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly logins = new Counter({
    name: 'gatehouse_logins_total',
    help: 'Login attempts by result: success, or the error code such as INVALID_CREDENTIALS.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly refreshes = new Counter({
    name: 'gatehouse_token_refreshes_total',
    help: 'Refresh-token rotations by result: success, or the error code.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly reuseDetections = new Counter({
    name: 'gatehouse_refresh_token_reuse_total',
    help: 'Refresh tokens presented again after rotation; each revokes its session.',
    registers: [this.registry],
  });
  readonly revocations = new Counter({
    name: 'gatehouse_session_revocations_total',
    help: 'Sessions ended by logout or revocation, by the mutation that ended them.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly authorizationDenials = new Counter({
    name: 'gatehouse_authorization_denials_total',
    help: 'Operations rejected with UNAUTHENTICATED or FORBIDDEN, by code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  /** Rate-limit rejections; the rate limiter increments it with the limiter's name. */
  readonly rateLimitRejections = new Counter({
    name: 'gatehouse_rate_limit_rejections_total',
    help: 'Requests rejected by a rate limit, by limiter name.',
    labelNames: ['limiter'] as const,
    registers: [this.registry],
  });

  /** Failed logins per account and address, read by the hotspot gauge; auth code records them. */
  readonly failedLogins = new FailedLoginTracker();

  constructor(probes: MetricsProbes) {
    const failedLogins = this.failedLogins;
    new Gauge({
      name: 'gatehouse_login_failure_hotspots',
      help: 'Accounts (scope="email") and client addresses (scope="ip") with more than 10 failed logins in the last 5 minutes on this instance.',
      labelNames: ['scope'] as const,
      registers: [this.registry],
      collect() {
        const hotspots = failedLogins.hotspots();
        this.set({ scope: 'email' }, hotspots.email);
        this.set({ scope: 'ip' }, hotspots.ip);
      },
    });
    new Gauge({
      name: 'gatehouse_redis_degraded',
      help: '1 while Redis is configured but unreachable, so state falls back to this process.',
      registers: [this.registry],
      collect() {
        this.set(probes.redisDegraded());
      },
    });
    new Gauge({
      name: 'gatehouse_database_pool_connections',
      help: 'Database pool connections by state: in_use, idle, waiting (requests queued) and max.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const pool = probes.databasePool();
        this.set({ state: 'in_use' }, pool.inUse);
        this.set({ state: 'idle' }, pool.idle);
        this.set({ state: 'waiting' }, pool.waiting);
        this.set({ state: 'max' }, pool.max);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_' });
  }
}
