#!/usr/bin/env node
// The persisted-documents manifest, versioned with the client.
//
// `npm run codegen` writes src/gql/persisted-documents.json (generated, not committed);
// this copies it to ./persisted-documents.json, the committed copy that the API trusts (it
// loads it by default, and `shop documents add` takes it). With --check (part of
// `npm run build`) it fails instead when the committed copy is not what codegen produces,
// so an operation changed without refreshing the manifest fails the build.
//
//   npm run manifest          (codegen, then this)
//   node scripts/manifest.mjs --check
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const CLIENT = join(dirname(fileURLToPath(import.meta.url)), "..");
const GENERATED = join(CLIENT, "src", "gql", "persisted-documents.json");
const COMMITTED = join(CLIENT, "persisted-documents.json");

const generated = await readFile(GENERATED, "utf8").catch(() => {
  throw new Error(`${relative(CLIENT, GENERATED)} is missing: run \`npm run codegen\` first`);
});
const count = Object.keys(JSON.parse(generated)).length;

if (process.argv.includes("--check")) {
  const committed = await readFile(COMMITTED, "utf8").catch(() => "");
  if (committed !== generated) {
    console.error(
      `persisted-documents.json is not the manifest of the client's operations: run \`npm run manifest\` and commit it`,
    );
    process.exit(1);
  }
  console.log(`persisted-documents.json is up to date (${count} documents)`);
} else {
  await writeFile(COMMITTED, generated);
  console.log(`wrote persisted-documents.json (${count} documents)`);
}
