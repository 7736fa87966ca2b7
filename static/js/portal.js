// Site-wide: when an htmx request fails, say so where the user looks, instead of doing nothing.
const box = () => document.getElementById("portal-alert");

// `content`: the portal's own HTML, or an element built here.
function show(content) {
  const target = box();
  if (!target) return;
  if (typeof content === "string") target.innerHTML = content;
  else target.replaceChildren(content);
  target.hidden = false;
  target.scrollIntoView({ block: "nearest" });
}

// The portal's own error answers to htmx are a message with role="alert" (the 500 one carries a
// reference). Anything else (e.g. from a proxy) gets a sentence, with the portal's reference if it sent one.
document.body.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail.xhr;
  const body = xhr.responseText || "";
  if (body.includes('role="alert"')) {
    show(body);
    return;
  }
  const message = document.createElement("p");
  message.className = "problem";
  message.setAttribute("role", "alert");
  // The portal's refusals in words (4xx, plain text: e.g. a list of files it could not read) are shown
  // as they are, as text; anything else, from a proxy say, gets a sentence of our own.
  const refusal = xhr.status >= 400 && xhr.status < 500;
  const plain = refusal && (xhr.getResponseHeader("Content-Type") || "").startsWith("text/plain") && body.trim().length < 2000;
  message.textContent = plain ? body.trim() : `The portal answered ${xhr.status}. Please try again.`;
  const reference = xhr.getResponseHeader("X-Request-ID");
  if (reference) {
    message.append(" If it keeps happening, give the portal's operators this reference: ");
    const code = document.createElement("code");
    code.className = "reference";
    code.textContent = reference;
    message.append(code, ".");
  }
  show(message);
});

document.body.addEventListener("htmx:sendError", () => {
  show('<p class="problem">The portal could not be reached. Check your connection and try again; nothing is lost.</p>');
});

// Forms that need a second thought (e.g. deleting a draft).
document.addEventListener("submit", (event) => {
  const question = event.target.dataset?.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// Autosave: say when what was typed is kept.
document.body.addEventListener("htmx:afterRequest", (event) => {
  if (!event.detail.elt.matches?.("[data-autosave]")) return;
  const status = document.querySelector("[data-autosave-status]");
  if (!status) return;
  const time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  status.textContent = event.detail.successful
    ? `Draft saved at ${time}. You can leave and come back.`
    : "Your latest changes could not be saved; they are still on this page.";
});
