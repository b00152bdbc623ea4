import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

/** URL prefix under which the GraphiQL bundle is served from node_modules. */
export const graphiqlAssetsPath = '/graphiql/assets/';

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
};

/**
 * Returns the dist folder of the @graphql-yoga/graphiql package, or undefined when it is not
 * installed. Yoga's page loads the same bundle from unpkg.com by default.
 */
export function findGraphiqlDist(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return path.join(path.dirname(require.resolve('@graphql-yoga/graphiql/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

/**
 * Reads one asset below `dist`. Returns undefined for names outside the folder, unknown file
 * types and missing files, so the route can never serve other files of the machine.
 */
export async function readGraphiqlAsset(
  dist: string,
  name: string,
): Promise<{ body: Buffer; contentType: string } | undefined> {
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(name) || name.split('/').includes('..')) return undefined;
  const contentType = contentTypes[path.extname(name)];
  if (!contentType) return undefined;
  const file = path.resolve(dist, name);
  if (!file.startsWith(dist + path.sep)) return undefined;
  try {
    return { body: await readFile(file), contentType };
  } catch {
    return undefined;
  }
}
