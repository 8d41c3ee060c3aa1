// A dataset's documents: drag-and-drop upload, live parse progress, re-parse, stop, enable/disable, download.
import { download, ragflow } from "./api.js";
import { clear, errorBox, every, h, toast } from "./ui.js";

const POLL_MS = 1000;

function lastLine(text) {
  const lines = String(text || "").trim().split("\n");
  return lines[lines.length - 1];
}

function documentRow(dataset, doc, act) {
  const path = `/datasets/${dataset.id}/documents`;
  const progress = h("progress", { max: 1, value: doc.progress });
  const enabled = h("input", { type: "checkbox", checked: doc.status === "1", title: "enabled",
    onchange: () => act(() => ragflow(`${path}/${doc.id}`, { method: "PATCH", json: { enabled: enabled.checked ? 1 : 0 } })) });
  const running = doc.run === "RUNNING";
  const actions = h("div", { class: "actions" },
    running
      ? h("button", { class: "quiet", type: "button", text: "Stop",
        onclick: () => act(() => ragflow(`${path}/stop`, { method: "POST", json: { document_ids: [doc.id] } })) })
      : h("button", { class: "quiet", type: "button", text: doc.run === "UNSTART" ? "Parse" : "Re-parse",
        onclick: () => act(() => ragflow(`${path}/parse`, { method: "POST", json: { document_ids: [doc.id] } })) }),
    h("button", { class: "quiet", type: "button", text: "Download",
      onclick: () => act(() => download(`/api/v1${path}/${doc.id}`, doc.name)) }),
    h("button", { class: "quiet danger", type: "button", text: "Delete",
      onclick: () => confirm(`Delete ${doc.name}?`) && act(() => ragflow(path, { method: "DELETE", json: { ids: [doc.id] } })) }));
  return h("tr", { "data-document": doc.name, "data-run": doc.run },
    h("td", {}, h("a", { href: `#/datasets/${dataset.id}/documents/${doc.id}`, text: doc.name })),
    h("td", {}, h("span", { class: `badge ${doc.run.toLowerCase()}`, text: doc.run })),
    h("td", { class: "progress" }, progress, h("small", { class: doc.run === "FAIL" ? "error-text" : "muted", text: lastLine(doc.progress_msg) })),
    h("td", { class: "num", text: doc.chunk_count }),
    h("td", {}, enabled),
    h("td", {}, actions));
}

function dropZone(onFiles) {
  const input = h("input", { type: "file", multiple: true, name: "files", id: "upload-input",
    onchange: () => { onFiles([...input.files]); input.value = ""; } });
  const zone = h("label", { class: "drop", id: "drop-zone" },
    h("strong", { text: "Drop files here" }), h("span", { class: "muted", text: " or click to choose (many at once)" }), input);
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    onFiles([...event.dataTransfer.files]);
  });
  return zone;
}

export function documentsPanel(dataset) {
  const path = `/datasets/${dataset.id}/documents`;
  const box = errorBox();
  const body = h("tbody");
  const autoParse = h("input", { type: "checkbox", checked: true, name: "auto-parse" });
  const panel = h("div", { class: "card", id: "documents" });

  const load = async () => {
    try {
      const { data } = await ragflow(`${path}?page_size=100&orderby=create_time&desc=true`);
      clear(body, data.docs.length ? data.docs.map((doc) => documentRow(dataset, doc, act))
        : h("tr", {}, h("td", { colspan: 6, class: "muted", text: "No documents yet: upload some." })));
    } catch (error) { box.show(error); }
  };
  const act = async (work) => {
    try { await work(); box.show(null); } catch (error) { box.show(error); }
    await load();
  };
  const upload = (files) => act(async () => {
    if (!files.length) return;
    const form = new FormData();
    for (const file of files) form.append("file", file);
    const { data } = await ragflow(path, { method: "POST", form });
    toast(`Uploaded ${data.length} file${data.length === 1 ? "" : "s"}`);
    if (autoParse.checked) await ragflow(`${path}/parse`, { method: "POST", json: { document_ids: data.map((doc) => doc.id) } });
  });

  const table = h("div", { class: "scroll" }, h("table", {},
    h("thead", {}, h("tr", {}, ["Document", "Status", "Progress", "Chunks", "On", ""].map((t) => h("th", { text: t })))), body));
  panel.append(h("h2", { text: "Documents" }), dropZone(upload),
    h("label", { class: "inline" }, autoParse, " parse on upload"), box, table);
  load();
  // Parse progress is polled while a document is being parsed (queued ones are RUNNING too), not otherwise.
  every(panel, POLL_MS, async () => {
    if (body.querySelector('[data-run="RUNNING"]')) await load();
  });
  return panel;
}
