// Tokens come from the page URL (?session=...&token=...) and go to the API as a Bearer header.
export const params = new URLSearchParams(location.search);
export const token = params.get("token") || "";
export const sessionId = params.get("session") || "";

export async function api(method, path, body) {
  const init = { method, headers: { Authorization: `Bearer ${token}` } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(`${r.status}: ${data.error || r.statusText}`);
  return data;
}

export function wsUrl(path) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
}

export const $ = (id) => document.getElementById(id);
