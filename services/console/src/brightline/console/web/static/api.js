// Talking to the BFF: JSON over the session cookie (HttpOnly: no token is readable by this
// page; sign-in is the identity provider's login page via /auth/login), and the live event
// stream (SSE read with fetch). `session` keeps only who is signed in, for the header.
export const session = {
  get() { try { return JSON.parse(sessionStorage.getItem("session")); } catch { return null; } },
  set(value) { sessionStorage.setItem("session", JSON.stringify(value)); },
  clear() { sessionStorage.removeItem("session"); },
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `HTTP ${status}`);
    this.status = status; this.body = body;
  }
}

export async function api(method, path, body, headers = {}) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export function openStream(onMessage, onState) {
  let stopped = false;
  let controller;
  async function run() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const response = await fetch("/api/events", { credentials: "same-origin", signal: controller.signal });
        if (!response.ok) throw new Error(`stream ${response.status}`);
        onState(true);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const chunk = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
            const data = chunk.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
            if (data) { try { onMessage(JSON.parse(data)); } catch (e) { console.error(e); } }
          }
        }
      } catch (error) {
        if (stopped) return;
      }
      onState(false);
      if (!stopped) await new Promise((r) => setTimeout(r, 2000));
    }
  }
  run();
  return () => { stopped = true; controller?.abort(); };
}

export function uuid() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}
