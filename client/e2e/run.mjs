#!/usr/bin/env node
// Runs the browser tests end to end, then stops everything. Three servers:
//
// - the API the client talks to, as in production: ENV=prod, trusted documents only (the
//   prod default), so the client's persisted documents are all that runs; its session
//   tokens are verified with a public key like Clerk's (that of the dev server below);
// - a dev server (ENV=dev): GraphiQL (dev only), and the demo tokens the client signs in
//   with (its dev key plays Clerk for the production-mode API);
// - the client, built for them and served by `vite preview`.
//
// The operations the tests themselves send to the production-mode API (an admin "in
// another tab") are registered with `shop documents add` while it runs, as a deployment
// would. Fails loudly: a server that does not come up, a failed test or a test run past its
// deadline all exit non-zero.
//
//   npm run e2e            (from client/; needs `make install` and `npm ci` first)
//
// Screenshots go to artifacts/screenshots/, server logs to artifacts/e2e/.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createPublicKey } from "node:crypto";
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { CHROMIUM } from "./browser.mjs";
import { testManifest } from "./operations.mjs";

const CLIENT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = resolve(CLIENT, "..");
const ARTIFACTS = resolve(process.env.E2E_ARTIFACTS ?? join(ROOT, "artifacts"));
const SCREENSHOTS = join(ARTIFACTS, "screenshots");
const LOGS = join(ARTIFACTS, "e2e");
const SHOP = join(ROOT, ".venv", "bin", "shop");
const VITE = join(CLIENT, "node_modules", ".bin", "vite");
const TESTS = ["e2e/graphiql.test.mjs", "e2e/shopper.test.mjs", "e2e/apq.test.mjs"];
// The dev server's token issuer (services/tokens.py DEV_ISSUER).
const DEV_ISSUER = "https://dev.shopgraph.local";
const DEADLINE_MS = Number(process.env.E2E_DEADLINE_MS ?? 5 * 60_000);

const children = [];
let tempDir;

function log(message) {
  console.log(`::: e2e: ${message}`);
}

/** `count` distinct free ports (all held open together, so none is handed out twice). */
async function freePorts(count) {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise((resolveServer, reject) => {
          const server = createServer();
          server.on("error", reject);
          server.listen(0, "127.0.0.1", () => resolveServer(server));
        }),
    ),
  );
  const ports = servers.map((server) => server.address().port);
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

/** Start a long-running process in its own process group, output to a log file. */
function start(name, command, args, options) {
  const out = createWriteStream(join(LOGS, `${name}.log`));
  const child = spawn(command, args, { ...options, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  child.name = name;
  children.push(child);
  return child;
}

/** Run a command to completion with inherited output; reject unless it exits with 0. It
 * gets its own process group too, so that the watchdog can stop it (and its browser). */
function run(command, args, options) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { ...options, detached: true, stdio: "inherit" });
    child.name = command;
    children.push(child);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code === 0) resolveRun();
      else reject(new Error(`${command} ${args.join(" ")} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

async function waitForHttp(child, url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.name} exited early (${child.exitCode})`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs / 1000} s`);
}

/** Wait until the API runs a document by id (it loads new documents by polling). */
async function waitForDocument(child, url, documentId, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.name} exited early (${child.exitCode})`);
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ documentId, variables: {} }),
    });
    const body = await response.json();
    if (body.errors?.[0]?.extensions?.code !== "PERSISTED_QUERY_NOT_FOUND") return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${child.name} did not load ${documentId} within ${timeoutMs / 1000} s`);
}

async function stopAll() {
  await Promise.all(
    children.map(
      (child) =>
        new Promise((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          const kill = setTimeout(() => {
            try {
              process.kill(-child.pid, "SIGKILL");
            } catch {
              // already gone
            }
          }, 10_000);
          child.on("exit", () => {
            clearTimeout(kill);
            done();
          });
          try {
            process.kill(-child.pid, "SIGTERM"); // the whole group: npm/uvicorn children too
          } catch {
            done();
          }
        }),
    ),
  );
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
}

async function showLogs() {
  for (const child of children.filter((c) => c.stdout)) {
    const text = await readFile(join(LOGS, `${child.name}.log`), "utf8").catch(() => "");
    console.error(`\n----- last lines of ${child.name}.log -----\n${text.split("\n").slice(-60).join("\n")}`);
  }
}

async function main() {
  for (const [path, hint] of [
    [CHROMIUM, "install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH"],
    [SHOP, "run `make install` in the repository root"],
    [VITE, "run `npm ci` in client/"],
  ]) {
    await access(path).catch(() => {
      throw new Error(`${path} is missing: ${hint}`);
    });
  }
  await rm(SCREENSHOTS, { recursive: true, force: true });
  await mkdir(SCREENSHOTS, { recursive: true });
  await mkdir(LOGS, { recursive: true });
  tempDir = await mkdtemp(join(tmpdir(), "shopgraph-e2e-"));

  const [apiPort, devPort, clientPort] = await freePorts(3);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const devUrl = `http://127.0.0.1:${devPort}`;
  const clientUrl = `http://127.0.0.1:${clientPort}`;

  log(`building the client for ${apiUrl} (demo tokens from ${devUrl})`);
  const outDir = join(tempDir, "client");
  await run(VITE, ["build", "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"], {
    cwd: CLIENT,
    env: { ...process.env, VITE_API_URL: apiUrl, VITE_DEV_TOKENS_URL: `${devUrl}/dev/tokens` },
  });

  // Not the repository root: a developer's .env there must not leak into the test servers.
  const common = {
    ...process.env,
    PYTHONPATH: ROOT,
    DATABASE_URL: "",
    BROADCAST_URL: "memory://",
    SEED_ON_START: "true",
    MIGRATE_ON_START: "true",
    CORS_ALLOWED_ORIGINS: clientUrl,
    WS_ALLOWED_ORIGINS: "",
    CLERK_JWKS_URL: "",
    // Tokens name the client as their authorised party (`azp`), as Clerk's do.
    CLERK_AUTHORIZED_PARTIES: clientUrl,
    LOG_LEVEL: "WARNING",
  };
  log(`starting the dev server on ${devUrl} (ENV=dev: GraphiQL, demo tokens)`);
  const devDataDir = join(tempDir, "dev-data");
  const dev = start("dev", SHOP, ["serve", "--host", "127.0.0.1", "--port", String(devPort)], {
    cwd: tempDir,
    env: {
      ...common,
      ENV: "dev",
      DATA_DIR: devDataDir,
      GRAPHIQL_ASSETS: "local",
      CLERK_JWT_KEY: "",
      CLERK_ISSUER: "",
    },
  });
  await waitForHttp(dev, `${devUrl}/readyz`, 120_000);
  const devKey = await readFile(join(devDataDir, "dev-keys", "private.pem"), "utf8");
  const publicKey = createPublicKey(devKey).export({ type: "spki", format: "pem" });

  log(`starting the API on ${apiUrl} (ENV=prod, trusted documents only, fresh SQLite, demo data)`);
  const apiEnv = {
    ...common,
    ENV: "prod",
    DATA_DIR: join(tempDir, "api-data"),
    CLERK_JWT_KEY: publicKey,
    CLERK_ISSUER: DEV_ISSUER,
    // Documents added while it runs are found within a second (no shared event bus here).
    DOCUMENTS_POLL_SECONDS: "1",
  };
  delete apiEnv.OPERATIONS; // the prod default (trusted), whatever this shell says
  const api = start("api", SHOP, ["serve", "--host", "127.0.0.1", "--port", String(apiPort)], {
    cwd: tempDir,
    env: apiEnv,
  });
  const preview = start(
    "preview",
    VITE,
    ["preview", "--outDir", outDir, "--host", "127.0.0.1", "--port", String(clientPort), "--strictPort"],
    { cwd: CLIENT },
  );
  await waitForHttp(api, `${apiUrl}/readyz`, 120_000);
  await waitForHttp(preview, `${clientUrl}/`, 30_000);
  log(`serving the client on ${clientUrl}`);

  log("registering the tests' own operations with `shop documents add` (no restart)");
  const manifest = join(tempDir, "e2e-operations.json");
  const documents = testManifest();
  await writeFile(manifest, JSON.stringify(documents, null, 2));
  await run(SHOP, ["documents", "add", manifest], { cwd: tempDir, env: apiEnv });
  await waitForDocument(api, apiUrl, Object.keys(documents)[0], 30_000);

  log(`running ${TESTS.length} test files in ${CHROMIUM}`);
  await run(process.execPath, ["--test", "--test-concurrency=1", "--test-reporter=spec", ...TESTS], {
    cwd: CLIENT,
    env: {
      ...process.env,
      E2E_API_URL: apiUrl,
      E2E_DEV_URL: devUrl,
      E2E_CLIENT_URL: clientUrl,
      E2E_SCREENSHOTS: SCREENSHOTS,
    },
  });
  log(`passed; screenshots in ${SCREENSHOTS}`);
}

let failing = false;
async function fail(message, exitCode = 1) {
  if (failing) return; // one report: the watchdog's, or the first error's
  failing = true;
  console.error(`::: e2e: FAILED: ${message}`);
  await showLogs();
  await stopAll();
  process.exit(exitCode);
}

const watchdog = setTimeout(() => fail(`still running after ${DEADLINE_MS / 1000} s`), DEADLINE_MS);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => fail(`interrupted (${signal})`, 130));
}

try {
  await main();
  clearTimeout(watchdog);
  await stopAll();
} catch (error) {
  await fail(error.message);
}
