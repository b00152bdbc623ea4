import { defineConfig } from 'prisma/config';

// The Prisma CLI reads this file. Gatehouse applies migrations itself at start (src/db/migrate.ts),
// so DATABASE_URL only matters here for users who run `prisma migrate deploy` by hand.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/gatehouse' },
});
