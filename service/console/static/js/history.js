// History (LLMOps): a deployment's histories found with OpsBee's search_query; tags, metadata, rating,
// adding histories to an evaluation dataset, export.
import { download, opsbee } from "./api.js";
import { busy, clear, errorBox, field, h, openDialog, page, toast, when } from "./ui.js";

const LIMIT = 50;

export async function allDeployments() {
  return (await opsbee("/deployments?limit=100")).deployments;
}

export function deploymentPicker(deployments, chosen, route) {
  const picker = h("select", { name: "deployment", onchange: () => { location.hash = `${route}/${picker.value}`; } },
    deployments.map((row) => h("option", { value: row.id, text: `${row.name} (${row.type})`, selected: row.id === chosen.id })));
  return field("Deployment", picker);
}

// Where one history lives: chat histories under their thread, QA ones in the deployment's implicit thread.
function historyPath(deployment, row) {
  return deployment.type === "qa" ? `/deployments/${deployment.id}/qa_histories/${row.id}`
    : `/deployments/${deployment.id}/threads/${row.thread_id}/histories/${row.id}`;
}

function tagChips(tags) {
  return tags.map((tag) => h("span", { class: `tag ${tag.color || ""}`, text: tag.name }));
}

function tagsEditor(deployment, row, onSaved) {
  const box = errorBox();
  const list = h("div", { class: "choices" });
  const name = h("input", { name: "new-tag", placeholder: "new tag" });
  const chosen = new Set(row.tags.map((tag) => tag.id));
  const save = h("button", { type: "button", text: "Save tags" });
  const load = async () => {
    const { tags } = await opsbee("/tags?limit=1000");
    clear(list, tags.map((tag) => h("label", { class: "inline" },
      h("input", { type: "checkbox", value: tag.id, checked: chosen.has(tag.id),
        onchange: (event) => (event.target.checked ? chosen.add(tag.id) : chosen.delete(tag.id)) }), ` ${tag.name}`)));
  };
  const add = h("button", { class: "quiet", type: "button", text: "Create tag" });
  add.addEventListener("click", () => busy(add, box, async () => {
    const tag = await opsbee("/tags", { method: "POST", json: { name: name.value } });
    chosen.add(tag.id);
    name.value = "";
    await load();
  }));
  save.addEventListener("click", () => busy(save, box, async () => {
    onSaved(await opsbee(historyPath(deployment, row), { method: "PATCH", json: { tag_ids: [...chosen] } }));
    toast("Tags saved");
  }));
  load().catch((error) => box.show(error));
  return h("div", { class: "card" }, h("h3", { text: "Tags" }), list, h("div", { class: "row" }, name, add), save, box);
}

function metadataEditor(deployment, row, onSaved) {
  const box = errorBox();
  const base = `${historyPath(deployment, row)}/metadata`;
  const items = h("ul", { class: "plain" }, row.metadata.map((item) => h("li", {},
    h("code", { text: item.key }), ` = ${item.value} `,
    h("button", { class: "quiet danger", type: "button", text: "Remove",
      onclick: (event) => busy(event.target, box, async () => {
        await opsbee(`${base}/${item.id}`, { method: "DELETE" });
        onSaved(await opsbee(historyPath(deployment, row)));
      }) }))));
  const key = h("input", { name: "metadata-key", placeholder: "key" });
  const value = h("input", { name: "metadata-value", placeholder: "value" });
  const add = h("button", { type: "button", text: "Add" });
  add.addEventListener("click", () => busy(add, box, async () => {
    await opsbee(base, { method: "POST", json: { key: key.value, value: value.value } });
    onSaved(await opsbee(historyPath(deployment, row)));
  }));
  return h("div", { class: "card" }, h("h3", { text: "Metadata" }), items, h("div", { class: "row" }, key, value, add), box);
}

function openHistory(deployment, row, reload) {
  const onSaved = (fresh) => { reload(); openHistory(deployment, fresh, reload); };
  openDialog(`History ${row.id.slice(0, 8)}`,
    h("p", { class: "muted", text: `${when(row.created_at)} · thread ${row.thread_name || row.thread_id} · ${row.input_token_count} + ${row.output_token_count} tokens · ${row.status}` }),
    row.error_message ? h("p", { class: "error", text: row.error_message }) : null,
    h("h3", { text: "Input" }), h("p", { class: "chunk-text", text: row.input_text }),
    h("h3", { text: "Output" }), h("p", { class: "chunk-text", text: row.output_text }),
    h("div", { class: "split" }, tagsEditor(deployment, row, onSaved), metadataEditor(deployment, row, onSaved)));
}

function historyRow(deployment, row, selected, reload) {
  const pick = h("input", { type: "checkbox", "aria-label": "select", checked: selected.has(row.id),
    onchange: (event) => (event.target.checked ? selected.add(row.id) : selected.delete(row.id)) });
  return h("tr", { "data-history": row.id },
    h("td", {}, pick),
    h("td", { text: when(row.created_at) }),
    h("td", { class: "clip", text: row.input_text }),
    h("td", { class: "clip", text: row.output_text }),
    h("td", { class: "num", text: `${row.input_token_count}/${row.output_token_count}` }),
    h("td", {}, tagChips(row.tags)),
    h("td", {}, h("span", { class: `badge ${row.status === "ok" ? "done" : "fail"}`, text: row.status })),
    h("td", {}, h("button", { class: "quiet", type: "button", text: "Open", onclick: () => openHistory(deployment, row, reload) })));
}

function datasetTools(deployment, selected, box) {
  const picker = h("select", { name: "eval-dataset" });
  const name = h("input", { name: "eval-dataset-name", placeholder: "new evaluation dataset" });
  const loadDatasets = async () => {
    const { datasets } = await opsbee("/datasets?limit=1000");
    clear(picker, datasets.map((row) => h("option", { value: row.id, text: `${row.name} (${row.item_count})` })));
  };
  const create = h("button", { class: "quiet", type: "button", text: "Create" });
  create.addEventListener("click", () => busy(create, box, async () => {
    await opsbee("/datasets", { method: "POST", json: { name: name.value, type: deployment.type === "qa" ? "qa" : "llm" } });
    name.value = "";
    await loadDatasets();
  }));
  const add = h("button", { type: "button", text: "Add selected" });
  const kind = deployment.type === "qa" ? "qa_histories" : "histories";
  add.addEventListener("click", () => busy(add, box, async () => {
    if (!selected.size || !picker.value) throw new Error("Select histories and an evaluation dataset first.");
    const reply = await opsbee(`/deployments/${deployment.id}/${kind}/datasets/${picker.value}/items`,
      { method: "POST", json: { history_ids: [...selected] } });
    toast(`${reply.item_ids.length} item(s) added`);
    await loadDatasets();
  }));
  loadDatasets().catch((error) => box.show(error));
  return h("div", { class: "row tools" }, h("span", { class: "muted", text: "Evaluation dataset:" }), picker, add, name, create);
}

function historyPanel(deployment) {
  const query = h("input", { type: "search", name: "search_query", id: "search-query",
    placeholder: 'e.g. input_text:"*refund*" AND tag_name:"feedback:dislike"' });
  const searchBox = errorBox();
  const box = errorBox();
  const body = h("tbody");
  const pager = h("div", { class: "pager" });
  const selected = new Set();
  let offset = 0;
  const kind = deployment.type === "qa" ? "qa_histories" : "histories";
  const params = () => (query.value.trim() ? `search_query=${encodeURIComponent(query.value.trim())}&` : "");

  const load = async (from = offset) => {
    try {
      const reply = await opsbee(`/deployments/${deployment.id}/${kind}?${params()}offset=${from}&limit=${LIMIT}`);
      offset = from;
      searchBox.show(null);
      clear(body, reply.histories.length ? reply.histories.map((row) => historyRow(deployment, row, selected, () => load()))
        : h("tr", {}, h("td", { colspan: 8, class: "muted", text: "No histories match." })));
      clear(pager,
        h("button", { class: "quiet", type: "button", text: "‹ Newer", disabled: offset === 0, onclick: () => load(Math.max(0, offset - LIMIT)) }),
        h("span", { text: ` ${reply.total ? offset + 1 : 0}–${offset + reply.histories.length} of ${reply.total} ` }),
        h("button", { class: "quiet", type: "button", text: "Older ›", disabled: !reply.has_next, onclick: () => load(offset + LIMIT) }));
    } catch (error) { searchBox.show(error); }  // a malformed search_query is explained right under the box
  };
  const search = h("form", { class: "row", id: "history-search" }, query, h("button", { type: "submit", text: "Search" }));
  search.addEventListener("submit", (event) => { event.preventDefault(); selected.clear(); load(0); });
  const exporter = (format) => h("button", { class: "quiet", type: "button", text: `Export ${format.toUpperCase()}`,
    onclick: (event) => busy(event.target, box, async () => {
      const name = await download(`/opsbee-llm/organizations/me/deployments/${deployment.id}/histories/export?${params()}format=${format}`, `histories.${format}`);
      toast(`Saved ${name}`);
    }) });
  load(0);
  return h("div", {}, search, searchBox,
    h("div", { class: "row tools" }, exporter("csv"), exporter("jsonl")),
    datasetTools(deployment, selected, box), box,
    h("div", { class: "scroll" }, h("table", { id: "histories" },
      h("thead", {}, h("tr", {}, ["", "Created", "Input", "Output", "Tokens", "Tags", "Status", ""].map((t) => h("th", { text: t })))), body)),
    pager);
}

export function historyView(deploymentId) {
  const box = errorBox();
  const body = h("div");
  allDeployments().then((deployments) => {
    const deployment = deployments.find((row) => row.id === deploymentId) || deployments[0];
    if (!deployment) return clear(body, h("p", { class: "muted", text: "No deployments yet: create a chat assistant first." }));
    return clear(body, h("div", { class: "row pickers" }, deploymentPicker(deployments, deployment, "#/history")), historyPanel(deployment));
  }, (error) => box.show(error));
  return page("History", box, body);
}
