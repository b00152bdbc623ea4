import { isPlatformAdmin } from '../../auth/platform-admin.js';
import type { ReadinessReport, VersionReport } from '../../ops/health.js';
import { forbiddenError } from '../../errors.js';
import { builder } from '../builder.js';

type CheckView = ReadinessReport['checks']['migrations'];

const HealthCheckRef = builder.objectRef<CheckView>('HealthCheck').implement({
  fields: (t) => ({
    status: t.exposeString('status', { description: 'ok, failed, degraded or disabled.' }),
    detail: t.exposeString('detail', { nullable: true }),
    pending: t.exposeStringList('pending', { nullable: true, description: 'Migrations not applied yet.' }),
  }),
});

const VersionsRef = builder.objectRef<VersionReport>('Versions').implement({
  fields: (t) => ({
    node: t.exposeString('node'),
    gatehouse: t.exposeString('gatehouse'),
    postgresql: t.exposeString('postgresql', { nullable: true }),
    redis: t.exposeString('redis', { nullable: true }),
  }),
});

const HealthRef = builder.objectRef<ReadinessReport & { versions: VersionReport }>('Health').implement({
  description: 'The readiness report of GET /ready with software versions.',
  fields: (t) => ({
    status: t.exposeString('status', { description: 'ok, degraded (no Redis) or unavailable.' }),
    database: t.field({ type: HealthCheckRef, resolve: (health) => health.checks.database }),
    migrations: t.field({ type: HealthCheckRef, resolve: (health) => health.checks.migrations }),
    redis: t.field({ type: HealthCheckRef, resolve: (health) => health.checks.redis }),
    passwordHashing: t.field({ type: HealthCheckRef, resolve: (health) => health.checks.passwordHashing }),
    versions: t.field({ type: VersionsRef, resolve: (health) => health.versions }),
  }),
});

builder.queryField('health', (t) =>
  t.field({
    type: HealthRef,
    authScopes: { authenticated: true },
    description: 'Readiness and versions of the server and its dependencies. Platform admins only.',
    resolve: async (_root, _args, context) => {
      if (!(await isPlatformAdmin(context))) throw forbiddenError();
      const { health } = context.services;
      const [report, versions] = await Promise.all([health.readiness(context.origin), health.versions(context.origin)]);

      return { ...report, versions };
    },
  }),
);
