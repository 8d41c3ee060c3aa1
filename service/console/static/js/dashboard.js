// Dashboard: a deployment's messages, tokens, latency p50/p95 and feedback over time, from the stats endpoint.
import { opsbee } from "./api.js";
import { timeChart } from "./charts.js";
import { allDeployments, deploymentPicker } from "./history.js";
import { clear, errorBox, field, h, page } from "./ui.js";

const RANGES = { "24h": ["hour", 1], "7d": ["day", 7], "30d": ["day", 30], "90d": ["day", 90] };

function totals(total) {
  const cards = [
    ["Messages", total.messages], ["Threads", total.threads], ["Users", total.active_users],
    ["Tokens in / out", `${total.input_tokens} / ${total.output_tokens}`],
    ["Latency p50 / p95", total.latency_p50_ms === null ? "–" : `${Math.round(total.latency_p50_ms)} / ${Math.round(total.latency_p95_ms)} ms`],
    ["Errors", `${total.errors} (${(100 * total.error_rate).toFixed(1)}%)`], ["Likes / dislikes", `${total.likes} / ${total.dislikes}`],
  ];
  return h("div", { class: "totals" }, cards.map(([name, value]) => h("div", { class: "card total" },
    h("small", { class: "muted", text: name }), h("strong", { text: String(value) }))));
}

function statsPanel(deployment, picker) {
  const range = h("select", { name: "range" }, Object.keys(RANGES).map((key) => h("option", { value: key, text: key, selected: key === "7d" })));
  const box = errorBox();
  const body = h("div", { id: "charts" });
  const load = async () => {
    const [interval, days] = RANGES[range.value];
    const from = new Date(Date.now() - days * 86400000).toISOString();
    try {
      const stats = await opsbee(`/deployments/${deployment.id}/stats?interval=${interval}&from=${encodeURIComponent(from)}`);
      const buckets = stats.intervals;
      clear(body, totals(stats.total), h("div", { class: "charts" },
        timeChart("Messages", buckets, [{ key: "messages", label: "messages", tone: "a" }, { key: "errors", label: "errors", tone: "bad" }], { bars: true }),
        timeChart("Tokens", buckets, [{ key: "input_tokens", label: "input", tone: "a" }, { key: "output_tokens", label: "output", tone: "b" }], { bars: true }),
        timeChart("Latency", buckets, [{ key: "latency_p50_ms", label: "p50", tone: "a" }, { key: "latency_p95_ms", label: "p95", tone: "b" }], { unit: " ms" }),
        timeChart("Feedback", buckets, [{ key: "likes", label: "likes", tone: "good" }, { key: "dislikes", label: "dislikes", tone: "bad" }], { bars: true })));
      box.show(null);
    } catch (error) { box.show(error); }
  };
  range.addEventListener("change", load);
  load();
  return h("div", {}, h("div", { class: "row pickers" }, picker, field("Range", range)), box, body);
}

export function dashboardView(deploymentId) {
  const box = errorBox();
  const body = h("div");
  allDeployments().then((deployments) => {
    const deployment = deployments.find((row) => row.id === deploymentId) || deployments[0];
    if (!deployment) return clear(body, h("p", { class: "muted", text: "No deployments yet: create a chat assistant first." }));
    return clear(body, statsPanel(deployment, deploymentPicker(deployments, deployment, "#/dashboard")));
  }, (error) => box.show(error));
  return page("Dashboard", box, body);
}
