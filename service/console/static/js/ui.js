// Small DOM helpers. Text always goes in as text nodes: content from the server is never parsed as HTML.

export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

export function clear(node, ...children) {
  node.replaceChildren(...children.flat().filter(Boolean));
  return node;
}

let toastTimer;
export function toast(message, kind = "ok") {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.className = `show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.className = ""; }, 4000);
}

// An error shown where it happened (under the form or box that caused it).
export function errorBox() {
  const box = h("p", { class: "error", role: "alert", hidden: true });
  box.show = (error) => { box.textContent = error ? String(error.message || error) : ""; box.hidden = !error; };
  return box;
}

// Runs `work` with the button disabled; an error goes to `box` (or a toast).
export async function busy(button, box, work) {
  button.disabled = true;
  box?.show(null);
  try {
    return await work();
  } catch (error) {
    if (box) box.show(error); else toast(error.message, "bad");
    return undefined;
  } finally {
    button.disabled = false;
  }
}

export function openDialog(title, ...content) {
  const dialog = document.getElementById("dialog");
  const close = h("button", { class: "quiet", type: "button", text: "Close", onclick: () => dialog.close() });
  clear(dialog, h("div", { class: "dialog-head" }, h("h2", { text: title }), close), ...content);
  if (!dialog.open) dialog.showModal();  // already open: its content was just replaced
  return dialog;
}

export function when(value) {
  if (value === null || value === undefined || value === "") return "";
  const date = typeof value === "number" ? new Date(value) : new Date(value);
  return date.toLocaleString();
}

// RAGFlow's highlight: the chunk text with matched terms inside <em>…</em>; only those tags become elements.
export function highlighted(text) {
  return String(text).split(/(<em>.*?<\/em>)/g).filter(Boolean).map((part) =>
    part.startsWith("<em>") ? h("mark", { text: part.slice(4, -5) }) : document.createTextNode(part));
}

export function field(label, input, hint) {
  return h("label", { class: "field" }, h("span", { text: label }), input, hint ? h("small", { text: hint }) : null);
}

// A view's polling stops once its node has left the page.
export function every(node, ms, tick) {
  const loop = async () => {
    if (!node.isConnected) return;
    await tick();
    if (node.isConnected) setTimeout(loop, ms);
  };
  setTimeout(loop, ms);
}

export function page(title, ...content) {
  return h("section", { class: "page" }, h("h1", { text: title }), ...content);
}
