import { defineConfig } from "@playwright/test";

// The console's end-to-end tests (web/e2e/*.spec.ts). They run against a
// real `absender serve` that web/e2e/console_test.go starts (make test runs
// it); it passes the server's URL, tokens and the SMTP test server in the
// environment. Debian's Chromium, never a downloaded browser; no network
// but loopback.
export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: process.env.ABSENDER_URL ?? "http://127.0.0.1:8080",
    headless: true,
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
