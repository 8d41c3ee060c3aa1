// The console's shell: sign-in with an API key, then one view per hash route.
import { auth, ragflow } from "./api.js";
import { chatView } from "./chat.js";
import { dashboardView } from "./dashboard.js";
import { datasetView, datasetsView } from "./datasets.js";
import { chunksView } from "./chunks.js";
import { historyView } from "./history.js";
import { retrievalView } from "./retrieval.js";
import { busy, clear, errorBox, field, h, page } from "./ui.js";

const ROUTES = [
  [/^#\/datasets\/(\w+)\/documents\/(\w+)$/, chunksView],
  [/^#\/datasets\/(\w+)$/, datasetView],
  [/^#\/datasets$/, datasetsView],
  [/^#\/retrieval$/, retrievalView],
  [/^#\/chat(?:\/(\w+))?(?:\/(\w+))?$/, chatView],
  [/^#\/history(?:\/(\w+))?$/, historyView],
  [/^#\/dashboard(?:\/(\w+))?$/, dashboardView],
];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const signOut = document.getElementById("sign-out");

function signInView() {
  const key = h("input", { type: "password", name: "api-key", autocomplete: "off", required: true });
  const box = errorBox();
  const submit = h("button", { type: "submit", text: "Sign in" });
  const form = h("form", { class: "card narrow", id: "sign-in" },
    field("API key", key, "`nectar serve` prints where its key is; `nectar apikey create` makes another."),
    submit, box);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, box, async () => {
      auth.set(key.value.trim());
      try {
        await ragflow("/datasets?page_size=1");  // any authenticated call tells whether the key is valid
      } catch (error) {
        auth.clear();
        throw error;
      }
      route();
    });
  });
  return page("Sign in", h("p", { class: "muted", text: "The console calls Nectar's public APIs with this key; it stays in this browser." }), form);
}

function route() {
  const signedIn = Boolean(auth.key);
  nav.hidden = !signedIn;
  signOut.hidden = !signedIn;
  if (!signedIn) return clear(main, signInView());
  const hash = location.hash || "#/datasets";
  for (const link of nav.querySelectorAll("a")) {
    link.classList.toggle("active", hash.startsWith(link.getAttribute("href")));
  }
  for (const [pattern, view] of ROUTES) {
    const match = pattern.exec(hash);
    if (match) return clear(main, view(...match.slice(1)));
  }
  location.hash = "#/datasets";
}

signOut.addEventListener("click", () => { auth.clear(); route(); });
// A key refused while signed in (revoked): back to the sign-in form. On that form the error shows under it.
window.addEventListener("nectar:signed-out", () => { if (!nav.hidden) route(); });
window.addEventListener("hashchange", route);
route();
