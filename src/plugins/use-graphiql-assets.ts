import type { Plugin } from 'graphql-yoga';
import { graphiqlAssetsPath, readGraphiqlAsset } from '../graphiql/assets.js';

export interface GraphiqlAssetsOptions {
  /** The dist folder of @graphql-yoga/graphiql; see findGraphiqlDist. */
  dist: string;
}

/** Serves the GraphiQL bundle from node_modules under /graphiql/assets/, so GraphiQL runs offline. */
export function useGraphiqlAssets(options: GraphiqlAssetsOptions): Plugin {
  return {
    // Returns a promise only for asset requests, so other requests do not wait for a tick here.
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!url.pathname.startsWith(graphiqlAssetsPath) || request.method !== 'GET') return undefined;

      return readGraphiqlAsset(options.dist, url.pathname.slice(graphiqlAssetsPath.length)).then((asset) =>
        endResponse(
          asset
            ? new fetchAPI.Response(new Uint8Array(asset.body), {
                headers: { 'content-type': asset.contentType, 'cache-control': 'public, max-age=3600' },
              })
            : new fetchAPI.Response('Not found', { status: 404, headers: { 'content-type': 'text/plain' } }),
        ),
      );
    },
  };
}
