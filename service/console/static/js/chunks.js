// One document's chunks: browse, search, edit, enable/disable, add.
import { ragflow } from "./api.js";
import { busy, clear, errorBox, h, page } from "./ui.js";

const PAGE_SIZE = 30;

function chunkCard(base, chunk, reload, box) {
  const text = h("p", { class: "chunk-text", text: chunk.content });
  const editor = h("textarea", { rows: 5, hidden: true });
  const save = h("button", { type: "button", text: "Save", hidden: true });
  const edit = h("button", { class: "quiet", type: "button", text: "Edit" });
  const available = h("input", { type: "checkbox", checked: chunk.available });
  edit.addEventListener("click", () => {
    editor.value = chunk.content;
    editor.hidden = save.hidden = false;
    text.hidden = edit.hidden = true;
  });
  save.addEventListener("click", () => busy(save, box, async () => {
    await ragflow(`${base}/${chunk.id}`, { method: "PATCH", json: { content: editor.value } });
    await reload();
  }));
  available.addEventListener("change", () => busy(available, box, async () => {
    await ragflow(base, { method: "PATCH", json: { chunk_ids: [chunk.id], available: available.checked } });
    await reload();
  }));
  return h("article", { class: `chunk${chunk.available ? "" : " off"}`, id: `chunk-${chunk.id}` },
    h("div", { class: "chunk-head" }, h("code", { text: chunk.id }),
      h("label", { class: "inline" }, available, " available"), edit),
    text, editor, save,
    chunk.important_keywords.length ? h("small", { class: "muted", text: `keywords: ${chunk.important_keywords.join(", ")}` }) : null);
}

function addForm(base, reload) {
  const content = h("textarea", { rows: 3, name: "content", required: true, placeholder: "New chunk text" });
  const submit = h("button", { type: "submit", text: "Add chunk" });
  const box = errorBox();
  const form = h("form", { class: "card" }, content, submit, box);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, box, async () => {
      await ragflow(base, { method: "POST", json: { content: content.value } });
      content.value = "";
      await reload();
    });
  });
  return form;
}

export function chunksView(datasetId, documentId) {
  const base = `/datasets/${datasetId}/documents/${documentId}/chunks`;
  const box = errorBox();
  const list = h("div", { class: "chunks" });
  const keywords = h("input", { type: "search", name: "keywords", placeholder: "Search chunks" });
  const pager = h("div", { class: "pager" });
  const title = h("p", { class: "muted" }, h("a", { href: `#/datasets/${datasetId}`, text: "← back to the dataset" }));
  let current = 1;

  const load = async (pageNumber = current) => {
    current = pageNumber;
    try {
      const query = new URLSearchParams({ page: current, page_size: PAGE_SIZE, keywords: keywords.value });
      const { data } = await ragflow(`${base}?${query}`);
      root.querySelector("h1").textContent = `Chunks of ${data.doc.name}`;
      clear(list, data.chunks.length ? data.chunks.map((chunk) => chunkCard(base, chunk, load, box))
        : h("p", { class: "muted", text: "No chunks match." }));
      const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
      clear(pager,
        h("button", { class: "quiet", type: "button", text: "‹ Previous", disabled: current <= 1, onclick: () => load(current - 1) }),
        h("span", { text: ` page ${current} of ${pages} (${data.total} chunks) ` }),
        h("button", { class: "quiet", type: "button", text: "Next ›", disabled: current >= pages, onclick: () => load(current + 1) }));
      box.show(null);
    } catch (error) { box.show(error); }
  };
  const search = h("form", { class: "row" }, keywords, h("button", { type: "submit", text: "Search" }));
  search.addEventListener("submit", (event) => { event.preventDefault(); load(1); });
  const root = page("Chunks", title, search, box, list, pager, addForm(base, () => load()));
  load(1);
  return root;
}
