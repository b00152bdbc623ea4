import { isAsyncIterable, processRegularResult, type Plugin } from 'graphql-yoga';

/**
 * Sends a result as `application/json` when the Accept header names no media type that Yoga
 * serves, such as `application/graphql+json` or `text/plain`. Yoga picks the media type only
 * after the operation has run and would then send an empty 406. A mutation's effect, such as a
 * new account or a rotated refresh token, would stand while its result was lost. The GraphQL over
 * HTTP draft specification lets a server whose media types the Accept header rules out either
 * stop with 406 before processing or disregard the header and name its choice in Content-Type.
 * Streamed results keep Yoga's 406, because they need a streaming media type.
 */
export function useJsonFallback(): Plugin {
  return {
    onResultProcess({ result, resultProcessor, setResultProcessor }) {
      if (resultProcessor || isAsyncIterable(result)) return;
      setResultProcessor(processRegularResult, 'application/json');
    },
  };
}
