// The upload page: asks the API for pre-signed URLs and sends files straight
// to S3, with one PUT for small files and parallel, resumable parts for
// large ones; with sign-in, lists the caller's files. No build step, no
// dependencies.

import { SignIn, SignInError } from "./signin.js";

const $ = (sel) => document.querySelector(sel);
const settings = {
  apiUrl: $("#api-url"), apiKey: $("#api-key"),
  issuer: $("#signin-issuer"), clientId: $("#signin-client-id"), scopes: $("#signin-scopes"),
};
// Settings remembered in localStorage, by key. Tokens never are: see signin.js.
const remembered = { apiUrl: "apiUrl", apiKey: "apiKey", issuer: "signInIssuer", clientId: "signInClientId", scopes: "signInScopes" };
const PARALLEL = 4;
const ATTEMPTS = 4;
let multipartThreshold = 64 * 1024 * 1024;

// --- settings: remembered in localStorage, pre-filled by local mode -------

async function loadSettings() {
  for (const [name, key] of Object.entries(remembered)) settings[name].value = localStorage.getItem(key) || "";
  try {
    // Local mode serves this file; a static host usually does not.
    const res = await fetch("config.json", { cache: "no-store" });
    if (res.ok) {
      const cfg = await res.json();
      if (cfg.apiUrl) settings.apiUrl.value = cfg.apiUrl;
      if (cfg.apiKey !== undefined) settings.apiKey.value = cfg.apiKey;
      if (cfg.multipartThreshold) multipartThreshold = cfg.multipartThreshold;
      // Local mode knows whether its environment signs callers in.
      const signIn = cfg.signIn || {};
      settings.issuer.value = signIn.issuer || "";
      settings.clientId.value = signIn.clientId || "";
      settings.scopes.value = signIn.scopes || "";
      saveSettings();
    }
  } catch { /* no config: keep what the user typed before */ }
  configureSignIn();
  try {
    await auth.finish();
  } catch (err) {
    account.message = err instanceof SignInError ? err.message : `Sign-in failed: ${err.message}`;
  }
  renderAccount();
  document.body.dataset.ready = "true";
}

function saveSettings() {
  for (const [name, key] of Object.entries(remembered)) {
    localStorage.setItem(key, name === "apiKey" ? settings.apiKey.value : settings[name].value.trim());
  }
}
for (const input of Object.values(settings)) input.addEventListener("change", saveSettings);
for (const input of [settings.issuer, settings.clientId, settings.scopes]) {
  input.addEventListener("change", () => { configureSignIn(); renderAccount(); });
}
// The fields save as they change; there is nothing to submit.
$("#settings").addEventListener("submit", (e) => e.preventDefault());

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
  "abortMultipart": { "method": "DELETE", "resource": "/multipart/{uploadId}" },
  "listFiles": { "method": "GET", "resource": "/files" },
  "downloadUrl": { "method": "POST", "resource": "/download-url" },
  "deleteFile": { "method": "DELETE", "resource": "/files" },
  "uploadStatus": { "method": "GET", "resource": "/uploads/status" }
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
  for (let attempt = 1; ; attempt++) {
    let token;
    try {
      token = await auth.accessToken();
    } catch (err) {
      throw new UploadError(err.message);
    }
    if (token) headers.Authorization = "Bearer " + token;
    try {
      // redirect "error": the key and the token go to the API's origin only.
      res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, redirect: "error" });
    } catch (err) {
      if (signal && signal.aborted) throw err;
      throw new UploadError(`Cannot reach the API at ${base}. Check the endpoint and that this page's origin is allowed.`);
    }
    // A token refused before its time (revoked, or a clock ahead of ours):
    // refresh it once and try again.
    if (res.status !== 401 || !token || attempt > 1 || !auth.tokens()?.refreshToken) break;
    try { await auth.refresh(); } catch { break; }
  }
  if (res.status === 401 && auth.configured && !auth.signedIn) {
    throw Object.assign(new UploadError("Sign in first: the API accepts signed-in callers only (401)."), { status: 401 });
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
      if (auth.signedIn) loadFiles();
      showOutcome(fileKey, ui, li);
    }).catch((err) => {
      li.classList.add("failed");
      if (err.name === "AbortError") ui.status("Cancelled.");
      else ui.status(err instanceof UploadError ? err.message : `Upload failed: ${err.message}`);
      cancel.remove();
    });
  }
}

// showOutcome waits for the verifier's decision on a stored file and shows
// it: "Verified", or "Rejected: <reason>". An API without the verifier has
// no status route (404): nothing to show.
async function showOutcome(fileKey, ui, li) {
  for (let i = 0; i < 120; i++) {
    let st;
    try {
      st = await api(ROUTES.uploadStatus, {}, { fileKey });
    } catch {
      return; // no verifier here, or the API is gone: the upload itself succeeded
    }
    if (st.status === "verified") {
      ui.status(`Uploaded as ${fileKey} · Verified`);
      li.dataset.outcome = "verified";
      return;
    }
    if (st.status === "rejected") {
      ui.status(`Uploaded as ${fileKey} · Rejected: ${st.reason || "no reason given"}`);
      li.dataset.outcome = "rejected";
      li.classList.add("rejected");
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// --- picking and dropping files --------------------------------------------------

const input = $("#file-input");
input.addEventListener("change", () => { start([...input.files]); input.value = ""; });
const zone = $("#drop-zone");
zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
zone.addEventListener("dragleave", () => zone.classList.remove("over"));
zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); start([...e.dataTransfer.files]); });

// --- sign-in -----------------------------------------------------------------------

const account = { box: $("#account"), status: $("#account-status"), button: $("#sign-in"), message: "", shown: false };
const auth = new SignIn((message) => { if (message) account.message = message; renderAccount(); });

function configureSignIn() {
  auth.configure({ issuer: settings.issuer.value, clientId: settings.clientId.value, scopes: settings.scopes.value });
}

// renderAccount shows the sign-in button when sign-in is set up, and the
// caller's files while signed in.
function renderAccount() {
  const signedIn = auth.signedIn;
  account.box.hidden = !auth.configured && !signedIn;
  account.button.textContent = signedIn ? "Sign out" : "Sign in";
  account.status.textContent = signedIn ? `Signed in as ${auth.user() || "an unnamed user"}` : account.message || "Not signed in.";
  files.section.hidden = !signedIn;
  if (signedIn && !account.shown) loadFiles();
  if (!signedIn && account.shown) {
    files.generation++; // drop answers still on their way
    files.list.replaceChildren();
  }
  account.shown = signedIn;
}

account.button.addEventListener("click", async () => {
  account.message = "";
  account.button.disabled = true;
  try {
    if (auth.signedIn) await auth.signOut();
    else await auth.signIn(); // leaves the page
  } catch (err) {
    account.message = err instanceof SignInError ? err.message : `Sign-in failed: ${err.message}`;
  } finally {
    account.button.disabled = false;
    renderAccount();
  }
});

// --- the caller's files ----------------------------------------------------------

const files = {
  section: $("#files"), list: $("#file-list"), status: $("#files-status"), more: $("#files-more"),
  next: "", generation: 0,
};

// loadFiles lists the caller's files from the first page, or appends the
// next page. A newer load makes an older one's answer moot.
async function loadFiles(more = false) {
  const generation = more ? files.generation : ++files.generation;
  files.section.dataset.state = "loading";
  files.status.textContent = "Loading your files…";
  try {
    const got = await api(ROUTES.listFiles, {}, more && files.next ? { continuationToken: files.next } : undefined);
    if (generation !== files.generation) return;
    if (!more) files.list.replaceChildren();
    for (const f of got.files) files.list.append(fileRow(f));
    files.next = got.nextToken || "";
    files.more.hidden = !files.next;
    files.status.textContent = files.list.children.length ? "" : "No files yet.";
  } catch (err) {
    if (generation !== files.generation) return;
    files.status.textContent = err.message;
  }
  files.section.dataset.state = "ready";
}

function fileRow(f) {
  const li = $("#file-row").content.firstElementChild.cloneNode(true);
  const download = li.querySelector(".download");
  const del = li.querySelector(".delete");
  li.dataset.fileKey = f.fileKey;
  li.querySelector(".name").textContent = f.fileName;
  li.querySelector(".meta").textContent = `${fmt(f.size)} · ${new Date(f.lastModified).toLocaleString()}`;
  download.setAttribute("aria-label", `Download ${f.fileName}`);
  del.setAttribute("aria-label", `Delete ${f.fileName}`);
  download.addEventListener("click", async () => {
    download.disabled = true;
    try {
      const got = await api(ROUTES.downloadUrl, {}, { fileKey: f.fileKey });
      // A pre-signed GET that answers Content-Disposition: attachment: the
      // browser saves the file and stays on this page.
      location.assign(got.downloadUrl);
      files.status.textContent = `Downloading ${f.fileName}…`;
    } catch (err) {
      files.status.textContent = err.message;
    } finally {
      download.disabled = false;
    }
  });
  del.addEventListener("click", async () => {
    if (!confirm(`Delete ${f.fileName}? This cannot be undone here.`)) return;
    del.disabled = true;
    try {
      await api(ROUTES.deleteFile, {}, { fileKey: f.fileKey });
      // Keep keyboard focus in the list: on the next file, or the previous.
      const next = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      (next ? next.querySelector(".delete") : $("#files-refresh")).focus();
      files.status.textContent = `Deleted ${f.fileName}.` + (files.list.children.length ? "" : " No files left.");
    } catch (err) {
      files.status.textContent = err.message;
      del.disabled = false;
    }
  });
  return li;
}

$("#files-refresh").addEventListener("click", () => loadFiles());
files.more.addEventListener("click", () => loadFiles(true));

loadSettings();
