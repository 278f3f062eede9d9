import { readFile } from "node:fs/promises";
import { resolve } from "node:path";

import { generate } from "@graphql-codegen/cli";
import react from "@vitejs/plugin-react";
import { type Plugin, defineConfig } from "vite";

import codegen from "./codegen.ts";

const SCHEMA = resolve(import.meta.dirname, "../schema.graphql");

/**
 * `vite` (dev) regenerates src/gql/ when an operation or the schema changes, so the typed
 * documents never lag behind the code being edited (`npm run build` runs codegen itself).
 */
function graphqlCodegen(): Plugin {
  let queue = Promise.resolve();
  return {
    name: "shopgraph:graphql-codegen",
    apply: "serve",
    configureServer(server) {
      server.watcher.add(SCHEMA);
      server.watcher.on("change", async (file) => {
        const isSource = /\.tsx?$/.test(file) && !file.includes("/src/gql/");
        if (file !== SCHEMA && !(isSource && (await readFile(file, "utf8")).includes("graphql("))) {
          return;
        }
        queue = queue
          .then(() => generate({ ...codegen, silent: true }, true))
          .then(() => server.config.logger.info("graphql-codegen: src/gql/ updated"))
          .catch((error: unknown) => server.config.logger.error(`graphql-codegen: ${String(error)}`));
      });
    },
  };
}

// The dev server (5173) and `vite preview` (4173) run on the origins the API allows by
// default in ENV=dev (CORS and websockets); the API itself is at VITE_API_URL.
export default defineConfig({
  plugins: [react(), graphqlCodegen()],
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
  preview: { host: "127.0.0.1", port: 4173, strictPort: true },
  build: { sourcemap: true },
});
