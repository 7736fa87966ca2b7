// Extra-file uploads: the one thing on the page only the browser can do (read files, PUT bytes to S3).
//
// On selection (inputs, or files and folders dropped on the area) the browser sends the portal only
// names and sizes; the portal answers with one row per file. Shortly before uploading, this engine
// asks the portal for the presigned URLs of a batch of files (the portal asks Loculus, which signs
// them for 30 minutes), PUTs the bytes with every header the backend listed, collects part ETags,
// and reports back. The portal's answer — a row with ✓ or ✗ — replaces the row: this module paints
// progress, never a verdict.

import { dropZone } from "./drop_zone.js";
import { size } from "./sizes.js";

const FILES_AT_ONCE = 6;
const PARTS_AT_ONCE = 6; // Chromium opens at most 6 connections per host; more parts only queue
const BATCH = 50; // files per request for upload URLs
const ATTEMPTS = 4; // per PUT, with backoff, for network errors and 5xx
const PART_TIMEOUT_MS = 15 * 60 * 1000;

// Each file chosen on this page is one job, in exactly one state at a time:
//   waiting    needs upload URLs
//   preparing  its URLs are being asked for (one batch of files at a time)
//   ready      has its URLs, waits for one of the FILES_AT_ONCE places
//   uploading  its PUTs are under way
//   reporting  uploaded; its ETags wait a moment to go to the portal together with others
//   done       reported (or the portal had its verdict already): the portal's row says how it went
//   failed     failed or stopped: the row says why, is replaced, or is removed
// Done and failed jobs leave `jobs`. A job whose URLs the storage refused (403) goes back to waiting,
// once, for fresh ones. Waiting and ready jobs are served in `turn` order, given on entering the
// state; a job sent back for fresh URLs goes first.
const ACTIVE = new Set(["waiting", "preparing", "ready", "uploading"]); // can be stopped; keep the page open
const jobs = new Map(); // row id → job, until done or failed
const chosen = new Map(); // "category\npath" → File chosen on this page
let turn = 0;

function inState(state) {
  return [...jobs.values()].filter((job) => job.state === state).sort((a, b) => a.turn - b.turn);
}

function enter(job, state, { first = false } = {}) {
  job.state = state;
  if (state === "waiting" || state === "ready") job.turn = first ? -++turn : ++turn;
  // Back to waiting (for fresh URLs) or failed: the PUTs still in flight, e.g. other parts, are of no use.
  if (state === "waiting" || state === "failed") for (const xhr of job.xhrs) xhr.abort();
  if ((state === "done" || state === "failed") && jobs.get(job.row.id) === job) jobs.delete(job.row.id);
}

// The one way to stop a job, whatever it is doing: it fails and its PUTs in flight are aborted. What
// becomes of its row is the caller's: told why (fail), replaced, or removed by the portal.
function stop(job) {
  enter(job, "failed");
}

const key = (category, path) => `${category}\n${path}`;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
  } catch {
    return "";
  }
}

function rowsOf(category) {
  return document.getElementById(`files-${category}`);
}

function rowFor(category, path) {
  return [...rowsOf(category).querySelectorAll("[data-file-row]")].find((row) => row.dataset.path === path);
}

// Rows are listed by path: folders first by name, numbers by value (s2 before s10), letters without
// regard to case. The same order as file_names.path_order on the portal, which renders the rows.
const NUMBERS = /([0-9]+)/;

function pathKey(path) {
  const segments = path.split("/").map((segment) =>
    segment
      .split(NUMBERS)
      .filter(Boolean)
      .map((token) => {
        if (/^[0-9]+$/.test(token)) {
          const digits = token.replace(/^0+/, "");
          return [0, digits.length, digits];
        }
        return [1, 0, token.toLowerCase()];
      }),
  );
  return [segments, path];
}

function compareKeys(a, b) {
  if (Array.isArray(a)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const order = compareKeys(a[i], b[i]);
      if (order) return order;
    }
    return a.length - b.length;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

// Puts new rows in their place. Rows already in order stay where they are: a row being uploaded
// keeps its element, and with it its progress.
function orderRows(tbody) {
  const keyed = [...tbody.querySelectorAll(":scope > [data-file-row]")].map((row) => [pathKey(row.dataset.path), row]);
  keyed.sort(([a], [b]) => compareKeys(a, b));
  keyed.forEach(([, row], index) => {
    const there = tbody.children[index];
    if (there !== row) tbody.insertBefore(row, there);
  });
}

function sectionOf(category) {
  return document.querySelector(`[data-upload-category="${CSS.escape(category)}"]`);
}

function say(section, message) {
  section.querySelector("[data-upload-message]").textContent = message;
}

// --- Choosing files ------------------------------------------------------------------------------

function choose(section, items, fromFolder) {
  // items: [{file, path}] with path relative to the chosen folder (or just the name).
  const category = section.dataset.uploadCategory;
  const nested = section.dataset.nestedFolders === "allowed";
  say(section, "");
  const files = items.filter(({ path }) => !path.split("/").some((part) => part.startsWith("."))); // .DS_Store…
  if (!nested && files.some(({ path }) => path.includes("/"))) {
    say(section, "Subdirectories are not supported for individual submissions. Please choose a folder that contains only files.");
    return;
  }
  if (!files.length) {
    if (fromFolder) say(section, "That folder contains no files to upload (hidden files are skipped).");
    return;
  }
  const replaced = files.filter((f) => rowFor(category, f.path));
  if (replaced.length) {
    const names = replaced.map((f) => f.path).join(", ");
    if (!window.confirm(`The following file(s) already exist and will be replaced: ${names}`)) return;
    for (const f of replaced) {
      const row = rowFor(category, f.path);
      const job = activeJobOf(row);
      if (job) stop(job);
      row.remove();
    }
  }
  for (const f of files) chosen.set(key(category, f.path), f.file);
  const list = files.map(({ file, path }) => ({ path, size: file.size }));
  // Each request names its own source element: htmx lets one element have one request at a time.
  htmx.ajax("POST", section.dataset.requestUrl, {
    source: section,
    target: rowsOf(category),
    swap: "beforeend",
    values: { files: JSON.stringify(list) },
  });
}

function fromInput(input) {
  const folder = input.hasAttribute("webkitdirectory");
  const items = [...input.files].map((file) => ({
    file,
    path: folder && file.webkitRelativePath ? file.webkitRelativePath.split("/").slice(1).join("/") : file.name,
  }));
  input.value = ""; // the same file can be chosen again later
  choose(input.closest("[data-upload-category]"), items, folder);
}

async function fromDrop(section, dataTransfer) {
  const entries = [...dataTransfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) {
    // No file-system entries (e.g. files handed over by another page): plain files, no folders.
    choose(section, [...dataTransfer.files].map((file) => ({ file, path: file.name })), false);
    return;
  }
  const items = [];
  const folders = entries.filter((entry) => entry.isDirectory);
  const readAll = (reader) =>
    new Promise((resolve, reject) => {
      const all = [];
      const next = () => reader.readEntries((batch) => (batch.length ? (all.push(...batch), next()) : resolve(all)), reject);
      next();
    });
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      items.push({ file, path: prefix + file.name });
    } else if (entry.isDirectory) {
      for (const child of await readAll(entry.createReader())) await walk(child, `${prefix}${entry.name}/`);
    }
  };
  if (folders.length === 1 && entries.length === 1) {
    // One folder dropped: like choosing it with "Upload folder", paths start inside it.
    for (const child of await readAll(folders[0].createReader())) await walk(child, "");
  } else {
    for (const entry of entries) await walk(entry, "");
  }
  choose(section, items, folders.length > 0);
}

// --- Getting upload URLs, in batches, shortly before use -----------------------------------------

// The origins this page's Content Security Policy lets it upload to (the portal lists them on each
// upload section). The portal learns where uploads go before it sends the first page with uploads, so
// an upload URL elsewhere means the storage moved while this page was open: a PUT there would be
// refused by the browser, so the file is marked at once, with what to do.
function allowedOrigin(category, url) {
  const listed = JSON.parse(sectionOf(category).dataset.uploadOrigins || "[]");
  const origin = new URL(url, window.location.href).origin;
  return origin === window.location.origin || listed.includes(origin) ? null : origin;
}

async function prepareBatch() {
  const batch = [];
  for (const job of inState("waiting").slice(0, BATCH)) {
    if (job.row.isConnected) {
      enter(job, "preparing");
      batch.push(job);
    } else {
      stop(job); // its row was swapped away meanwhile
    }
  }
  try {
    if (!batch.length) return;
    const url = sectionOf(batch[0].category).dataset.prepareUrl;
    const answer = await askForUrls(url, batch.map((job) => job.pk), batch.some((job) => job.fresh));
    const byPk = new Map(answer.files.map((target) => [String(target.pk), target]));
    for (const job of batch) {
      if (job.state !== "preparing") continue; // stopped meanwhile
      const target = byPk.get(job.pk);
      const elsewhere = target?.urls?.map((url) => allowedOrigin(job.category, url)).find(Boolean);
      if (target && target.state === "pending" && elsewhere) {
        fail(job, `Uploads now go to ${elsewhere}, which this page was not set up for. Please reload the page and choose this file again.`);
      } else if (target && target.state === "pending") {
        job.target = target;
        enter(job, "ready");
      } else {
        // The portal has its verdict already (e.g. uploaded before): show its row.
        enter(job, "done");
        htmx.ajax("GET", job.row.dataset.rowUrl, { source: job.row, target: job.row, swap: "outerHTML" });
      }
    }
  } catch (error) {
    for (const job of batch) if (job.state === "preparing") fail(job, `Could not get an upload address: ${error.message}`);
  } finally {
    schedule();
  }
}

async function askForUrls(url, pks, fresh) {
  for (let attempt = 1; ; attempt++) {
    try {
      const body = new URLSearchParams({ files: JSON.stringify(pks.map(Number)), fresh: fresh ? "yes" : "no" });
      const response = await fetch(url, {
        method: "POST",
        body,
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.redirected || response.status === 204) {
        window.location.reload(); // signed out meanwhile: the page sends the user to sign in again
        throw new Error("you need to sign in again");
      }
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || `the portal answered ${response.status}`);
      return data;
    } catch (error) {
      if (attempt >= ATTEMPTS) throw error;
      await pause(500 * 2 ** attempt);
    }
  }
}

// --- Uploading -----------------------------------------------------------------------------------

function put(job, url, body, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    job.xhrs.add(xhr);
    xhr.open("PUT", url);
    xhr.timeout = PART_TIMEOUT_MS;
    for (const [name, value] of Object.entries(headers || {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => resolve({ status: xhr.status, etag: xhr.getResponseHeader("ETag") });
    // S3 errors without CORS headers, dropped connections and CORS refusals all land here.
    xhr.onerror = () => reject(new Error("the connection to the storage failed"));
    xhr.ontimeout = () => reject(new Error("the storage did not answer in time"));
    xhr.onabort = () => reject(new Error("cancelled"));
    xhr.onloadend = () => job.xhrs.delete(xhr);
    xhr.send(body);
  });
}

class Refused extends Error {
  constructor(status) {
    super(
      status === 403
        ? "The storage refused the upload (403). The upload address may have expired; Retry gets a fresh one."
        : `The storage refused the upload (${status}).`,
    );
    this.status = status;
  }
}

async function putWithRetry(job, url, body, headers, onProgress) {
  let lastError;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    if (job.state !== "uploading") throw new Error("cancelled");
    try {
      const answer = await put(job, url, body, headers, onProgress);
      if (answer.status >= 500) throw new Error(`the storage answered ${answer.status}`);
      if (answer.status >= 400 && answer.status !== 412) throw new Refused(answer.status);
      return answer;
    } catch (error) {
      if (error instanceof Refused || job.state !== "uploading") throw error;
      lastError = error;
      onProgress(0);
      if (attempt < ATTEMPTS) await pause(400 * 2 ** (attempt - 1));
    }
  }
  throw lastError;
}

async function upload(job) {
  const { file, target } = job;
  const urls = target.urls;
  let etags = [];
  if (target.method === "single") {
    // 412: the object is already there (an earlier attempt got through), so it counts as uploaded.
    await putWithRetry(job, urls[0], file, target.headers, (loaded) => progress(job, loaded));
  } else {
    const partSize = Number(target.partSize);
    const sent = new Array(urls.length).fill(0);
    etags = new Array(urls.length);
    let next = 0;
    const worker = async () => {
      while (next < urls.length) {
        const index = next++;
        const part = file.slice(index * partSize, Math.min(file.size, (index + 1) * partSize));
        const answer = await putWithRetry(job, urls[index], part, {}, (loaded) => {
          sent[index] = loaded;
          progress(job, sent.reduce((a, b) => a + b, 0));
        });
        if (!answer.etag) {
          throw new Error("the storage did not expose the ETag header (its CORS rules must list ETag under ExposeHeaders)");
        }
        etags[index] = answer.etag;
        sent[index] = part.size;
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARTS_AT_ONCE, urls.length) }, worker));
  }
  progress(job, job.size);
  return etags;
}

// Finished uploads are reported in batches: one request to the portal for many files, which answers
// with each file's row (✓, or ✗ if Loculus refused to complete it).
let flushTimer = null;

function reportDone(job, etags) {
  job.etags = etags;
  enter(job, "reporting");
  const url = sectionOf(job.category).dataset.doneUrl;
  const queued = inState("reporting").filter((other) => sectionOf(other.category).dataset.doneUrl === url);
  // With other uploads under way, wait a moment so that files finishing together share one request;
  // the last one (or a lone big file) is reported at once.
  if (queued.length >= BATCH || !inState("uploading").length) flush();
  else if (!flushTimer) flushTimer = setTimeout(flush, 150);
}

function flush() {
  clearTimeout(flushTimer);
  flushTimer = null;
  const byUrl = new Map(); // done URL → jobs
  for (const job of inState("reporting")) {
    const url = sectionOf(job.category).dataset.doneUrl;
    byUrl.set(url, [...(byUrl.get(url) || []), job]);
  }
  for (const [url, reporting] of byUrl) {
    reporting.forEach((job) => enter(job, "done"));
    const live = reporting.filter((job) => job.row.isConnected);
    if (!live.length) continue;
    // fileId: which upload the bytes went to, so a report that crossed new URLs (another group) is not taken.
    const reports = live.map(({ pk, etags, target }) => ({ pk: Number(pk), etags, fileId: target.fileId }));
    htmx
      .ajax("POST", url, { source: live[0].row, swap: "none", values: { reports: JSON.stringify(reports) } })
      .catch(() =>
        live.forEach((job) =>
          report(job.row, job.row.dataset.doneUrl, { etags: JSON.stringify(job.etags), fileId: job.target.fileId }),
        ),
      );
  }
}

async function run(job) {
  try {
    const etags = await upload(job);
    if (job.state === "uploading") reportDone(job, etags);
  } catch (error) {
    if (job.state !== "uploading") return; // stopped
    if (error instanceof Refused && error.status === 403 && !job.fresh) {
      // Expired or otherwise refused URLs: once, ask for fresh ones and start this file again.
      job.fresh = true;
      job.target = null;
      progress(job, 0);
      enter(job, "waiting", { first: true });
      return;
    }
    fail(job, `The upload failed: ${error.message}`);
  }
}

function report(row, url, values) {
  if (!row.isConnected) return; // removed meanwhile
  htmx.ajax("POST", url, { source: row, target: row, swap: "outerHTML", values });
}

function fail(job, reason) {
  stop(job);
  report(job.row, job.row.dataset.failedUrl, { reason });
}

function schedule() {
  if (!inState("preparing").length && inState("waiting").length && inState("ready").length < BATCH) prepareBatch();
  let uploading = inState("uploading").length;
  for (const job of inState("ready")) {
    if (uploading >= FILES_AT_ONCE) break;
    if (!job.row.isConnected) {
      stop(job);
      continue;
    }
    enter(job, "uploading");
    uploading++;
    run(job).finally(schedule);
  }
  summarise();
}


// --- Progress: per file, and per category in bytes, percent, speed and time left -----------------

function progress(job, sent) {
  job.sent = sent;
  const value = job.size ? Math.min(100, Math.floor((sent / job.size) * 100)) : 100;
  const bar = job.row.querySelector("progress");
  const percent = job.row.querySelector("[data-percent]");
  if (bar) bar.value = value;
  if (percent) percent.textContent = `${value}%`;
  summariseSoon();
}

let summaryTimer = null;
function summariseSoon() {
  if (!summaryTimer) summaryTimer = setTimeout(() => ((summaryTimer = null), summarise()), 250);
}

const speeds = new Map(); // category → {bytes, time, rate}

function duration(seconds) {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function summarise() {
  for (const section of document.querySelectorAll("[data-upload-category]")) {
    const summary = section.querySelector("[data-upload-summary]");
    if (!summary) continue;
    const category = section.dataset.uploadCategory;
    // Files an edited entry already has (data-kept) were uploaded before: no part of this upload.
    const rows = [...rowsOf(category).querySelectorAll("[data-file-row]")].filter(
      (row) => row.dataset.state !== "refused" && !("kept" in row.dataset),
    );
    const active = [...jobs.values()].filter((job) => job.category === category && ACTIVE.has(job.state));
    const total = rows.reduce((sum, row) => sum + Number(row.dataset.size || 0), 0);
    const doneRows = rows.filter((row) => row.dataset.state === "uploaded");
    const done = doneRows.reduce((sum, row) => sum + Number(row.dataset.size || 0), 0);
    const sent = done + active.reduce((sum, job) => sum + (job.sent || 0), 0);
    const cancel = section.querySelector("[data-cancel-all]");
    if (cancel) cancel.hidden = active.length === 0;
    if (!rows.length) {
      summary.hidden = true;
      continue;
    }
    summary.hidden = false;
    const now = performance.now();
    const last = speeds.get(category) || { bytes: sent, time: now, rate: 0 };
    if (now - last.time > 500) {
      const rate = ((sent - last.bytes) / (now - last.time)) * 1000;
      speeds.set(category, { bytes: sent, time: now, rate: last.rate ? 0.7 * last.rate + 0.3 * rate : rate });
    } else if (!speeds.has(category)) {
      speeds.set(category, last);
    }
    const rate = speeds.get(category).rate;
    const percent = total ? Math.floor((sent / total) * 100) : 100;
    const parts = [`${doneRows.length} of ${rows.length} file${rows.length === 1 ? "" : "s"} uploaded`, `${size(sent)} of ${size(total)} (${percent}%)`];
    if (active.length && rate > 0) parts.push(`${size(rate)}/s`, `about ${duration((total - sent) / rate)} left`);
    summary.querySelector("[data-summary-text]").textContent = parts.join(" · ");
    summary.querySelector("progress").value = percent;
  }
}

// --- Starting and stopping -----------------------------------------------------------------------

function start(root) {
  const rows = root.matches?.("[data-file-row]") ? [root] : [...(root.querySelectorAll?.("[data-file-row]") || [])];
  for (const row of rows) {
    if (row.dataset.state !== "pending" || jobs.has(row.id)) continue;
    const file = chosen.get(key(row.dataset.category, row.dataset.path));
    if (!file) {
      const waitingText = row.querySelector("[data-waiting]");
      if (waitingText) waitingText.textContent = "Not uploaded: choose this file again to upload it.";
      continue;
    }
    const job = {
      row,
      file,
      pk: row.dataset.pk,
      category: row.dataset.category,
      size: Number(row.dataset.size) || file.size,
      sent: 0,
      xhrs: new Set(),
      fresh: false,
      target: null,
      etags: [],
      state: null,
      turn: 0,
    };
    jobs.set(row.id, job);
    enter(job, "waiting");
  }
  schedule();
}

function activeJobOf(row) {
  const job = row && jobs.get(row.id);
  return job && ACTIVE.has(job.state) ? job : null;
}

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-upload-input]")) fromInput(event.target);
});

document.addEventListener("click", (event) => {
  const all = event.target.closest("[data-cancel-all]");
  if (!all) return;
  const category = all.closest("[data-upload-category]").dataset.uploadCategory;
  for (const job of [...jobs.values()]) {
    if (job.category === category && ACTIVE.has(job.state)) fail(job, "Cancelled. Retry starts the upload again.");
  }
});

// A row being removed (Remove, or Cancel while it uploads) stops its upload first.
document.addEventListener("htmx:beforeRequest", (event) => {
  if (!event.detail.elt.matches?.("[data-remove]")) return;
  const job = activeJobOf(event.detail.elt.closest("[data-file-row]"));
  if (job) stop(job);
});

dropZone("[data-upload-category]", fromDrop);

window.addEventListener("beforeunload", (event) => {
  if ([...jobs.values()].some((job) => ACTIVE.has(job.state))) {
    event.preventDefault();
    event.returnValue = "";
  }
});

htmx.onLoad(start);

document.body.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target.matches?.("[data-file-rows]")) orderRows(event.detail.target);
});

// Messages from the portal about a selection (e.g. folders that match no entry).
document.body.addEventListener("uploadMessage", (event) => {
  const section = sectionOf(event.detail.category);
  if (section) say(section, event.detail.message);
});
