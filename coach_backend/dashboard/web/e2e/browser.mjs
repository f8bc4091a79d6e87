// What every end-to-end script shares: headless Chromium launched the same way (the Debian
// package's binary, no GPU, nothing fetched in the background), and the one-line JSON result
// with its steps.
import { chromium } from "playwright-core";

const QUIET = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
export const WEBGL = ["--enable-unsafe-swiftshader", "--use-angle=swiftshader"]; // WebGL, no GPU

// One browser (Playwright gives it a fresh temporary --user-data-dir) with `extra` arguments.
export function launchBrowser(executablePath, extra = []) {
  return chromium.launch({ executablePath, headless: true, args: [...QUIET, ...extra] });
}

// `result` is printed as the script's one JSON line; `step` records (and logs) progress.
export function startResult() {
  const result = { ok: false, steps: [] };
  const step = (s) => { result.steps.push(s); console.error(`[e2e] ${s}`); };
  return { result, step };
}
