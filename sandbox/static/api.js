// Talking to the sandbox's control API (documented at the top of sandbox/control.py).

export const API = "/sandbox/api";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function url(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null) params.set(key, String(value));
  }
  const tail = params.toString();
  return API + path + (tail ? `?${tail}` : "");
}

/** One request; resolves to the JSON answer or throws ApiError with the server's message. */
export async function request(method, path, { query, json, form } = {}) {
  const init = { method, headers: {} };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form;
  }
  let response;
  try {
    response = await fetch(url(path, query), init);
  } catch (error) {
    throw new ApiError(0, error.message || "network error");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.error) || response.statusText);
  }
  return data;
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, json) => request("POST", path, { json });

const EVENT_TYPES = [
  "message",
  "edit",
  "delete",
  "action",
  "callback",
  "callback_answer",
  "keyboard",
  "member",
  "commands",
  "pin",
  "call",
  "webhook",
  "reset",
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Follow the event log from `after`: server-sent events, or long polling where the
 * stream cannot be had. `onEvent(event)` gets each event once, in order;
 * `onStatus(state)` hears "live", "reconnecting" and "resync" (after a gap: the
 * page should reload what it shows, events may have been missed meanwhile).
 * Returns `{ last(), rebase(seq) }`: after a resync the page compares the server's
 * `last_seq` with `last()` and rebases if a new server numbers events afresh.
 */
export function follow(after, onEvent, onStatus) {
  let last = after;
  let everConnected = false;

  const deliver = (event) => {
    if (event.seq <= last) return;
    last = event.seq;
    onEvent(event);
  };

  async function longPoll() {
    let failures = 0;
    for (;;) {
      try {
        const answer = await get("/events", { after: last, timeout: 25 });
        if (failures > 0) onStatus("resync");
        failures = 0;
        onStatus("live");
        if (answer.last_seq < last) last = answer.last_seq; // a new server numbers afresh
        for (const event of answer.events) deliver(event);
      } catch {
        failures += 1;
        onStatus("reconnecting");
        await sleep(Math.min(5000, 500 * failures));
      }
    }
  }

  function stream() {
    const source = new EventSource(url("/stream", { after: last }));
    let opened = false;
    source.onopen = () => {
      if (everConnected) onStatus("resync");
      opened = true;
      everConnected = true;
      onStatus("live");
    };
    const handler = (message) => {
      try {
        deliver(JSON.parse(message.data));
      } catch (error) {
        console.error("bad event", error);
      }
    };
    for (const type of EVENT_TYPES) source.addEventListener(type, handler);
    source.onerror = () => {
      onStatus("reconnecting");
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        // Never opened at all: this browser or a proxy cannot stream; poll instead.
        if (!opened && !everConnected) longPoll();
        else setTimeout(stream, 1500);
      }
    };
  }

  if (typeof EventSource === "function") stream();
  else longPoll();
  return {
    last: () => last,
    rebase: (seq) => {
      last = seq;
    },
  };
}
