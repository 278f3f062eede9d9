// GraphQL Code Generator: typed document nodes for every operation in src/, checked against
// the API's committed contract (../schema.graphql). An operation the schema no longer
// supports fails here; a changed type fails `tsc`. Either way `npm run build` fails.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**"],
  ignoreNoDocuments: false,
  errorsOnly: true,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
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
