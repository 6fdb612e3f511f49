// The upload page: the UI around the client module (client/index.js), which
// asks the API for pre-signed URLs and sends files straight to S3, with one
// PUT for small files and parallel, resumable parts for large ones; with
// sign-in, lists the caller's files; with a quota, shows the caller's usage.
// No build step, no dependencies.

import { createClient, formatBytes as fmt, localStore, UploadError } from "./client/index.js";
import { SignIn, SignInError } from "./signin.js";

const $ = (sel) => document.querySelector(sel);
const settings = {
  apiUrl: $("#api-url"), apiKey: $("#api-key"),
  issuer: $("#signin-issuer"), clientId: $("#signin-client-id"), scopes: $("#signin-scopes"),
};
// Settings remembered in localStorage, by key. Tokens never are: see signin.js.
const remembered = { apiUrl: "apiUrl", apiKey: "apiKey", issuer: "signInIssuer", clientId: "signInClientId", scopes: "signInScopes" };
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
  if (!auth.signedIn) refreshQuota(); // signed in, renderAccount has
  document.body.dataset.ready = "true";
}

function saveSettings() {
  for (const [name, key] of Object.entries(remembered)) {
    localStorage.setItem(key, name === "apiKey" ? settings.apiKey.value : settings[name].value.trim());
  }
}
for (const input of Object.values(settings)) input.addEventListener("change", saveSettings);
for (const input of [settings.apiUrl, settings.apiKey]) input.addEventListener("change", () => refreshQuota());
for (const input of [settings.issuer, settings.clientId, settings.scopes]) {
  input.addEventListener("change", () => { configureSignIn(); renderAccount(); });
}
// The fields save as they change; there is nothing to submit.
$("#settings").addEventListener("submit", (e) => e.preventDefault());

// --- the API, through the client module ----------------------------------------

// client is a client of the API the settings name, as they are now.
function client() {
  const apiUrl = settings.apiUrl.value.trim();
  if (!apiUrl) throw new UploadError("Enter the API endpoint first.");
  return createClient({ apiUrl, apiKey: settings.apiKey.value, getToken, multipartThreshold });
}

// getToken hands the client the signed-in user's access token ("" when
// nobody is), refreshing it first when the API refused it.
async function getToken({ refresh }) {
  if (refresh) await auth.refresh();
  return auth.accessToken();
}

// The steps of an upload, as its row's status line says them.
const steps = {
  sign: () => "Asking for an upload link…",
  put: () => "Uploading…",
  start: () => "Starting a multipart upload…",
  parts: (s) => `Uploading ${s.partCount} parts…`,
  complete: () => "Assembling the parts…",
};

async function uploadFile(file, ui, signal) {
  let count = 0;
  try {
    const got = await client().upload(file, {
      signal,
      resume: localStore(), // an unfinished multipart upload resumes after a reload
      onProgress: (n) => ui.progress(n),
      onStep: (s) => {
        if (s.step === "resume") return ui.resumed(s.partsDone, s.partCount);
        if (s.step === "parts") ui.parts(count = s.partCount);
        ui.status(steps[s.step](s));
      },
    });
    return got.fileKey;
  } catch (err) {
    // Every part is in S3 and the upload is kept.
    if (err.kept) throw new UploadError(`${err.message} All ${count} parts are stored and the upload is kept: choose the same file again to finish it.`);
    throw err;
  }
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
      refreshQuota();
      // The verifier's outcome settles what the upload counts as stored.
      showOutcome(fileKey, ui, li).then(() => refreshQuota());
    }).catch((err) => {
      li.classList.add("failed");
      // Over quota, the message says which limit and what is left of it.
      if (err.name === "AbortError") ui.status("Cancelled.");
      else ui.status(err instanceof UploadError ? err.message : `Upload failed: ${err.message}`);
      if (err.code) li.dataset.code = err.code;
      cancel.remove();
      refreshQuota();
    });
  }
}

// showOutcome waits for the verifier's decision on a stored file and shows
// it: "Verified", or "Rejected: <reason>". An API without the verifier has
// no status route: nothing to show.
async function showOutcome(fileKey, ui, li) {
  let outcome;
  try {
    outcome = await client().waitForOutcome(fileKey);
  } catch {
    return; // the API is gone: the upload itself succeeded
  }
  if (outcome?.status === "verified") {
    ui.status(`Uploaded as ${fileKey} · Verified`);
    li.dataset.outcome = "verified";
  } else if (outcome?.status === "rejected") {
    ui.status(`Uploaded as ${fileKey} · Rejected: ${outcome.reason || "no reason given"}`);
    li.dataset.outcome = "rejected";
    li.classList.add("rejected");
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
  if (signedIn !== account.shown) refreshQuota(); // the caller's own, or the shared one
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
// next page, then shows note, if any. A newer load makes an older one's
// answer moot.
async function loadFiles(more = false, note = "") {
  const generation = more ? files.generation : ++files.generation;
  files.section.dataset.state = "loading";
  files.status.textContent = "Loading your files…";
  try {
    const got = await client().listFiles(more && files.next ? { continuationToken: files.next } : {});
    if (generation !== files.generation) return;
    if (!more) files.list.replaceChildren();
    for (const f of got.files) files.list.append(fileRow(f));
    files.next = got.nextToken || "";
    files.more.hidden = !files.next;
    files.status.textContent = [note, files.list.children.length ? "" : "No files yet."].filter(Boolean).join(" ");
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
      const got = await client().downloadUrl(f.fileKey);
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
      await client().deleteFile(f); // only the object listed, not one that replaced it since
      // Keep keyboard focus in the list: on the next file, or the previous.
      const next = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      (next ? next.querySelector(".delete") : $("#files-refresh")).focus();
      files.status.textContent = `Deleted ${f.fileName}.` + (files.list.children.length ? "" : " No files left.");
      refreshQuota();
    } catch (err) {
      if (err.status === 412) {
        // The list is stale: show it as it is now, keyboard focus on Refresh.
        $("#files-refresh").focus();
        loadFiles(false, `${f.fileName} was replaced since the list was loaded, so it was not deleted. The list now shows the current files.`);
        return;
      }
      files.status.textContent = err.message;
      del.disabled = false;
    }
  });
  return li;
}

$("#files-refresh").addEventListener("click", () => { loadFiles(); refreshQuota(); });
files.more.addEventListener("click", () => loadFiles(true));

// --- the caller's quota ----------------------------------------------------------

const quota = { box: $("#quota"), label: $("#quota-label"), usage: $("#quota-usage"), generation: 0 };

// refreshQuota shows usage against each limit the API sets: under "Your
// files" with sign-in, where it is the caller's own, else under the drop
// zone, where every caller of the API shares it. Nothing shows without a
// quota, or signed out where the API signs callers in.
async function refreshQuota() {
  const generation = ++quota.generation;
  let q = null;
  try {
    q = await client().quota();
  } catch { /* no API yet, or not signed in: nothing to show */ }
  if (generation !== quota.generation) return; // a newer answer is on its way
  quota.box.hidden = !q;
  if (!q) return;
  const signedIn = auth.signedIn;
  if (signedIn) files.status.before(quota.box);
  else zone.after(quota.box);
  quota.label.textContent = (signedIn ? "Your quota" : "Quota, shared by everyone using this API") + (q.tier ? ` (tier ${q.tier})` : "") + ":";
  quota.usage.replaceChildren(...quotaItems(q).map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
}

// quotaItems says usage against each bounded limit, as the upload command's
// -quota does.
function quotaItems({ limits, usage }) {
  const items = [];
  if (limits.bytes) {
    items.push(`${fmt(usage.bytes)} of ${fmt(limits.bytes)} stored` +
      (usage.reservedBytes ? `, ${fmt(usage.reservedBytes)} of it reserved by uploads under way` : ""));
  }
  if (limits.bytesPerDay) items.push(`${fmt(usage.bytesToday)} of ${fmt(limits.bytesPerDay)} uploaded today (UTC)`);
  if (limits.filesPerDay) items.push(`${usage.filesToday} of ${limits.filesPerDay} uploads today (UTC)`);
  if (limits.sessions) items.push(`${usage.sessions} of ${limits.sessions} multipart uploads in progress`);
  return items;
}

loadSettings();
