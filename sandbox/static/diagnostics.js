// "What the sandbox saw": the bot's last Bot API calls and the limiter, for the curious.
// Fetched only while the panel is open, so a closed panel costs nothing.

import { get } from "./api.js";
import { errorText, t } from "./i18n.js";
import { el, hhmmss } from "./render.js";

const REFRESH_MS = 2000;
const SHOWN_CALLS = 40;

function statusClass(status) {
  if (status === 429) return "status-warn";
  if (status >= 200 && status < 300) return "status-ok";
  return "status-bad";
}

function statsLine(stats) {
  const calls = stats.calls;
  const settings = stats.limiter.settings;
  const inFlight = Object.values(calls.in_flight || {}).reduce((a, b) => a + b, 0);
  const item = (label, value, testid) =>
    el("span", { "data-testid": testid }, `${label} `, el("b", { text: String(value) }));
  return [
    item(t("calls"), calls.total, "diag-total"),
    item(t("rateLimited"), calls.rate_limited, "diag-429"),
    item(t("faults"), calls.faults_injected, "diag-faults"),
    item(t("limiter"), settings.enforce ? t("on") : t("off"), "diag-limiter"),
    item(t("inFlight"), inFlight, "diag-in-flight"),
  ];
}

function bucketsLine(stats) {
  const busy = stats.limiter.buckets.filter((b) => b.used > 0).slice(0, 3);
  if (!busy.length) return "";
  const parts = busy.map((b) => {
    const scope = b.scope === "global" ? "global" : `chat ${b.chat_id}`;
    return `${scope} ${b.used.toFixed(1)}/${b.capacity}`;
  });
  return `${t("busiest")}: ${parts.join(" · ")}`;
}

function callRow(call) {
  return el(
    "tr",
    { "data-testid": "diag-call" },
    el("td", { text: hhmmss(call.time) }),
    el("td", { class: "method", title: call.description || call.method, text: call.method }),
    el("td", { class: statusClass(call.status), text: String(call.status) }),
    el("td", { text: `${Math.round(call.duration * 1000)}ms` }),
  );
}

/** Wire the <details> panel; returns { onCall(), redraw() } for the event loop. */
export function setupDiagnostics() {
  const panel = document.getElementById("diagnostics");
  const statsBox = document.getElementById("diag-stats");
  const bucketsBox = document.getElementById("diag-buckets");
  const callsBody = document.getElementById("diag-calls");
  const hidePolls = document.getElementById("diag-hide-polls");
  let timer = null;
  let pending = null;

  async function refresh() {
    if (!panel.open) return;
    try {
      const query = { newest: true, limit: SHOWN_CALLS };
      if (hidePolls.checked) query.exclude = "getUpdates";
      const [stats, page] = await Promise.all([get("/stats"), get("/calls", query)]);
      statsBox.replaceChildren(...statsLine(stats));
      bucketsBox.textContent = bucketsLine(stats);
      const rows = page.calls.slice().reverse().map(callRow);
      callsBody.replaceChildren(
        ...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 4, text: t("noCalls") }))]),
      );
    } catch (error) {
      bucketsBox.textContent = errorText(error);
    }
  }

  panel.addEventListener("toggle", () => {
    clearInterval(timer);
    if (panel.open) {
      refresh();
      timer = setInterval(refresh, REFRESH_MS);
    }
  });
  hidePolls.addEventListener("change", refresh);

  return {
    onCall() {
      if (!panel.open || pending) return;
      pending = setTimeout(() => {
        pending = null;
        refresh();
      }, 250);
    },
    redraw: refresh,
  };
}
