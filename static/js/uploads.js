// Extra-file uploads: the one thing on the page only the browser can do (read files, PUT bytes to S3).
//
// On selection the browser sends the portal only names and sizes; the portal answers with one row
// per file, carrying the presigned URLs Loculus handed out. This module PUTs the bytes (with every
// header the backend listed), collects part ETags, and reports back. The portal's answer — a row
// with ✓ or ✗ — replaces the row; this module never paints a verdict itself, only progress.

const MAX_FILES_AT_ONCE = 3;
const MAX_PARTS_AT_ONCE = 4;
const ATTEMPTS = 3;

const chosen = new Map(); // "category\npath" → File, for the rows of this page
const active = new Set(); // rows uploading now
const queue = [];

const key = (category, path) => `${category}\n${path}`;

function rowsOf(category) {
  return document.getElementById(`files-${category}`);
}

function rowFor(category, path) {
  return [...rowsOf(category).querySelectorAll("[data-file-row]")].find((row) => row.dataset.path === path);
}

function say(section, message) {
  const box = section.querySelector("[data-upload-message]");
  box.textContent = message;
}

function select(input) {
  const category = input.dataset.category;
  const section = input.closest("[data-upload-category]");
  const folder = input.hasAttribute("webkitdirectory");
  say(section, "");
  const files = [];
  for (const file of input.files) {
    let path = file.name;
    if (folder && file.webkitRelativePath) {
      path = file.webkitRelativePath.split("/").slice(1).join("/"); // without the chosen folder itself
    }
    if (path.split("/").some((part) => part.startsWith("."))) continue; // .DS_Store and friends
    if (folder && path.includes("/")) {
      say(section, "Subdirectories are not supported for individual submissions. Please choose a folder that contains only files.");
      input.value = "";
      return;
    }
    files.push({ path, size: file.size, file });
  }
  input.value = ""; // the same file can be chosen again later
  if (!files.length) {
    say(section, folder ? "That folder contains no files to upload (hidden files are skipped)." : "");
    return;
  }
  const replaced = files.filter((f) => rowFor(category, f.path));
  if (replaced.length) {
    const names = replaced.map((f) => f.path).join(", ");
    if (!window.confirm(`The following file(s) already exist and will be replaced: ${names}`)) return;
    for (const f of replaced) rowFor(category, f.path).remove();
  }
  for (const f of files) chosen.set(key(category, f.path), f.file);
  const list = files.map(({ path, size }) => ({ path, size }));
  htmx.ajax("POST", section.dataset.requestUrl, {
    target: rowsOf(category),
    swap: "beforeend",
    values: { files: JSON.stringify(list) },
  });
}

// --- Uploading -----------------------------------------------------------------------------------

function put(url, body, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers || {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => resolve({ status: xhr.status, etag: xhr.getResponseHeader("ETag") });
    // S3 errors without CORS headers, dropped connections and CORS refusals all land here.
    xhr.onerror = () => reject(new Error("the connection to the storage failed"));
    xhr.ontimeout = () => reject(new Error("the storage did not answer in time"));
    xhr.send(body);
  });
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function putWithRetry(url, body, headers, onProgress) {
  let lastError;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const answer = await put(url, body, headers, onProgress);
      if (answer.status >= 500) throw new Error(`the storage answered ${answer.status}`);
      return { ...answer, attempt };
    } catch (error) {
      lastError = error;
      onProgress(0);
      if (attempt < ATTEMPTS) await pause(500 * 2 ** (attempt - 1));
    }
  }
  throw lastError;
}

function refusal(status) {
  if (status === 403) return "The storage refused the upload (403). The upload address may have expired; Retry gets a fresh one.";
  return `The storage refused the upload (${status}).`;
}

async function upload(row) {
  const file = chosen.get(key(row.dataset.category, row.dataset.path));
  const progress = row.querySelector("progress");
  const percent = row.querySelector("[data-percent]");
  const size = Number(row.dataset.size) || file.size;
  const show = (sent) => {
    const value = size ? Math.min(100, Math.floor((sent / size) * 100)) : 100;
    if (progress) progress.value = value;
    if (percent) percent.textContent = `${value}%`;
  };
  const urls = JSON.parse(row.dataset.urls || "[]");
  const headers = JSON.parse(row.dataset.headers || "{}");
  let etags = [];
  try {
    if (row.dataset.method === "single") {
      const answer = await putWithRetry(urls[0], file, headers, show);
      // 412: the object is already there (an earlier attempt got through), so it counts as uploaded.
      if (answer.status !== 200 && answer.status !== 412) throw new Error(refusal(answer.status));
    } else {
      const partSize = Number(row.dataset.partSize);
      const sent = new Array(urls.length).fill(0);
      etags = new Array(urls.length);
      let next = 0;
      const worker = async () => {
        while (next < urls.length) {
          const index = next++;
          const part = file.slice(index * partSize, Math.min(file.size, (index + 1) * partSize));
          const answer = await putWithRetry(urls[index], part, {}, (loaded) => {
            sent[index] = loaded;
            show(sent.reduce((a, b) => a + b, 0));
          });
          if (answer.status !== 200) throw new Error(refusal(answer.status));
          if (!answer.etag) throw new Error("The storage did not expose the ETag header (its CORS rules must list ETag under ExposeHeaders).");
          etags[index] = answer.etag;
          sent[index] = part.size;
        }
      };
      await Promise.all(Array.from({ length: Math.min(MAX_PARTS_AT_ONCE, urls.length) }, worker));
    }
  } catch (error) {
    report(row, row.dataset.failedUrl, { reason: `The upload failed: ${error.message}` });
    return;
  }
  show(size);
  report(row, row.dataset.doneUrl, { etags: JSON.stringify(etags) });
}

function report(row, url, values) {
  if (!row.isConnected) return; // removed meanwhile
  htmx.ajax("POST", url, { target: `#${row.id}`, swap: "outerHTML", values });
}

function pump() {
  while (active.size < MAX_FILES_AT_ONCE && queue.length) {
    const row = queue.shift();
    if (!row.isConnected) continue;
    active.add(row);
    upload(row).finally(() => {
      active.delete(row);
      pump();
    });
  }
}

function start(root) {
  const rows = root.matches?.("[data-file-row]") ? [root] : [...(root.querySelectorAll?.("[data-file-row]") || [])];
  for (const row of rows) {
    if (row.dataset.state !== "pending" || row.dataset.queued) continue;
    if (!chosen.has(key(row.dataset.category, row.dataset.path))) {
      const waiting = row.querySelector("[data-waiting]");
      if (waiting) waiting.textContent = "Not uploaded: choose this file again to upload it.";
      continue;
    }
    row.dataset.queued = "yes";
    queue.push(row);
  }
  pump();
}

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-upload-input]")) select(event.target);
});

window.addEventListener("beforeunload", (event) => {
  if (active.size || queue.length) {
    event.preventDefault();
    event.returnValue = "";
  }
});

htmx.onLoad(start);
