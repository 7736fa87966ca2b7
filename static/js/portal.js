// Site-wide: when an htmx request fails, say so where the user looks, instead of doing nothing.
const box = () => document.getElementById("portal-alert");

function show(html) {
  const target = box();
  if (!target) return;
  target.innerHTML = html;
  target.hidden = false;
  target.scrollIntoView({ block: "nearest" });
}

document.body.addEventListener("htmx:responseError", (event) => {
  const body = event.detail.xhr.responseText || "";
  if (body.includes('role="alert"')) show(body);
  else show(`<p class="problem">The portal answered ${event.detail.xhr.status}. Please try again.</p>`);
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
