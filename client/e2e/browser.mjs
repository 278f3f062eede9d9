// Debian's Chromium driven by playwright-core: no browser download, ever.
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

// Playwright gives every launch a fresh, empty profile (its own --user-data-dir).
const ARGS = [
  "--no-sandbox", // CI runs as root
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  // Nothing but the pages under test: no update checks, sync or component downloads
  // (this machine's closed network refuses them, noisily).
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}
