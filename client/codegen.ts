// GraphQL Code Generator: typed document nodes for every operation in src/, checked against
// the API's committed contract (../schema.graphql). An operation the schema no longer
// supports fails here; a changed type fails `tsc`. Either way `npm run build` fails.
//
// It also emits the persisted-documents manifest (src/gql/persisted-documents.json:
// "sha256:<hex>" -> document) and puts each document's hash on its DocumentNode
// (`__meta__.hash`); the app sends only that hash (src/api/client.ts) and the committed copy,
// ./persisted-documents.json, is what the API trusts (`npm run manifest` refreshes it).
import { addTypenameSelectionDocumentTransform, type ClientPresetConfig } from "@graphql-codegen/client-preset";
import type { CodegenConfig } from "@graphql-codegen/cli";

const presetConfig: ClientPresetConfig = {
  fragmentMasking: false,
  persistedDocuments: { hashAlgorithm: "sha256" },
};

const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**"],
  ignoreNoDocuments: false,
  errorsOnly: true,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig,
      // Graphcache adds `__typename` to every selection set it sends, and needs it back to
      // normalise results. With persisted documents the server runs the manifest's text, so
      // the manifest must hold those `__typename`s too.
      documentTransforms: [addTypenameSelectionDocumentTransform],
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        strictScalars: true,
        // Every custom scalar must be mapped (strictScalars): a new one fails the build.
        scalars: {
          Date: "string",
          DateTime: "string",
          Decimal: "string",
          JSON: "unknown",
        },
      },
    },
  },
};

export default config;
