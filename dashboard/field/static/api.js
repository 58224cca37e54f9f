// The REST API (/api/v1) with the session cookie; POSTs carry the page's Origin, as the CSRF check asks.
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || null;
    this.field = e.field || null;
  }
  // Worth sending again later: the server was away, busy or signed out, not refusing the content.
  get transient() { return this.status >= 500 || [401, 408, 429].includes(this.status); }
}

export class NetworkError extends Error {}

export async function call(method, path, body) {
  const init = {method, credentials: "same-origin", headers: {Accept: "application/json"}};
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch("/api/v1" + path, init);
  } catch (exc) {
    throw new NetworkError(String(exc));
  }
  const data = (response.headers.get("Content-Type") || "").includes("json") ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = path => call("GET", path);
export const post = (path, body) => call("POST", path, body);

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map(x => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
