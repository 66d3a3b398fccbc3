// GraphQL Code Generator for API consumers: `npm run codegen` turns the operations in
// examples/**/*.graphql into typed document nodes (TypedDocumentNode) in examples/generated/,
// checked against the server's printed schema (schema.graphql, see `npm run schema:print`).
// A frontend copies this file, points `documents` at its own operations and `generates` at its
// source tree, and passes the generated documents to any TypedDocumentNode-aware client
// (urql, Apollo Client, graphql-request, graphql-ws).
//
// The web client (web/, see web/README.md) is the second project here: its operations are
// `graphql()` calls colocated with the components that use them (fragment masking on), and the
// client preset writes the typed `graphql()` function and documents into web/src/gql/.
//
// Note on devDependencies: @graphql-tools/wrap and @graphql-tools/delegate are pinned because
// the newest @graphql-tools/delegate asks for an @graphql-tools/batch-execute that the registry
// this project installs from does not have; the pins keep `npm install` resolvable.
import type { CodegenConfig } from '@graphql-codegen/cli';
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset';

const config: CodegenConfig = {
  schema: './schema.graphql',
  // An empty documents glob is a mistake, not a success.
  ignoreNoDocuments: false,
  // Generated files import each other as './graphql.js': valid ESM under NodeNext and bundlers.
  importExtension: '.js',
  generates: {
    'examples/generated/': {
      documents: ['examples/**/*.graphql'],
      preset: 'client',
      presetConfig: {
        // Plain types for every operation; no fragment masking helpers in the examples.
        fragmentMasking: false,
      },
      config: {
        // Custom scalars as they travel over JSON.
        scalars: {
          DateTime: { input: 'string', output: 'string' },
          File: { input: 'File', output: 'never' },
        },
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        strictScalars: true,
      },
    },
    // The web client: every operation and fragment is a graphql() call in web/src.
    'web/src/gql/': {
      documents: ['web/src/**/*.{ts,tsx}', '!web/src/gql/**'],
      preset: 'client',
      // graphcache normalizes by __typename: the documents ask for it, so the types have it.
      documentTransforms: [addTypenameSelectionDocumentTransform],
      presetConfig: {
        // Components read only the fields their own fragment asks for (useFragment).
        fragmentMasking: { unmaskFunctionName: 'getFragmentData' },
      },
      config: {
        scalars: {
          DateTime: { input: 'string', output: 'string' },
          File: { input: 'File', output: 'never' },
        },
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        strictScalars: true,
      },
    },
  },
};

export default config;
