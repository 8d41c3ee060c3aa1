// Retrieval testing: a question over chosen datasets, with RAGFlow's weight/threshold/top-k, and the ranked chunks.
import { ragflow } from "./api.js";
import { allDatasets } from "./datasets.js";
import { busy, clear, errorBox, field, h, highlighted, page } from "./ui.js";

function slider(name, min, max, step, value) {
  const input = h("input", { type: "range", name, min, max, step, value });
  const shown = h("output", { text: value });
  input.addEventListener("input", () => { shown.textContent = input.value; });
  input.shown = shown;
  return input;
}

function percent(value) {
  return `${(value * 100).toFixed(1)}%`;
}

function hitCard(hit, rank) {
  return h("article", { class: "hit" },
    h("div", { class: "hit-head" },
      h("strong", { text: `#${rank}` }),
      h("span", { class: "score", title: "similarity", text: `similarity ${percent(hit.similarity)}` }),
      h("span", { class: "muted", text: `vector ${percent(hit.vector_similarity)} · term ${percent(hit.term_similarity)}` }),
      h("a", { href: `#/datasets/${hit.dataset_id}/documents/${hit.document_id}`, text: hit.document_keyword })),
    h("p", { class: "chunk-text" }, highlighted(hit.highlight ?? hit.content)));
}

export function retrievalView() {
  const question = h("input", { name: "question", required: true, placeholder: "Ask what a user would ask" });
  const datasets = h("fieldset", { class: "choices" }, h("legend", { text: "Datasets" }));
  const weight = slider("vector_similarity_weight", 0, 1, 0.05, 0.3);
  const threshold = slider("similarity_threshold", 0, 1, 0.05, 0.2);
  const topK = slider("top_k", 1, 2048, 1, 1024);
  const box = errorBox();
  const results = h("div", { class: "hits", id: "hits" });
  const submit = h("button", { type: "submit", text: "Test retrieval" });
  const form = h("form", { class: "card", id: "retrieval-form" },
    field("Question", question), datasets,
    h("div", { class: "sliders" },
      field("Vector similarity weight", h("div", { class: "slider" }, weight, weight.shown), "the rest is keyword similarity"),
      field("Similarity threshold", h("div", { class: "slider" }, threshold, threshold.shown)),
      field("Top-k", h("div", { class: "slider" }, topK, topK.shown), "candidates ranked before the threshold")),
    submit, box);

  allDatasets().then((rows) => {
    datasets.append(...rows.map((row, index) => h("label", { class: "inline" },
      h("input", { type: "checkbox", name: "dataset", value: row.id, checked: index === 0 }), ` ${row.name}`)));
    if (!rows.length) datasets.append(h("p", { class: "muted", text: "Create a dataset first." }));
  }, (error) => box.show(error));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, box, async () => {
      const ids = [...datasets.querySelectorAll("input:checked")].map((input) => input.value);
      if (!ids.length) throw new Error("Choose at least one dataset.");
      const { data } = await ragflow("/retrieval", { method: "POST", json: {
        question: question.value, dataset_ids: ids, highlight: true,
        vector_similarity_weight: Number(weight.value), similarity_threshold: Number(threshold.value), top_k: Number(topK.value),
      } });
      clear(results, h("p", { class: "muted", text: `${data.total} chunk${data.total === 1 ? "" : "s"} above the threshold` }),
        data.chunks.map((hit, index) => hitCard(hit, index + 1)));
    });
  });
  return page("Retrieval test", form, results);
}
