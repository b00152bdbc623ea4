import type { CodegenConfig } from '@graphql-codegen/cli';

// `npm run codegen` prints the Pothos schema to schema.graphql (committed, and checked by a test)
// and writes typed documents for the operations in test/documents that the tests send.
const config: CodegenConfig = {
  overwrite: true,
  importExtension: '.js',
  generates: {
    'schema.graphql': {
      schema: './src/schema/printed.ts',
      plugins: ['schema-ast'],
      config: { includeDirectives: false, sort: true },
    },
    'test/generated/': {
      schema: './src/schema/printed.ts',
      documents: ['test/documents/**/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { useTypeImports: true, scalars: { DateTime: 'string' }, enumsAsTypes: true },
    },
  },
};

export default config;
