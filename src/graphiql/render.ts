import { renderGraphiQL, type GraphiQLOptions } from 'graphql-yoga';
import { graphiqlAssetsPath } from './assets.js';

/** Origin of the CDN that Yoga's GraphiQL page loads its bundle from. */
export const graphiqlCdnOrigin = 'https://unpkg.com';

const cdnDist = /https:\/\/unpkg\.com\/@graphql-yoga\/graphiql@[^/"]+\/dist\//g;

const htmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => htmlEscapes[character]!);
}

/** GraphiQL options with the per-request CSP nonce that the renderer puts on each script. */
export type GraphiQLRenderOptions = GraphiQLOptions & { nonce?: string };

/**
 * Creates the GraphiQL page renderer. It starts from Yoga's page, drops the favicon fetched from
 * GitHub, fills in the title of the loading text and adds the request's nonce to every script
 * element. When `localAssets` is set, it points the bundle URLs at this server instead of
 * unpkg.com.
 */
export function createGraphiqlRenderer(localAssets: boolean): (options: GraphiQLRenderOptions) => string {
  return ({ nonce, ...options }) => {
    let html = renderGraphiQL(options).replace(/<link rel=icon [^>]*>/, '');
    // Yoga 5.24 replaces only the first __TITLE__, which leaves "Loading __TITLE__..." on the page.
    html = html.replaceAll('__TITLE__', escapeHtml(options.title ?? 'Yoga GraphiQL'));
    if (localAssets) html = html.replace(cdnDist, graphiqlAssetsPath);
    if (nonce) html = html.replaceAll('<script', `<script nonce="${nonce}"`);

    return html;
  };
}
