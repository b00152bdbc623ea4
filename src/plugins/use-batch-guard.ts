import type { Plugin } from 'graphql-yoga';
import { gatehouseError } from '../errors.js';

/**
 * Rejects an empty JSON array with BAD_REQUEST. Yoga would return an empty array and
 * status 200, which hides a client bug. Non-empty batches keep one result per operation.
 */
export function useBatchGuard(): Plugin {
  return {
    onRequestParse() {
      return {
        onRequestParseDone({ requestParserResult }) {
          if (Array.isArray(requestParserResult) && requestParserResult.length === 0) {
            throw gatehouseError('BAD_REQUEST', 'The batch is empty. Send at least one operation.');
          }
        },
      };
    },
  };
}
