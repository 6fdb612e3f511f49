// The upload page: asks the API for pre-signed URLs and sends files straight
// to S3, with one PUT for small files and parallel, resumable parts for
// large ones. No build step, no dependencies.

const $ = (sel) => document.querySelector(sel);
const settings = { apiUrl: $("#api-url"), apiKey: $("#api-key") };
const PARALLEL = 4;
const ATTEMPTS = 4;
let multipartThreshold = 64 * 1024 * 1024;

// --- settings: remembered in localStorage, pre-filled by local mode -------

async function loadSettings() {
  settings.apiUrl.value = localStorage.getItem("apiUrl") || "";
  settings.apiKey.value = localStorage.getItem("apiKey") || "";
  try {
    // Local mode serves this file; a static host usually does not.
    const res = await fetch("config.json", { cache: "no-store" });
    if (res.ok) {
      const cfg = await res.json();
      if (cfg.apiUrl) settings.apiUrl.value = cfg.apiUrl;
      if (cfg.apiKey !== undefined) settings.apiKey.value = cfg.apiKey;
      if (cfg.multipartThreshold) multipartThreshold = cfg.multipartThreshold;
      saveSettings();
    }
  } catch { /* no config: keep what the user typed before */ }
  document.body.dataset.ready = "true";
}

function saveSettings() {
  localStorage.setItem("apiUrl", settings.apiUrl.value.trim());
  localStorage.setItem("apiKey", settings.apiKey.value);
}
settings.apiUrl.addEventListener("change", saveSettings);
settings.apiKey.addEventListener("change", saveSettings);

// --- errors a person can read ----------------------------------------------

class UploadError extends Error {}

const s3Messages = {
  SignatureDoesNotMatch: "S3 refused the upload: the request does not match what was signed (SignatureDoesNotMatch). The file's type or size may have changed.",
  EntityTooLarge: "S3 refused the upload: the file is larger than allowed (EntityTooLarge).",
  EntityTooSmall: "S3 refused the upload: a part is smaller than allowed (EntityTooSmall).",
  AccessDenied: "S3 refused the upload (AccessDenied).",
  PreconditionFailed: "A file with this name already exists and may not be overwritten (PreconditionFailed).",
  BadDigest: "The file changed while it was uploading: its checksum does not match (BadDigest).",
  NoSuchUpload: "The upload was cancelled or has expired (NoSuchUpload).",
};

function s3Error(status, body) {
  const code = (body.match(/<Code>([^<]*)<\/Code>/) || [])[1] || "";
  const message = (body.match(/<Message>([^<]*)<\/Message>/) || [])[1] || "";
  if (/expired/i.test(message)) {
    return new UploadError(`S3 refused the upload: the upload link has expired (${code || status}). Try again.`);
  }
  return new UploadError(s3Messages[code] || `S3 refused the upload: ${message || "HTTP " + status}${code ? " (" + code + ")" : ""}.`);
}

// --- the API -----------------------------------------------------------------

// The routes this page calls, as the API declares them (package api's route
// table; a test compares the two). Written as JSON so that test can read it.
const ROUTES = {
  "uploadUrl": { "method": "POST", "resource": "/get-upload-url" },
  "startMultipart": { "method": "POST", "resource": "/multipart" },
  "signParts": { "method": "POST", "resource": "/multipart/{uploadId}/parts" },
  "listParts": { "method": "GET", "resource": "/multipart/{uploadId}/parts" },
  "completeMultipart": { "method": "POST", "resource": "/multipart/{uploadId}/complete" },
  "abortMultipart": { "method": "DELETE", "resource": "/multipart/{uploadId}" }
};

// api calls a route: params fill its path, and input is its JSON body or,
// for a GET or DELETE, its query string.
async function api(route, params, input, signal) {
  let path = route.resource.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(params[name]));
  let body;
  if (input !== undefined && route.method === "POST") body = input;
  else if (input !== undefined) path += "?" + new URLSearchParams(input).toString();
  const method = route.method;
  const base = settings.apiUrl.value.trim().replace(/\/+$/, "");
  if (!base) throw new UploadError("Enter the API endpoint first.");
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (settings.apiKey.value) headers["X-Api-Key"] = settings.apiKey.value;
  let res;
  try {
    // redirect "error": the API key goes to the API's origin only.
    res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, redirect: "error" });
  } catch (err) {
    if (signal && signal.aborted) throw err;
    throw new UploadError(`Cannot reach the API at ${base}. Check the endpoint and that this page's origin is allowed.`);
  }
  const text = await res.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { /* not JSON */ }
  if (!res.ok) {
    const why = data.message || text || res.statusText;
    throw Object.assign(new UploadError(`The API refused the request: ${why} (${res.status}${data.code ? " " + data.code : ""}).`),
      { status: res.status, code: data.code });
  }
  return data;
}

// put sends a body to a pre-signed URL, reporting progress; resolves with the ETag.
function put(url, headers, body, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [k, v] of Object.entries(headers)) {
      // The browser sets Content-Length from the body itself.
      if (k.toLowerCase() !== "content-length") xhr.setRequestHeader(k, v);
    }
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.getResponseHeader("ETag"));
      else reject(Object.assign(s3Error(xhr.status, xhr.responseText), { status: xhr.status }));
    };
    xhr.onerror = () => reject(Object.assign(new UploadError("The connection to S3 failed. Check the network, and that the bucket's CORS rule allows this page's origin."), { retry: true }));
    const abort = () => xhr.abort();
    if (signal) signal.addEventListener("abort", () => { abort(); reject(new DOMException("Cancelled", "AbortError")); }, { once: true });
    xhr.send(body);
  });
}

async function withRetry(fn, signal) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const transient = err.retry || err.status >= 500;
      if (!transient || attempt >= ATTEMPTS || (signal && signal.aborted)) throw err;
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt * (0.5 + Math.random() / 2)));
    }
  }
}

async function sha256Base64(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

// --- one file ------------------------------------------------------------------

const resumeKey = (file) => `upload:${file.name}:${file.size}:${file.lastModified}`;

async function uploadFile(file, ui, signal) {
  const contentType = file.type || "application/octet-stream";
  if (file.size === 0) throw new UploadError("The file is empty.");
  if (file.size < multipartThreshold) {
    ui.status("Asking for an upload link…");
    const got = await api(ROUTES.uploadUrl, {}, { fileName: file.name, contentType, size: file.size }, signal);
    ui.status("Uploading…");
    await withRetry(() => put(got.uploadUrl, got.headers, file, (n) => ui.progress(n), signal), signal);
    return got.fileKey;
  }
  return uploadParts(file, contentType, ui, signal);
}

async function uploadParts(file, contentType, ui, signal) {
  const checksums = !!(window.crypto && crypto.subtle);
  let state = JSON.parse(localStorage.getItem(resumeKey(file)) || "null");
  const done = new Map(); // part number → ETag
  if (state) {
    try {
      const listed = await api(ROUTES.listParts, { uploadId: state.uploadId }, { fileKey: state.fileKey }, signal);
      for (const p of listed.parts) done.set(p.partNumber, p.etag);
      ui.resumed(done.size, Math.ceil(file.size / state.partSize));
    } catch (err) {
      if (signal.aborted) throw err;
      localStorage.removeItem(resumeKey(file)); // gone: start over
      state = null;
      done.clear();
    }
  }
  if (!state) {
    ui.status("Starting a multipart upload…");
    const started = await api(ROUTES.startMultipart, {}, { fileName: file.name, contentType, size: file.size, ...(checksums ? { checksumAlgorithm: "SHA256" } : {}) }, signal);
    state = { uploadId: started.uploadId, fileKey: started.fileKey, partSize: started.partSize, checksums };
    localStorage.setItem(resumeKey(file), JSON.stringify(state));
  }
  const { uploadId, fileKey, partSize } = state;
  const count = Math.ceil(file.size / partSize);
  ui.parts(count);
  const sent = new Map();
  for (const n of done.keys()) sent.set(n, Math.min(partSize, file.size - (n - 1) * partSize));
  const report = () => ui.progress([...sent.values()].reduce((a, b) => a + b, 0));
  report();
  ui.status(`Uploading ${count} parts…`);

  const pending = [];
  for (let n = 1; n <= count; n++) if (!done.has(n)) pending.push(n);
  const slice = (n) => file.slice((n - 1) * partSize, Math.min(n * partSize, file.size));
  const sign = async (numbers) => {
    const body = { fileKey, size: file.size, partNumbers: numbers };
    if (state.checksums) body.checksumsSHA256 = await Promise.all(numbers.map((n) => sha256Base64(slice(n))));
    const res = await api(ROUTES.signParts, { uploadId }, body, signal);
    return new Map(res.parts.map((p) => [p.partNumber, p]));
  };
  // Cancelling aborts the upload in S3 instead of leaving its parts behind.
  signal.addEventListener("abort", () => {
    localStorage.removeItem(resumeKey(file));
    api(ROUTES.abortMultipart, { uploadId }, { fileKey }).catch(() => {});
  }, { once: true });
  const batch = Math.max(PARALLEL, Math.min(1000, Math.floor((256 * 1024 * 1024) / partSize)));
  for (let i = 0; i < pending.length; i += batch) {
    const numbers = pending.slice(i, i + batch);
    const signed = await sign(numbers);
    const queue = [...numbers];
    const worker = async () => {
      while (queue.length) {
        const n = queue.shift();
        const part = signed.get(n);
        const etag = await withRetry(() => put(part.url, part.headers, slice(n), (b) => { sent.set(n, b); report(); }, signal), signal);
        done.set(n, etag);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
  }
  ui.status("Assembling the parts…");
  const parts = [...done.entries()].sort((a, b) => a[0] - b[0]).map(([partNumber, etag]) => ({ partNumber, etag }));
  try {
    await api(ROUTES.completeMultipart, { uploadId }, { fileKey, parts }, signal);
  } catch (err) {
    if (signal.aborted) throw err;
    // The API aborted the upload, or an object has the key and
    // preventOverwrite is on: nothing to finish.
    if (err.status === 412 || err.status === 413 || err.code === "UploadAborted") {
      localStorage.removeItem(resumeKey(file));
      throw err;
    }
    // Every part is in S3: keep the upload and its resume state, so the
    // same file chosen again only completes it.
    throw new UploadError(`${err.message} All ${count} parts are stored and the upload is kept: choose the same file again to finish it.`);
  }
  localStorage.removeItem(resumeKey(file));
  return fileKey;
}

// --- the list of uploads ---------------------------------------------------------

function addRow(file) {
  const li = $("#upload-row").content.firstElementChild.cloneNode(true);
  const bar = li.querySelector("progress");
  const status = li.querySelector(".status");
  const cancel = li.querySelector(".cancel");
  li.querySelector(".name").textContent = file.name;
  bar.setAttribute("aria-label", `Progress of ${file.name}`);
  cancel.setAttribute("aria-label", `Cancel ${file.name}`);
  $("#uploads").append(li);
  const started = performance.now();
  let note = "";
  const ui = {
    status: (text) => { status.textContent = note + text; },
    parts: (count) => { li.dataset.parts = String(count); },
    resumed: (have, of) => { note = `Resuming: ${have} of ${of} parts already uploaded. `; status.textContent = note; li.dataset.resumedParts = String(have); },
    progress: (n) => {
      bar.value = file.size ? (100 * n) / file.size : 100;
      const secs = (performance.now() - started) / 1000;
      status.textContent = `${note}${fmt(n)} of ${fmt(file.size)} · ${fmt(secs > 0 ? n / secs : 0)}/s`;
    },
  };
  return { li, ui, cancel };
}

function fmt(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

async function start(files) {
  for (const file of files) {
    const { li, ui, cancel } = addRow(file);
    const controller = new AbortController();
    cancel.addEventListener("click", () => controller.abort());
    uploadFile(file, ui, controller.signal).then((fileKey) => {
      li.classList.add("done");
      li.dataset.fileKey = fileKey;
      li.querySelector("progress").value = 100;
      ui.status(`Uploaded as ${fileKey}`);
      cancel.remove();
    }).catch((err) => {
      li.classList.add("failed");
      if (err.name === "AbortError") ui.status("Cancelled.");
      else ui.status(err instanceof UploadError ? err.message : `Upload failed: ${err.message}`);
      cancel.remove();
    });
  }
}

// --- picking and dropping files --------------------------------------------------

const input = $("#file-input");
input.addEventListener("change", () => { start([...input.files]); input.value = ""; });
const zone = $("#drop-zone");
zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
zone.addEventListener("dragleave", () => zone.classList.remove("over"));
zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); start([...e.dataTransfer.files]); });

loadSettings();
