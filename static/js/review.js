// The review page's confirmations: htmx asks (hx-confirm) and this answers with the page's own dialog,
// whose button says what will happen ("Approve", "Discard"), as on the Loculus website.
const dialog = () => document.getElementById("review-confirm");

document.body.addEventListener("htmx:confirm", (event) => {
  const question = event.detail.question;
  const box = dialog();
  if (!question || !box) return;
  event.preventDefault();
  box.querySelector("#review-confirm-question").textContent = question;
  box.querySelector("#review-confirm-yes").textContent = event.detail.elt.dataset.confirmButton || "Confirm";
  box.returnValue = "";
  box.addEventListener(
    "close",
    () => {
      if (box.returnValue === "confirm") event.detail.issueRequest(true);
    },
    { once: true },
  );
  box.showModal();
});

// Sent with every action once confirmed; without script the portal asks on a page of its own.
document.body.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.elt.matches?.("form[hx-confirm]")) event.detail.parameters.confirmed = "1";
});
