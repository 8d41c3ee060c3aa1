// Chat: assistants and their sessions, streamed answers with [ID:n] citations as links, thumbs up/down.
import { completionEvents, download, ragflow } from "./api.js";
import { allDatasets } from "./datasets.js";
import { busy, clear, errorBox, field, h, openDialog, page, toast, when } from "./ui.js";

const CITATION = /\[ID:(\d+)\]/g;

function openChunk(chunk) {
  const dialog = openDialog(chunk.document_name || "Cited chunk",
    h("p", { class: "muted", text: `similarity ${(100 * (chunk.similarity || 0)).toFixed(1)}% · chunk ${chunk.id}` }),
    h("p", { class: "chunk-text", id: "cited-chunk", text: chunk.content }),
    h("div", { class: "row" },
      h("a", { href: `#/datasets/${chunk.dataset_id}/documents/${chunk.document_id}`, text: "Open the document's chunks",
        onclick: () => dialog.close() }),
      h("button", { class: "quiet", type: "button", text: "Download the document",
        onclick: (event) => busy(event.target, null, () =>
          download(`/api/v1/datasets/${chunk.dataset_id}/documents/${chunk.document_id}`, chunk.document_name)) })));
}

// The answer's text with each [ID:n] made a link to the n-th reference chunk (unknown numbers stay text).
function answerNodes(text, chunks) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(CITATION)) {
    nodes.push(document.createTextNode(text.slice(last, match.index)));
    const chunk = chunks[Number(match[1])];
    nodes.push(chunk
      ? h("a", { href: "#", class: "cite", title: chunk.document_name, text: `[${Number(match[1]) + 1}]`,
        onclick: (event) => { event.preventDefault(); openChunk(chunk); } })
      : document.createTextNode(match[0]));
    last = match.index + match[0].length;
  }
  nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

function rating(chatId, sessionId, message) {
  const buttons = [[true, "▲ Good", "Thumbs up"], [false, "▼ Bad", "Thumbs down"]].map(([value, icon, label]) => {
    const button = h("button", { class: "quiet thumb", type: "button", text: icon, "aria-label": label,
      "aria-pressed": String(message.thumbup === value) });
    button.addEventListener("click", () => busy(button, null, async () => {
      const thumbup = message.thumbup === value ? null : value;  // pressing it again clears the rating
      await ragflow(`/chats/${chatId}/sessions/${sessionId}/messages/${message.id}/feedback`, { method: "PUT", json: { thumbup } });
      message.thumbup = thumbup;
      for (const [index, other] of buttons.entries()) other.setAttribute("aria-pressed", String(thumbup === [true, false][index]));
      toast(thumbup === null ? "Rating cleared" : "Thanks for the rating");
    }));
    return button;
  });
  return h("div", { class: "rating" }, buttons);
}

function bubble(role, ...content) {
  return h("div", { class: `bubble ${role}` }, ...content);
}

function answerBubble(chatId, sessionId, message) {
  const text = h("div", { class: "answer-text" }, answerNodes(message.content, message.reference || []));
  return bubble("assistant", text, message.id ? rating(chatId, sessionId, message) : null);
}

function conversation(chat, sessionId, onNewSession) {
  const log = h("div", { class: "log", id: "chat-log" });
  const question = h("textarea", { name: "question", rows: 2, required: true, placeholder: `Ask ${chat.name}…` });
  const submit = h("button", { type: "submit", text: "Send" });
  const box = errorBox();
  const form = h("form", { class: "ask", id: "ask" }, question, submit);
  let session = sessionId;

  if (session) {
    ragflow(`/chats/${chat.id}/sessions/${session}`).then(({ data }) => {
      for (const message of data.messages) {
        if (message.role === "user") log.append(bubble("user", message.content));
        else if (message.content) log.append(answerBubble(chat.id, session, message));
      }
    }, (error) => box.show(error));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, box, async () => {
      const text = question.value.trim();
      if (!text) return;
      if (!session) {
        const { data } = await ragflow(`/chats/${chat.id}/sessions`, { method: "POST", json: { name: text.slice(0, 60) } });
        session = data.id;
        history.replaceState(null, "", `#/chat/${chat.id}/${session}`);  // no re-render: the answer streams here
        onNewSession(data);
      }
      question.value = "";
      log.append(bubble("user", text));
      const live = h("div", { class: "answer-text streaming" });
      const reply = bubble("assistant", live);
      log.append(reply);
      let answer = "";
      for await (const data of completionEvents({ chat_id: chat.id, session_id: session, messages: [{ role: "user", content: text }] })) {
        if (data.final) {
          reply.replaceWith(answerBubble(chat.id, session, { id: data.id, content: answer, reference: data.reference.chunks }));
        } else {
          answer += data.answer;
          live.textContent = answer;
        }
        log.scrollTop = log.scrollHeight;
      }
    });
  });
  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  return h("div", { class: "conversation card" }, log, form, box);
}

function newChatForm() {
  const name = h("input", { name: "chat-name", required: true, placeholder: "Assistant name" });
  const datasets = h("fieldset", { class: "choices" }, h("legend", { text: "Datasets it answers from" }));
  allDatasets().then((rows) => datasets.append(...rows.map((row) => h("label", { class: "inline" },
    h("input", { type: "checkbox", value: row.id }), ` ${row.name}`))));
  const submit = h("button", { type: "submit", text: "Create assistant" });
  const box = errorBox();
  const form = h("form", { class: "card", id: "new-chat" }, h("h2", { text: "New assistant" }), field("Name", name), datasets, submit, box);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, box, async () => {
      const ids = [...datasets.querySelectorAll("input:checked")].map((input) => input.value);
      const { data } = await ragflow("/chats", { method: "POST", json: { name: name.value, dataset_ids: ids } });
      location.hash = `#/chat/${data.id}`;
    });
  });
  return form;
}

function sidebar(chats, chat, sessions, sessionId) {
  const picker = h("select", { name: "chat", onchange: () => { location.hash = `#/chat/${picker.value}`; } },
    chats.map((row) => h("option", { value: row.id, text: row.name, selected: row.id === chat.id })));
  const item = (row, active) => h("li", {}, h("a", { href: `#/chat/${chat.id}/${row.id}`, class: active ? "active" : "",
    text: row.name, title: when(row.update_time) }));
  const fresh = h("a", { href: `#/chat/${chat.id}`, class: sessionId ? "" : "active", text: "+ New session" });
  const list = h("ul", { class: "sessions", id: "sessions" }, h("li", {}, fresh),
    sessions.map((row) => item(row, row.id === sessionId)));
  // A session made by the first question of a new conversation joins the list, marked as the current one.
  list.added = (row) => { fresh.classList.remove("active"); fresh.parentElement.after(item(row, true)); };
  return h("aside", { class: "card side" }, field("Assistant", picker),
    h("p", { class: "muted", text: `Datasets: ${chat.kb_names.join(", ") || "none"} · model ${chat.llm_id}` }),
    h("h2", { text: "Sessions" }), list);
}

export function chatView(chatId, sessionId) {
  const box = errorBox();
  const body = h("div", { class: "chat" });
  (async () => {
    const chats = (await ragflow("/chats?page_size=100&orderby=create_time&desc=true")).data.chats;
    const chat = chats.find((row) => row.id === chatId) || chats[0];
    if (!chat) return clear(body, newChatForm());
    const sessions = (await ragflow(`/chats/${chat.id}/sessions?page_size=100&orderby=update_time&desc=true`)).data;
    const side = sidebar(chats, chat, sessions, sessionId);
    const onNewSession = (row) => side.querySelector("#sessions").added(row);
    return clear(body, side, conversation(chat, sessionId, onNewSession),
      h("details", { class: "card" }, h("summary", { text: "New assistant" }), newChatForm()));
  })().catch((error) => box.show(error));
  return page("Chat", box, body);
}
