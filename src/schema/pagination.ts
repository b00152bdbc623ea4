import { builder } from './builder.js';

/** Relay page information, shared by every connection type. */
export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export const PageInfoRef = builder.objectRef<PageInfo>('PageInfo').implement({
  description: 'Whether more items follow, and the cursor to pass as `after` to read them.',
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});
