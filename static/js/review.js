// The review page's confirmations: htmx asks (hx-confirm) and this answers with the page's own dialog,
// whose button says what will happen ("Approve", "Discard"), as on the Loculus website. The dialog is
// outside the list, so the list may refresh while it is open; the action is then sent from what the
// form held when it was asked (the portal refuses an action of many whose count changed meanwhile).
const dialog = () => document.getElementById("review-confirm");

document.body.addEventListener("htmx:confirm", (event) => {
  const question = event.detail.question;
  const box = dialog();
  if (!question || !box) return;
  event.preventDefault();
  const form = event.detail.elt;
  const values = Object.fromEntries(new FormData(form));
  values.confirmed = "1";
  box.querySelector("#review-confirm-question").textContent = question;
  box.querySelector("#review-confirm-yes").textContent = form.dataset.confirmButton || "Confirm";
  box.returnValue = "";
  box.addEventListener(
    "close",
    () => {
      if (box.returnValue !== "confirm") return;
      window.htmx.ajax("POST", form.getAttribute("hx-post"), { target: "#review-live", swap: "outerHTML", values });
    },
    { once: true },
  );
  box.showModal();
});
