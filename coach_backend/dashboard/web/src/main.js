// Entry point: each HTML page names itself in <body data-page="...">.
import { athletePage, indexPage, livePage, replayPage } from "./pages.js";

const pages = { index: indexPage, athlete: athletePage, live: livePage, replay: replayPage };
const page = pages[document.body.dataset.page];
if (page) page().catch((e) => {
  const el = document.getElementById("error") || document.getElementById("state");
  if (el) el.textContent = String(e);
  console.error(e);
});
