// The bulk page's metadata and sequence files: sent to the portal as the request body, with a progress
// bar while sending, and drag and drop onto each file's area. (Extra files go to S3: extra_file_uploads.js.)
//
// Loaded only by the bulk page. It imports its helpers, never extra_file_uploads.js: a module loaded by a script
// tag and imported again under another URL (static files are renamed with a hash when deployed) would
// run twice.
import { dropZone } from "./drop_zone.js";
import { size } from "./sizes.js";

// A dropped file is chosen in the area's file input, as if picked there: the input's form sends it.
dropZone("[data-drop-input]", (area, dataTransfer) => {
  const input = document.getElementById(area.dataset.dropInput);
  if (!input || !dataTransfer.files.length) return;
  const one = new DataTransfer();
  one.items.add(dataTransfer.files[0]);
  input.files = one.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
});

// The file goes as the request body itself, not wrapped in a multipart form: the portal then
// receives a gigabyte at the speed of the network and the disk (bulk_data_upload.receive_raw). The
// form stays a plain multipart form for browsers without script.
//
// The metadata and the sequence file are sent at once and answer in any order. An answer whose form
// was meanwhile replaced by the other's still goes to the page's current #data-files (htmx would
// swap it into the replaced one, out of sight). Each answer shows the files as they were when it
// was made (data-version): an older one never replaces a newer one, but its own refusal, if any,
// is still shown next to its file. This runs in the extension (hx-ext on #data-files), which htmx
// asks about every event there, even once that element is no longer in the page (no event of it
// then reaches the document).
htmx.defineExtension("raw-file", {
  encodeParameters(xhr, parameters, elt) {
    const file = elt.querySelector('input[type="file"]')?.files[0];
    if (!file) return null;
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-File-Name", encodeURIComponent(file.name));
    return file;
  },
  onEvent(name, event) {
    if (name !== "htmx:beforeSwap" || !event.detail.xhr || event.detail.xhr.status !== 200) return true;
    const shown = document.getElementById("data-files");
    if (!shown) return true;
    event.detail.target = shown;
    const answer = new DOMParser().parseFromString(event.detail.serverResponse, "text/html");
    const incoming = answer.getElementById("data-files");
    if (!incoming || Number(incoming.dataset.version) >= Number(shown.dataset.version || 0)) return true;
    event.detail.shouldSwap = false;
    for (const error of incoming.querySelectorAll("[data-progress-form] .field-error")) {
      const input = error.closest("form").querySelector('input[type="file"]');
      const form = document.getElementById(input.id)?.closest("form");
      if (!form) continue;
      form.querySelector(".field-error")?.remove();
      form.append(document.importNode(error, true));
    }
    return true;
  },
});

document.body.addEventListener("htmx:xhr:progress", (event) => {
  const form = event.target.closest?.("[data-progress-form]");
  if (!form || !event.detail.lengthComputable) return;
  const box = form.querySelector("[data-send-progress]");
  const value = Math.floor((event.detail.loaded / event.detail.total) * 100);
  box.hidden = false;
  box.querySelector("progress").value = value;
  box.querySelector("[data-send-text]").textContent =
    value < 100 ? `Sending: ${size(event.detail.loaded)} of ${size(event.detail.total)} (${value}%)` : "Checking the file…";
});

// Leaving while a file is being sent would lose it.
window.addEventListener("beforeunload", (event) => {
  if (document.querySelector("[data-progress-form].htmx-request")) {
    event.preventDefault();
    event.returnValue = "";
  }
});
