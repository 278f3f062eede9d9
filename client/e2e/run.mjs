#!/usr/bin/env node
// Runs the browser tests end to end: a fresh API (ENV=dev, SQLite in a temporary DATA_DIR,
// demo data seeded on start), the client built for it and served by `vite preview`, the
// tests in Debian's Chromium; then stops everything. Fails loudly: a server that does not
// come up, a failed test or a test run past its deadline all exit non-zero.
//
//   npm run e2e            (from client/; needs `make install` and `npm ci` first)
//
// Screenshots go to artifacts/screenshots/, server logs to artifacts/e2e/.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { access, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { CHROMIUM } from "./browser.mjs";

const CLIENT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = resolve(CLIENT, "..");
const ARTIFACTS = resolve(process.env.E2E_ARTIFACTS ?? join(ROOT, "artifacts"));
const SCREENSHOTS = join(ARTIFACTS, "screenshots");
const LOGS = join(ARTIFACTS, "e2e");
const SHOP = join(ROOT, ".venv", "bin", "shop");
const VITE = join(CLIENT, "node_modules", ".bin", "vite");
const TESTS = ["e2e/graphiql.test.mjs", "e2e/shopper.test.mjs"];
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

  const [apiPort, clientPort] = await freePorts(2);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const clientUrl = `http://127.0.0.1:${clientPort}`;

  log(`building the client for ${apiUrl}`);
  const outDir = join(tempDir, "client");
  await run(VITE, ["build", "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"], {
    cwd: CLIENT,
    env: { ...process.env, VITE_API_URL: apiUrl },
  });

  log(`starting the API on ${apiUrl} (ENV=dev, fresh SQLite, demo data)`);
  const dataDir = join(tempDir, "data");
  const api = start("api", SHOP, ["serve", "--host", "127.0.0.1", "--port", String(apiPort)], {
    // Not the repository root: a developer's .env there must not leak into the test server.
    cwd: tempDir,
    env: {
      ...process.env,
      PYTHONPATH: ROOT,
      ENV: "dev",
      DATA_DIR: dataDir,
      DATABASE_URL: "",
      BROADCAST_URL: "memory://",
      SEED_ON_START: "true",
      MIGRATE_ON_START: "true",
      CORS_ALLOWED_ORIGINS: clientUrl,
      WS_ALLOWED_ORIGINS: "",
      GRAPHIQL_ASSETS: "local",
      CLERK_JWT_KEY: "",
      CLERK_JWKS_URL: "",
      CLERK_ISSUER: "",
      CLERK_AUTHORIZED_PARTIES: "",
      LOG_LEVEL: "WARNING",
    },
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

  log(`running ${TESTS.length} test files in ${CHROMIUM}`);
  await run(process.execPath, ["--test", "--test-concurrency=1", "--test-reporter=spec", ...TESTS], {
    cwd: CLIENT,
    env: {
      ...process.env,
      E2E_API_URL: apiUrl,
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
