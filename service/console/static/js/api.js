// The console's only way to the server: the public APIs, with the user's API key as a Bearer token.
const KEY = "nectar.apiKey";

export const auth = {
  get key() { return localStorage.getItem(KEY) || ""; },
  set(key) { localStorage.setItem(KEY, key); },
  clear() { localStorage.removeItem(KEY); },
};

export class ApiError extends Error {}

// While any call is out, <body aria-busy="true"> (the top bar shows a loading line; tests wait on it).
let pending = 0;
async function tracked(work) {
  pending += 1;
  document.body.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    pending -= 1;
    if (!pending) document.body.removeAttribute("aria-busy");
  }
}

async function send(path, { method = "GET", json, form } = {}) {
  const headers = { Authorization: `Bearer ${auth.key}` };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body });
  } catch (error) {
    throw new ApiError(`The server did not answer (${error.message})`);
  }
  if (response.status === 401) {  // a wrong or revoked key: forget it, and let the shell ask for another
    auth.clear();
    window.dispatchEvent(new Event("nectar:signed-out"));
    throw new ApiError("The server refused this API key (401 Unauthorized).");
  }
  return response;
}

async function parsed(response) {
  try {
    return await response.json();
  } catch {
    throw new ApiError(`Unexpected reply: HTTP ${response.status}`);
  }
}

// RAGFlow family (/api/v1): {"code": 0, "data"} on success, any other code carries "message" (often HTTP 200).
export function ragflow(path, options) {
  return tracked(async () => {
    const reply = await parsed(await send(`/api/v1${path}`, options));
    if (reply.code !== 0) throw new ApiError(reply.message || `error code ${reply.code}`);
    return reply;
  });
}

// OpsBee family (/opsbee-llm/organizations/me): bare objects, errors {"error", "error_description"}.
export function opsbee(path, options) {
  return tracked(async () => {
    const response = await send(`/opsbee-llm/organizations/me${path}`, options);
    const reply = await parsed(response);
    if (!response.ok) throw new ApiError(reply.error_description || reply.error || `HTTP ${response.status}`);
    return reply;
  });
}

// A RAGFlow completion stream: yields the `data` of each `data:{json}` event until the closing `data: true`.
export async function* completionEvents(body) {
  const response = await send("/api/v1/chat/completions", { method: "POST", json: { ...body, stream: true } });
  if (!response.ok || !(response.headers.get("content-type") || "").includes("text/event-stream")) {
    const reply = await parsed(response);
    throw new ApiError(reply.message || `HTTP ${response.status}`);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5)).join("");
      if (!data) continue;
      const message = JSON.parse(data);
      if (message.code !== 0) throw new ApiError(message.message);
      if (message.data === true) return;
      yield message.data;
    }
  }
}

// A file behind the API (a document, an export): fetched with the key, then saved through a blob URL.
export function download(url, fallbackName) {
  return tracked(() => save(url, fallbackName));
}

async function save(url, fallbackName) {
  const response = await send(url);
  const disposition = response.headers.get("content-disposition") || "";
  if (!response.ok || !disposition.startsWith("attachment")) {  // errors come as JSON, without an attachment
    const reply = await parsed(response);
    throw new ApiError(reply.message || reply.error_description || `HTTP ${response.status}`);
  }
  const match = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/.exec(disposition);
  const name = match ? decodeURIComponent(match[1] || match[2]) : fallbackName;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  return name;
}
