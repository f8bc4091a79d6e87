// The session report (coach_backend/compare/report.py) in a real headless Chromium, driven by
// tests/test_session_report.py (and by hand for docs/session_report.png):
//   node report.e2e.mjs '<json: {chromium, report, screenshot, width?, height?, from?}>'
// Opens report.html from disk, waits for it to load, and prints one JSON line with what the page
// shows (headline, every image's decoded size, rep rows per table, sections) and every request
// that was not for the page itself or an inline image; saves a screenshot (width x height) of
// the page's top, or from the element the CSS selector `from` names, to `screenshot`.
import { pathToFileURL } from "node:url";
import { launchBrowser } from "./browser.mjs";

const cfg = JSON.parse(process.argv[2]);
const browser = await launchBrowser(cfg.chromium);
try {
  const context = await browser.newContext({ viewport: { width: cfg.width ?? 1150, height: cfg.height ?? 1500 } });
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("request", (r) => requests.push(r.url()));
  const url = pathToFileURL(cfg.report).href;
  await page.goto(url, { waitUntil: "load" });
  // Inline images decode asynchronously even after "load": wait until each has.
  await page.evaluate(() => Promise.all([...document.images].map((i) => i.decode().catch(() => null))));
  const seen = await page.evaluate(() => ({
    title: document.title,
    headline: document.querySelector(".headline")?.textContent ?? null,
    images: [...document.images].map((i) => ({ alt: i.alt, width: i.naturalWidth, height: i.naturalHeight })),
    keyFrames: document.querySelectorAll("img.keyframe").length,
    repRows: [...document.querySelectorAll("table.reps")].map((t) => t.querySelectorAll("tr.rep").length),
    sections: [...document.querySelectorAll("h1, h2")].map((h) => h.textContent),
  }));
  const top = cfg.from ? await page.locator(cfg.from).first().evaluate((e) => e.getBoundingClientRect().top + window.scrollY) : 0;
  const { width, height } = page.viewportSize();
  await page.screenshot({ path: cfg.screenshot, fullPage: true, clip: { x: 0, y: Math.max(0, top - 16), width, height } });
  const external = requests.filter((u) => u !== url && !u.startsWith("data:"));
  console.log(JSON.stringify({ ok: true, ...seen, errors, external }));
} finally {
  await browser.close();
}
