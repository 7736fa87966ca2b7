// Confirmations of the review and released pages: htmx asks (hx-confirm) and this answers with the
// page's own dialog, whose button says what will happen ("Approve", "Discard", "Confirm"), as on the
// Loculus website. The dialog is outside the list, so the list may refresh while it is open; the
// action is then sent with what its form held when it was asked (the portal refuses an action of
// many whose count changed meanwhile).
const dialog = () => document.getElementById("review-confirm");

document.body.addEventListener("htmx:confirm", (event) => {
  const question = event.detail.question;
  const box = dialog();
  if (!question || !box) return;
  event.preventDefault();
  const elt = event.detail.elt;
  const form = elt.tagName === "FORM" ? elt : elt.closest("form");
  // Every field of the form, a repeated one (ticked accessions) as a list: htmx sends each value.
  const values = {};
  for (const [name, value] of form ? new FormData(form) : []) {
    if (!(name in values)) values[name] = value;
    else values[name] = [].concat(values[name], value);
  }
  values.confirmed = "1";
  box.querySelector("#review-confirm-question").textContent = question;
  box.querySelector("#review-confirm-yes").textContent = elt.dataset.confirmButton || "Confirm";
  box.returnValue = "";
  box.addEventListener(
    "close",
    () => {
      if (box.returnValue !== "confirm") return;
      const target = elt.getAttribute("hx-target") || "#review-live";
      const swap = elt.getAttribute("hx-swap") || "outerHTML";
      window.htmx.ajax("POST", elt.getAttribute("hx-post"), { target, swap, values });
    },
    { once: true },
  );
  box.showModal();
});
