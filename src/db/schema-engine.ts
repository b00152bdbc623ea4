import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const schemaPath = path.join(projectRoot, 'prisma/schema.prisma');
export const migrationsDir = path.join(projectRoot, 'prisma/migrations');

type EngineModule = typeof import('@prisma/schema-engine-wasm');
let engineModule: Promise<EngineModule> | undefined;

/**
 * Loads Prisma's schema engine compiled to WebAssembly. Node 20 cannot import a `.wasm` file as
 * an ES module, so the module is compiled here and its exports are handed to the generated glue.
 */
function loadEngineModule(): Promise<EngineModule> {
  engineModule ??= (async () => {
    const require = createRequire(import.meta.url);
    const glueUrl = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const glue = (await import(glueUrl)) as EngineModule & {
      __wbg_set_wasm(exports: WebAssembly.Exports): void;
    };
    const bytes = await readFile(path.join(path.dirname(glueUrl), 'schema_engine_bg.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();

    return glue;
  })();

  return engineModule;
}

/** Reads the migrations folder in the layout `prisma migrate deploy` reads. */
export async function readMigrations(dir = migrationsDir): Promise<MigrationList> {
  const entries = await readdir(dir, { withFileTypes: true });
  const folders = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  folders.sort();
  const migrationDirectories = await Promise.all(
    folders.map(async (folder) => ({
      path: folder,
      migrationFile: {
        path: 'migration.sql',
        content: {
          tag: 'ok' as const,
          value: await readFile(path.join(dir, folder, 'migration.sql'), 'utf8'),
        },
      },
    })),
  );
  const lockPath = path.join(dir, 'migration_lock.toml');
  const lockContent = await readFile(lockPath, 'utf8').catch(() => null);

  return {
    baseDir: dir,
    lockfile: { path: 'migration_lock.toml', content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

/**
 * Wraps a factory so that every connection the engine opens can be closed afterwards: freeing
 * the engine does not close them, and an open pool keeps PostgreSQL from dropping the database.
 */
function trackConnections(factory: SqlMigrationAwareDriverAdapterFactory) {
  const opened: SqlDriverAdapter[] = [];
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const adapter = await factory.connect();
      opened.push(adapter);

      return adapter;
    },
    connectToShadowDb: async () => {
      const adapter = await factory.connectToShadowDb();
      opened.push(adapter);

      return adapter;
    },
  };
  const closeAll = async () => {
    await Promise.all(opened.splice(0).map((adapter) => adapter.dispose()));
  };

  return { tracked, closeAll };
}

/**
 * Opens the schema engine on a driver adapter, so it needs no native engine binary, runs `work`
 * and then frees the engine and closes its connections.
 */
export async function withSchemaEngine<T>(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  work: (engine: SchemaEngine) => Promise<T>,
  onLog: (message: string) => void = () => {},
): Promise<T> {
  const { SchemaEngine } = await loadEngineModule();
  const schema = await readFile(schemaPath, 'utf8');
  const { tracked, closeAll } = trackConnections(adapterFactory);
  const engine = await SchemaEngine.new(
    { datamodels: [[schemaPath, schema]] },
    onLog,
    bindMigrationAwareSqlAdapterFactory(tracked),
  );
  try {
    return await work(engine);
  } finally {
    engine.free();
    await closeAll();
  }
}

/**
 * Writes the SQL that takes a database built from the migrations to the Prisma schema. An empty
 * string means the two agree. PGlite serves as the shadow database, so no server is needed.
 */
export async function diffMigrationsToSchema(): Promise<string> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PrismaPGlite } = await import('pglite-prisma-adapter');
  const shadow = new PGlite();
  try {
    const schema = await readFile(schemaPath, 'utf8');
    const migrations = await readMigrations();
    const result = await withSchemaEngine(new PrismaPGlite(shadow), (engine) =>
      engine.diff({
        from: { tag: 'migrations', ...migrations },
        to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: schema }] },
        script: true,
        exitCode: null,
        filters: { externalTables: [], externalEnums: [] },
      }),
    );
    const sql = result.stdout ?? '';

    return sql.includes('This is an empty migration') ? '' : sql.trim();
  } finally {
    await shadow.close();
  }
}

/**
 * Applies pending migrations the way `prisma migrate deploy` does, recording each one in
 * `_prisma_migrations`. Returns the names of the migrations applied by this call.
 */
export async function applyMigrations(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  onLog?: (message: string) => void,
): Promise<string[]> {
  const migrationsList = await readMigrations();
  const result = await withSchemaEngine(
    adapterFactory,
    (engine) => engine.applyMigrations({ migrationsList, filters: { externalTables: [], externalEnums: [] } }),
    onLog,
  );

  return result.appliedMigrationNames;
}
