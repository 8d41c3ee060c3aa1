// Datasets (knowledge bases): the list, a new one, and one dataset's settings beside its documents.
import { ragflow } from "./api.js";
import { documentsPanel } from "./documents.js";
import { busy, clear, errorBox, field, h, page, when } from "./ui.js";

export const CHUNK_METHODS = ["naive", "book", "email", "laws", "manual", "one", "paper", "picture",
  "presentation", "qa", "table", "tag", "resume"];

export async function allDatasets() {
  return (await ragflow("/datasets?page_size=100&orderby=create_time&desc=true")).data;
}

function select(name, values, chosen) {
  return h("select", { name }, values.map((value) => h("option", { value, text: value, selected: value === chosen })));
}

function createForm(onCreated) {
  const name = h("input", { name: "name", required: true, placeholder: "e.g. product-docs" });
  const method = select("chunk_method", CHUNK_METHODS, "naive");
  const box = errorBox();
  const submit = h("button", { type: "submit", text: "Create dataset" });
  const form = h("form", { class: "card row", id: "new-dataset" }, field("Name", name), field("Chunk method", method), submit, box);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, box, async () => {
      const { data } = await ragflow("/datasets", { method: "POST", json: { name: name.value, chunk_method: method.value } });
      onCreated(data);
    });
  });
  return form;
}

function datasetRow(dataset) {
  return h("tr", {},
    h("td", {}, h("a", { href: `#/datasets/${dataset.id}`, text: dataset.name })),
    h("td", { text: dataset.chunk_method }),
    h("td", { class: "num", text: dataset.document_count }),
    h("td", { class: "num", text: dataset.chunk_count }),
    h("td", { class: "wide", text: dataset.embedding_model }),
    h("td", { class: "wide", text: when(dataset.create_time) }));
}

export function datasetsView() {
  const box = errorBox();
  const body = h("tbody");
  const table = h("div", { class: "scroll" }, h("table", {},
    h("thead", {}, h("tr", {}, ["Name", "Chunk method", "Documents", "Chunks"].map((t) => h("th", { text: t })),
      ["Embedding model", "Created"].map((t) => h("th", { class: "wide", text: t })))),
    body));
  const load = async () => {
    try {
      const rows = await allDatasets();
      clear(body, rows.length ? rows.map(datasetRow) : h("tr", {}, h("td", { colspan: 6, class: "muted", text: "No datasets yet." })));
    } catch (error) { box.show(error); }
  };
  load();
  return page("Datasets", createForm((dataset) => { location.hash = `#/datasets/${dataset.id}`; }), box, table);
}

function settingsForm(dataset, onSaved) {
  const name = h("input", { name: "name", value: dataset.name, required: true });
  const description = h("input", { name: "description", value: dataset.description || "" });
  const method = select("chunk_method", CHUNK_METHODS, dataset.chunk_method);
  const model = h("input", { name: "embedding_model", value: dataset.embedding_model });
  const config = h("textarea", { name: "parser_config", rows: 6, spellcheck: false });
  config.value = JSON.stringify(dataset.parser_config, null, 2);
  const box = errorBox();
  const submit = h("button", { type: "submit", text: "Save settings" });
  const form = h("form", { class: "card", id: "dataset-settings" },
    h("h2", { text: "Settings" }), field("Name", name), field("Description", description),
    field("Chunk method", method), field("Embedding model", model, "Changing it needs a dataset without chunks."),
    field("Parser config (JSON)", config), submit, box);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, box, async () => {
      let parserConfig;
      try { parserConfig = JSON.parse(config.value); } catch (error) { throw new Error(`Parser config is not JSON: ${error.message}`); }
      const changes = { name: name.value, description: description.value, chunk_method: method.value, parser_config: parserConfig };
      if (model.value !== dataset.embedding_model) changes.embedding_model = model.value;
      const { data } = await ragflow(`/datasets/${dataset.id}`, { method: "PUT", json: changes });
      Object.assign(dataset, data);
      onSaved(data);
      submit.textContent = "Saved";
      setTimeout(() => { submit.textContent = "Save settings"; }, 1500);
    });
  });
  return form;
}

export function datasetView(datasetId) {
  const root = page("Dataset");
  const box = errorBox();
  root.append(box);
  ragflow(`/datasets/${datasetId}`).then(({ data }) => {
    const title = root.querySelector("h1");
    title.textContent = data.name;
    root.append(h("div", { class: "split" }, documentsPanel(data), settingsForm(data, (saved) => { title.textContent = saved.name; })));
  }, (error) => box.show(error));
  return root;
}
