// A browser client for the upload API: it asks the API for pre-signed URLs
// and sends files straight to S3, with one PUT for small files and
// parallel, resumable parts for large ones. It also reads the verifier's
// outcome, the caller's quota and, with sign-in, the caller's files. No
// dependencies and no build step: import it as it is, or through a bundler.

/**
 * The routes this client calls, as the API declares them (package api's
 * route table; a test compares the two). Written as JSON so that test can
 * read it.
 */
export const ROUTES = {
  "uploadUrl": { "method": "POST", "resource": "/get-upload-url" },
  "startMultipart": { "method": "POST", "resource": "/multipart" },
  "signParts": { "method": "POST", "resource": "/multipart/{uploadId}/parts" },
  "listParts": { "method": "GET", "resource": "/multipart/{uploadId}/parts" },
  "completeMultipart": { "method": "POST", "resource": "/multipart/{uploadId}/complete" },
  "abortMultipart": { "method": "DELETE", "resource": "/multipart/{uploadId}" },
  "listFiles": { "method": "GET", "resource": "/files" },
  "downloadUrl": { "method": "POST", "resource": "/download-url" },
  "deleteFile": { "method": "DELETE", "resource": "/files" },
  "uploadStatus": { "method": "GET", "resource": "/uploads/status" },
  "quota": { "method": "GET", "resource": "/quota" },
  "reconcileQuota": { "method": "POST", "resource": "/quota/reconcile" }
};

const MIB = 1024 * 1024;
// S3's limits, as package api plans with them.
const MIN_PART_SIZE = 5 * MIB;
const MAX_PARTS = 10000;
// How much data one signing call covers, as the Go client does: with 16 MiB
// parts, 16 parts, so a GiB costs 4 calls.
const BATCH_BYTES = 256 * MIB;
// A signed part URL this close to expiry is signed again before it is used.
const EXPIRY_MARGIN_MS = 30 * 1000;

/**
 * @typedef {object} Plan How a multipart upload is cut: partCount parts of
 *   partSize bytes, the last one shorter.
 * @property {number} size
 * @property {number} partSize
 * @property {number} partCount
 */

/**
 * planParts plans an upload of size bytes with parts of preferred bytes,
 * raised to a whole MiB when more than 10,000 parts would be needed: the
 * API's own plan (api.PlanParts), which a test holds this to.
 * @param {number} size
 * @param {number} preferred the API's partSize setting
 * @returns {Plan}
 */
export function planParts(size, preferred) {
  let partSize = Math.max(preferred, MIN_PART_SIZE);
  const need = Math.ceil(size / MAX_PARTS);
  if (need > partSize) partSize = Math.ceil(need / MIB) * MIB;
  return { size, partSize, partCount: Math.ceil(size / partSize) };
}

/**
 * partLength returns the byte count of part n (1-based) of a plan.
 * @param {Plan} plan
 * @param {number} n
 */
export function partLength(plan, n) {
  return n < plan.partCount ? plan.partSize : plan.size - (plan.partCount - 1) * plan.partSize;
}

/**
 * @typedef {object} QuotaRefusal Which of the caller's quota limits an
 *   upload would pass, as the API's QuotaExceeded refusal says.
 * @property {"bytes" | "bytesPerDay" | "filesPerDay" | "sessions"} dimension
 * @property {number} limit
 * @property {number} used
 * @property {number} remaining what is left of the limit
 * @property {number} needed what the upload asked for
 * @property {number} [retryAfter] for a per-day limit, seconds until the
 *   UTC day starts afresh
 */

/**
 * UploadError is every failure the client reports, but a cancellation
 * (an AbortError DOMException). Its message is a sentence a person can
 * read.
 */
export class UploadError extends Error {
  /**
   * @param {string} message
   * @param {{status?: number, code?: string, transient?: boolean, kept?: boolean, quota?: QuotaRefusal | null, cause?: unknown}} [details]
   */
  constructor(message, { status = 0, code = "", transient = false, kept = false, quota = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "UploadError";
    /** The HTTP status of the refusal; 0 when no answer came. */
    this.status = status;
    /** The API's error code (its `code` field), S3's `<Code>`, or the client's own ("NetworkError", "EmptyFile", …). */
    this.code = code;
    /** Whether trying again may help: a failed connection, a 5xx. */
    this.transient = transient;
    /** Set when every part is in S3 and the upload is kept: uploading the same file again with the same resume store only completes it. */
    this.kept = kept;
    /** With code QuotaExceeded, the limit the upload would pass and what is left of it; else null. */
    this.quota = quota;
  }
}

/**
 * formatBytes spells a number of bytes in binary units, as the client's
 * messages do: "512 B", "1.5 KiB", "3.0 MiB".
 * @param {number} n
 * @returns {string}
 */
export function formatBytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

// What each quota dimension is called in a refusal, as the upload command
// says it.
const quotaNames = {
  bytes: "your stored-bytes quota",
  bytesPerDay: "today's upload volume",
  filesPerDay: "today's number of uploads",
  sessions: "your quota of multipart uploads in progress",
};

// quotaMessage says a QuotaExceeded refusal plainly: which limit, what is
// left, what the file needs and, for a per-day limit, when it starts afresh.
function quotaMessage(r) {
  const f = r.dimension === "filesPerDay" || r.dimension === "sessions" ? String : formatBytes;
  let msg = `Over quota: ${quotaNames[r.dimension] || `the ${r.dimension} quota`} has ${f(r.remaining)} of ${f(r.limit)} left; this file needs ${f(r.needed)}.`;
  if (r.retryAfter > 0) {
    const min = Math.ceil(r.retryAfter / 60), h = Math.floor(min / 60);
    msg += ` It starts afresh in ${[h && `${h} h`, min % 60 && `${min % 60} min`].filter(Boolean).join(" ")} (midnight UTC).`;
  }
  return msg;
}

// S3's codes that need saying in other words.
const s3Messages = {
  SignatureDoesNotMatch: "S3 refused the upload: the request does not match what was signed (SignatureDoesNotMatch). The file's type or size may have changed.",
  EntityTooLarge: "S3 refused the upload: the file is larger than allowed (EntityTooLarge).",
  EntityTooSmall: "S3 refused the upload: a part is smaller than allowed (EntityTooSmall).",
  AccessDenied: "S3 refused the upload (AccessDenied).",
  PreconditionFailed: "A file with this name already exists and may not be overwritten (PreconditionFailed).",
  BadDigest: "The file changed while it was uploading: its checksum does not match (BadDigest).",
  NoSuchUpload: "The upload was cancelled or has expired (NoSuchUpload).",
};

// The refusals of a URL whose signature has expired.
const expiredLinks = new WeakSet();

function s3Error(status, body) {
  const code = (body.match(/<Code>([^<]*)<\/Code>/) || [])[1] || "";
  const message = (body.match(/<Message>([^<]*)<\/Message>/) || [])[1] || "";
  const details = { status, code, transient: status >= 500 || status === 429 };
  if (status === 403 && /expired/i.test(message)) {
    const err = new UploadError(`S3 refused the upload: the upload link has expired (${code || status}). Try again.`, details);
    expiredLinks.add(err);
    return err;
  }
  return new UploadError(s3Messages[code] || `S3 refused the upload: ${message || "HTTP " + status}${code ? " (" + code + ")" : ""}.`, details);
}

// routeMissing reports a refusal that means the API has no such route: 404
// from the function or a static host, 403 MISSING_AUTHENTICATION_TOKEN from
// API Gateway.
const routeMissing = (err) => err instanceof UploadError &&
  (err.status === 404 || (err.status === 403 && err.code === "MISSING_AUTHENTICATION_TOKEN"));

const aborted = (signal) => signal?.reason ?? new DOMException("Cancelled", "AbortError");

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(signal));
    const done = () => { signal?.removeEventListener("abort", stop); resolve(); };
    const timer = setTimeout(done, ms);
    const stop = () => { clearTimeout(timer); reject(aborted(signal)); };
    signal?.addEventListener("abort", stop, { once: true });
  });
}

// put sends a body to a pre-signed URL with exactly its signed headers,
// reporting bytes sent; it resolves with S3's ETag.
function put(url, headers, body, onProgress, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(signal));
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [k, v] of Object.entries(headers)) {
      // The browser sets Content-Length from the body itself.
      if (k.toLowerCase() !== "content-length") xhr.setRequestHeader(k, v);
    }
    const stop = () => { xhr.abort(); reject(aborted(signal)); };
    const settle = () => signal?.removeEventListener("abort", stop);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      settle();
      if (xhr.status < 200 || xhr.status >= 300) return reject(s3Error(xhr.status, xhr.responseText));
      const etag = xhr.getResponseHeader("ETag");
      if (!etag) {
        return reject(new UploadError("S3 stored the upload but its answer hides the ETag: the bucket's CORS rule must expose ETag.", { status: xhr.status, code: "NoETag" }));
      }
      resolve(etag);
    };
    xhr.onerror = () => {
      settle();
      reject(new UploadError("The connection to S3 failed. Check the network, and that the bucket's CORS rule allows this page's origin.", { code: "NetworkError", transient: true }));
    };
    signal?.addEventListener("abort", stop, { once: true });
    xhr.send(body);
  });
}

// backoff is how long to wait before trying again after attempt tries: what
// the answer's Retry-After asks for, or from 250 ms doubling, with jitter so
// that the tries of many uploads spread out.
function backoff(attempt, retryAfter) {
  const s = Number(retryAfter);
  return s > 0 ? s * 1000 * (1 + Math.random() / 2) : 250 * 2 ** attempt * (0.5 + Math.random() / 2);
}

// withRetry calls fn until it succeeds, fails for good or has failed
// attempts times, backing off between tries. renew, when given, may mend
// a failure once (it resolves true if it did): the call is then tried
// again at once.
async function withRetry(fn, attempts, signal, renew) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (signal?.aborted) throw err;
      if (renew && await renew(err)) {
        renew = null;
        continue;
      }
      if (!err.transient || attempt >= attempts) throw err;
      await sleep(backoff(attempt), signal);
    }
  }
}

// --- CRC64NVME --------------------------------------------------------------

// S3's CRC-64/NVME, the whole-file checksum the API signs: reflected,
// polynomial 0xad93d23594c93659 (0x9a6c9329ac4bc9b5 bit-reversed), initial
// value and final XOR all ones. A BigInt per byte would crawl, so the
// checksum runs on two 32-bit halves, eight bytes a step ("slice-by-8"):
// TLO and THI hold the halves of the checksum of byte i followed by k zero
// bytes at [k * 256 + i].
const POLY_HI = 0x9a6c9329, POLY_LO = 0xac4bc9b5;
const TLO = new Uint32Array(8 * 256), THI = new Uint32Array(8 * 256);
for (let i = 0; i < 256; i++) {
  let lo = i, hi = 0;
  for (let bit = 0; bit < 8; bit++) {
    const carry = lo & 1;
    lo = (lo >>> 1) | (hi << 31);
    hi >>>= 1;
    if (carry) { lo ^= POLY_LO; hi ^= POLY_HI; }
  }
  TLO[i] = lo;
  THI[i] = hi;
}
for (let i = 256; i < 8 * 256; i++) {
  const lo = TLO[i - 256], hi = THI[i - 256];
  TLO[i] = (lo >>> 8) ^ (hi << 24) ^ TLO[lo & 255];
  THI[i] = (hi >>> 8) ^ THI[lo & 255];
}
// Eight bytes are read as two little-endian 32-bit words; on a big-endian
// machine (none that runs a browser today) every byte goes the slow way.
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * crc64nvme returns the CRC64NVME checksum of bytes, or, given crc, the
 * checksum of what crc covered followed by bytes: feed a file to it a chunk
 * at a time.
 * @param {Uint8Array | ArrayBuffer | ArrayBufferView} bytes
 * @param {bigint} [crc] the checksum of the bytes before these
 * @returns {bigint}
 */
export function crc64nvme(bytes, crc = 0n) {
  const b = bytes instanceof Uint8Array ? bytes
    : ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(bytes);
  crc = BigInt.asUintN(64, crc);
  let hi = ~Number(crc >> 32n), lo = ~Number(crc & 0xffffffffn);
  const n = b.length;
  let i = 0;
  const byte = () => {
    const x = (lo ^ b[i++]) & 255;
    lo = (lo >>> 8) ^ (hi << 24) ^ TLO[x];
    hi = (hi >>> 8) ^ THI[x];
  };
  // Up to a 4-byte boundary, so that the words can be read in place.
  const head = Math.min(n, (4 - (b.byteOffset & 3)) & 3);
  while (i < head) byte();
  const count = LITTLE_ENDIAN ? ((n - i) >>> 3) * 2 : 0;
  const words = count ? new Uint32Array(b.buffer, b.byteOffset + i, count) : [];
  for (let j = 0; j < words.length; j += 2) {
    lo ^= words[j];
    hi ^= words[j + 1];
    const l = TLO[1792 + (lo & 255)] ^ TLO[1536 + ((lo >>> 8) & 255)] ^ TLO[1280 + ((lo >>> 16) & 255)] ^ TLO[1024 + (lo >>> 24)] ^
      TLO[768 + (hi & 255)] ^ TLO[512 + ((hi >>> 8) & 255)] ^ TLO[256 + ((hi >>> 16) & 255)] ^ TLO[hi >>> 24];
    hi = THI[1792 + (lo & 255)] ^ THI[1536 + ((lo >>> 8) & 255)] ^ THI[1280 + ((lo >>> 16) & 255)] ^ THI[1024 + (lo >>> 24)] ^
      THI[768 + (hi & 255)] ^ THI[512 + ((hi >>> 8) & 255)] ^ THI[256 + ((hi >>> 16) & 255)] ^ THI[hi >>> 24];
    lo = l;
  }
  i += words.length * 4;
  while (i < n) byte();
  return (BigInt(~hi >>> 0) << 32n) | BigInt(~lo >>> 0);
}

// How much of a Blob is read at once. (Reading the next chunk while one is
// checksummed gains nothing in Chromium: both run on the page's thread.)
const READ_BYTES = 4 * MIB;

/**
 * crc64nvmeBlob reads a Blob (a File, a slice of one) a few MiB at a time
 * and returns its CRC64NVME.
 * @param {Blob} blob
 * @param {{signal?: AbortSignal}} [options]
 * @returns {Promise<bigint>}
 */
export async function crc64nvmeBlob(blob, { signal } = {}) {
  let crc = 0n;
  for (let at = 0; at < blob.size; at += READ_BYTES) {
    const chunk = await blob.slice(at, at + READ_BYTES).arrayBuffer();
    if (signal?.aborted) throw aborted(signal);
    crc = crc64nvme(chunk, crc);
  }
  return crc;
}

// Combining works on whole checksums, as polynomials over GF(2) in the same
// reflected order: X0 is x^0, and x2n[k] is x^(2^k) modulo the polynomial.
const POLY = 0x9a6c9329ac4bc9b5n;
const X0 = 1n << 63n;
let x2n;

function multModP(a, b) {
  let p = 0n;
  for (let m = X0; m; m >>= 1n) {
    if (a & m) p ^= b;
    b = b & 1n ? (b >> 1n) ^ POLY : b >> 1n;
  }
  return p;
}

/**
 * combineCrc64nvme returns the checksum of A followed by B, given A's
 * checksum a, B's checksum b and B's length in bytes: a whole file's from
 * its parts', in order, without reading them again.
 * @param {bigint} a
 * @param {bigint} b
 * @param {number} lengthB
 * @returns {bigint}
 */
export function combineCrc64nvme(a, b, lengthB) {
  if (!(lengthB > 0)) return a; // b can only be the checksum of nothing: 0
  if (!x2n) {
    x2n = [X0 >> 1n];
    for (let k = 1; k < 64; k++) x2n.push(multModP(x2n[k - 1], x2n[k - 1]));
  }
  // a times x^(8 lengthB): appending lengthB zero bytes to A.
  let shift = X0;
  for (let n = lengthB, k = 3; n > 0; n = Math.floor(n / 2), k++) {
    if (n % 2) shift = multModP(x2n[k], shift);
  }
  return multModP(shift, BigInt.asUintN(64, a)) ^ BigInt.asUintN(64, b);
}

/**
 * encodeCrc64nvme spells a checksum as S3 and the API do: the base64 of its
 * 8 bytes, big-endian.
 * @param {bigint} crc
 * @returns {string}
 */
export function encodeCrc64nvme(crc) {
  let s = "";
  for (let shift = 56n; shift >= 0n; shift -= 8n) s += String.fromCharCode(Number((crc >> shift) & 0xffn));
  return btoa(s);
}

/**
 * decodeCrc64nvme reads a checksum encodeCrc64nvme spelled; null for
 * anything else.
 * @param {string} s
 * @returns {bigint | null}
 */
export function decodeCrc64nvme(s) {
  if (!/^[A-Za-z0-9+/]{11}=$/.test(s)) return null;
  let crc = 0n;
  for (const c of atob(s)) crc = (crc << 8n) | BigInt(c.charCodeAt(0));
  return crc;
}

const typeOf = (file) => file.type || "application/octet-stream";
const nameOf = (file) => file.name || "file";

// wholeChecksum combines the parts' checksums, in order, into the file's.
function wholeChecksum(state) {
  const plan = planParts(state.size, state.partSize);
  let whole = 0n;
  for (let n = 1; n <= plan.partCount; n++) {
    const part = decodeCrc64nvme(state.partChecksums?.[n] ?? "");
    if (part === null) throw new UploadError(`No checksum of part ${n}: checksumParts reads it.`, { code: "MissingChecksum" });
    whole = n === 1 ? part : combineCrc64nvme(whole, part, partLength(plan, n));
  }
  return whole;
}

/**
 * @typedef {object} MultipartState What resumes a multipart upload: keep
 *   it (as JSON) to finish the upload later.
 * @property {string} uploadId
 * @property {string} fileKey
 * @property {string} uploadSecret sent with every later call about the
 *   upload (X-Upload-Secret): without it the API refuses them
 * @property {number} size the declared size, which binds the upload
 * @property {number} partSize the API's plan
 * @property {boolean} checksums whether the upload checks the whole file
 *   with CRC64NVME: each part's checksum signed into its URL, the whole
 *   file's sent at completion
 * @property {Record<string, string>} [partChecksums] each part's CRC64NVME
 *   (base64) by part number, as read from the file: a resume compares them
 *   with the parts S3 holds, and completion combines them, without reading
 *   the file again
 */

/**
 * @typedef {object} ResumeStore Where upload() keeps a multipart upload's
 *   state while it runs, so that uploading the same file again resumes it.
 * @property {(file: File) => MultipartState | null | Promise<MultipartState | null>} get
 * @property {(file: File, state: MultipartState) => void | Promise<void>} set
 * @property {(file: File) => void | Promise<void>} delete
 */

/**
 * localStore keeps resume state in Web Storage (localStorage by default,
 * so it outlives a reload), one entry per file name, size and modification
 * time under prefix.
 * @param {Storage} [storage]
 * @param {string} [prefix]
 * @returns {ResumeStore}
 */
export function localStore(storage = globalThis.localStorage, prefix = "upload:") {
  const key = (file) => `${prefix}${file.name}:${file.size}:${file.lastModified}`;
  return {
    get(file) {
      try { return JSON.parse(storage.getItem(key(file)) || "null"); } catch { return null; }
    },
    set(file, state) { storage.setItem(key(file), JSON.stringify(state)); },
    delete(file) { storage.removeItem(key(file)); },
  };
}

/**
 * @typedef {object} ClientOptions
 * @property {string} apiUrl the stage URL, e.g. https://ID.execute-api.REGION.amazonaws.com/prod
 * @property {string} [apiKey] sent as X-Api-Key when the API requires a key
 * @property {(options: {refresh: boolean}) => string | Promise<string>} [getToken]
 *   returns the access token to send as a bearer token, "" when signed out;
 *   called before every API call, and with refresh true once after a 401
 * @property {number} [multipartThreshold] files this large or larger go up in parts. Default: 64 MiB.
 * @property {number} [parallel] parts in flight. Default: 4.
 * @property {number} [attempts] tries per S3 request on a failed connection or a 5xx, and per API
 *   call the API answers 503 Busy (a write it needed met another under way, and nothing was done).
 *   Default: 4.
 */

/**
 * createClient returns a client of the API at options.apiUrl.
 * @param {ClientOptions} options
 * @returns {Client}
 */
export function createClient(options) {
  return new Client(options);
}

/** Client calls the upload API and sends files to S3. */
export class Client {
  /** @param {ClientOptions} options */
  constructor({ apiUrl, apiKey = "", getToken, multipartThreshold = 64 * MIB, parallel = 4, attempts = 4 }) {
    if (!apiUrl) throw new TypeError("createClient: apiUrl is required");
    this.apiUrl = String(apiUrl).trim().replace(/\/+$/, "");
    this.apiKey = apiKey;
    this.getToken = getToken;
    this.multipartThreshold = multipartThreshold;
    this.parallel = Math.max(1, parallel);
    this.attempts = Math.max(1, attempts);
  }

  async #token(refresh) {
    if (!this.getToken) return "";
    try {
      return (await this.getToken({ refresh })) || "";
    } catch (err) {
      throw new UploadError(err.message, { code: "SignInError", cause: err });
    }
  }

  /**
   * request calls one route: params fill its path, and input is its JSON
   * body or, for a GET or DELETE, its query string. It resolves with the
   * answer's JSON ({} for an empty one). An answer 503 Busy (a write the API
   * needed met another under way, nothing was done) is tried again, up to
   * attempts times in all, and so is any 5xx or lost connection for an
   * idempotent call; a refusal over quota (QuotaExceeded) never is: it
   * rejects with the refusal in the error's quota.
   * @param {{method: string, resource: string}} route one of ROUTES
   * @param {{params?: Record<string, string>, input?: object, secret?: string, signal?: AbortSignal, idempotent?: boolean}} [options]
   *   secret: the multipart upload's uploadSecret, for the routes about one;
   *   idempotent: the call may be sent again whatever became of the last one
   * @returns {Promise<any>}
   */
  async request(route, { params = {}, input, secret, signal, idempotent = false } = {}) {
    let path = route.resource.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(params[name]));
    const post = route.method === "POST";
    if (!post && input) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(input)) if (v !== undefined && v !== "") q.set(k, String(v));
      if (q.toString()) path += "?" + q.toString();
    }
    const headers = {};
    if (post) headers["Content-Type"] = "application/json";
    if (this.apiKey) headers["X-Api-Key"] = this.apiKey;
    if (secret) headers["X-Upload-Secret"] = secret;
    const send = async (token) => {
      if (token) headers.Authorization = "Bearer " + token;
      try {
        // redirect "error": the key and the token go to the API's origin only.
        return await fetch(this.apiUrl + path, { method: route.method, headers, body: post ? JSON.stringify(input ?? {}) : undefined, signal, redirect: "error" });
      } catch (err) {
        if (signal?.aborted) throw aborted(signal);
        throw new UploadError(`Cannot reach the API at ${this.apiUrl}. Check the endpoint and that this page's origin is allowed.`, { code: "NetworkError", transient: true, cause: err });
      }
    };
    let token = await this.#token(false);
    for (let attempt = 1; ; attempt++) {
      let res;
      try {
        res = await send(token);
        // A token refused before its time (revoked, or a clock ahead of
        // ours): ask for a fresh one once and try again.
        if (res.status === 401 && token) {
          const fresh = await this.#token(true).catch(() => "");
          if (fresh && fresh !== token) res = await send(token = fresh);
        }
      } catch (err) {
        if (!idempotent || !err.transient || attempt >= this.attempts) throw err;
        await sleep(backoff(attempt), signal);
        continue;
      }
      const text = await res.text();
      let data = {};
      try { data = text ? JSON.parse(text) : {}; } catch { /* not JSON */ }
      if (res.ok) return data;
      const code = data.code || "";
      // After 503 Busy nothing was done; an idempotent call may also have
      // been done already (API Gateway's 504 after its timeout, say), and
      // sent again answers as it did.
      if ((res.status === 503 && code === "Busy" || idempotent && res.status >= 500) && attempt < this.attempts) {
        // Retry-After is readable on the API's own origin only.
        await sleep(backoff(attempt, res.headers.get("Retry-After")), signal);
        continue;
      }
      if (res.status === 401 && !token) {
        throw new UploadError("Sign in first: the API accepts signed-in callers only (401).", { status: 401, code });
      }
      if (code === "QuotaExceeded" && data.quota) {
        throw new UploadError(quotaMessage(data.quota), { status: res.status, code, quota: data.quota });
      }
      const why = data.message || text.trim() || res.statusText;
      throw new UploadError(`The API refused the request: ${why} (${res.status}${code ? " " + code : ""}).`,
        { status: res.status, code, transient: res.status >= 500 });
    }
  }

  /**
   * uploadUrl asks for a single PUT of file, signed with its size and, with
   * checksums, its CRC64NVME, which it returns as checksumCRC64NVME.
   * @param {Blob} file
   * @param {{fileName?: string, contentType?: string, checksums?: boolean, signal?: AbortSignal}} [options]
   * @returns {Promise<{uploadUrl: string, fileKey: string, expiresIn: number, method: string, headers: Record<string, string>, checksumCRC64NVME?: string}>}
   */
  async uploadUrl(file, { fileName = nameOf(file), contentType = typeOf(file), checksums = true, signal } = {}) {
    if (!file.size) throw new UploadError("The file is empty.", { code: "EmptyFile" });
    const input = { fileName, contentType, size: file.size };
    if (checksums) input.checksumCRC64NVME = encodeCrc64nvme(await crc64nvmeBlob(file, { signal }));
    const got = await this.request(ROUTES.uploadUrl, { input, signal });
    return { ...got, checksumCRC64NVME: input.checksumCRC64NVME };
  }

  /**
   * startMultipart starts a multipart upload of file and returns its state.
   * @param {Blob} file
   * @param {{fileName?: string, contentType?: string, checksums?: boolean, signal?: AbortSignal}} [options]
   * @returns {Promise<MultipartState>}
   */
  async startMultipart(file, { fileName = nameOf(file), contentType = typeOf(file), checksums = true, signal } = {}) {
    const input = { fileName, contentType, size: file.size };
    if (checksums) input.checksumAlgorithm = "CRC64NVME";
    const got = await this.request(ROUTES.startMultipart, { input, signal });
    return {
      uploadId: got.uploadId, fileKey: got.fileKey, uploadSecret: got.uploadSecret, size: file.size, partSize: got.partSize,
      checksums: !!checksums, partChecksums: {},
    };
  }

  /**
   * checksumParts returns the CRC64NVME of parts of file (base64, in the
   * order of numbers), reading only those state.partChecksums lacks, and
   * keeps them there.
   * @param {Blob} file
   * @param {MultipartState} state
   * @param {number[]} numbers
   * @param {AbortSignal} [signal]
   * @returns {Promise<string[]>}
   */
  async checksumParts(file, state, numbers, signal) {
    const plan = planParts(state.size, state.partSize);
    const sums = (state.partChecksums ??= {});
    for (const n of numbers) {
      if (sums[n]) continue;
      const from = (n - 1) * plan.partSize;
      sums[n] = encodeCrc64nvme(await crc64nvmeBlob(file.slice(from, from + partLength(plan, n)), { signal }));
    }
    return numbers.map((n) => sums[n]);
  }

  /**
   * signParts signs parts of an upload (at most 1,000), each with its
   * CRC64NVME when the upload has checksums.
   * @param {Blob} file
   * @param {MultipartState} state
   * @param {number[]} numbers
   * @param {AbortSignal} [signal]
   * @returns {Promise<Map<number, {partNumber: number, url: string, headers: Record<string, string>, expiresAt: number}>>}
   */
  async signParts(file, state, numbers, signal) {
    const input = { fileKey: state.fileKey, size: state.size, partNumbers: numbers };
    if (state.checksums) input.checksumsCRC64NVME = await this.checksumParts(file, state, numbers, signal);
    const asked = Date.now();
    const got = await this.request(ROUTES.signParts, { params: { uploadId: state.uploadId }, input, secret: state.uploadSecret, signal });
    return new Map(got.parts.map((p) => [p.partNumber, { ...p, expiresAt: asked + got.expiresIn * 1000 }]));
  }

  /**
   * listParts lists the parts S3 holds of an upload, keeping those of the
   * planned length only.
   * @param {MultipartState} state
   * @param {AbortSignal} [signal]
   * @returns {Promise<{partNumber: number, etag: string, size: number, checksumCRC64NVME?: string}[]>}
   */
  async listParts(state, signal) {
    const plan = planParts(state.size, state.partSize);
    const got = await this.request(ROUTES.listParts, {
      params: { uploadId: state.uploadId }, input: { fileKey: state.fileKey }, secret: state.uploadSecret, signal,
    });
    return got.parts.filter((p) => p.partNumber >= 1 && p.partNumber <= plan.partCount && p.size === partLength(plan, p.partNumber));
  }

  /**
   * sentParts lists the parts S3 holds that are file's: of the planned
   * length and, when the upload has checksums, with the checksum of that
   * part of file. A resume sends the others again.
   * @param {Blob} file
   * @param {MultipartState} state
   * @param {AbortSignal} [signal]
   * @returns {Promise<{partNumber: number, etag: string, size: number, checksumCRC64NVME?: string}[]>}
   */
  async sentParts(file, state, signal) {
    const listed = await this.listParts(state, signal);
    if (!state.checksums) return listed;
    const ours = await this.checksumParts(file, state, listed.map((p) => p.partNumber), signal);
    return listed.filter((p, i) => p.checksumCRC64NVME === ours[i]);
  }

  /**
   * completeMultipart has the API assemble the parts, after it checked
   * them against the declared size and plan. With checksums it sends the
   * whole file's CRC64NVME, combined from state.partChecksums (which
   * checksumParts fills), and S3 refuses parts that do not make up that
   * file (BadDigest: the file changed while it was uploading). A completion
   * is idempotent: after a lost connection or a 5xx it is sent again, and
   * one the API had done already answers as it did.
   * @param {MultipartState} state
   * @param {{partNumber: number, etag: string}[]} parts
   * @param {AbortSignal} [signal]
   * @returns {Promise<{fileKey: string, etag: string, size: number, checksumCRC64NVME?: string}>}
   */
  async completeMultipart(state, parts, signal) {
    const input = { fileKey: state.fileKey, parts };
    if (state.checksums) input.checksumCRC64NVME = encodeCrc64nvme(wholeChecksum(state));
    try {
      return await this.request(ROUTES.completeMultipart, { params: { uploadId: state.uploadId }, input, secret: state.uploadSecret, signal, idempotent: true });
    } catch (err) {
      if (err.code !== "BadDigest") throw err;
      throw new UploadError("The file changed while it was uploading: the parts sent do not make up the file as it is now (BadDigest). Upload it again.",
        { status: err.status, code: err.code, cause: err });
    }
  }

  /**
   * abortMultipart aborts an upload and frees its parts.
   * @param {MultipartState} state
   * @param {AbortSignal} [signal]
   * @returns {Promise<void>}
   */
  async abortMultipart(state, signal) {
    await this.request(ROUTES.abortMultipart, {
      params: { uploadId: state.uploadId }, input: { fileKey: state.fileKey }, secret: state.uploadSecret, signal,
    });
  }

  /**
   * @typedef {object} UploadStep What upload() is doing, for a status line.
   * @property {"sign" | "put" | "start" | "resume" | "parts" | "complete"} step
   *   asking for a single PUT, sending it; starting a multipart upload,
   *   resuming one, sending its parts, assembling them
   * @property {number} [partCount] with "resume" and "parts"
   * @property {number} [partsDone] parts already in S3, with "resume" and "parts"
   */

  /**
   * @typedef {object} UploadOptions
   * @property {(loaded: number, total: number) => void} [onProgress] bytes sent so far
   * @property {(step: UploadStep) => void} [onStep]
   * @property {AbortSignal} [signal] aborting cancels the upload, and a multipart one in S3 too
   * @property {ResumeStore} [resume] keeps a multipart upload's state while it runs; without
   *   one, a failed multipart upload is aborted in S3
   * @property {string} [contentType] Default: file.type, else application/octet-stream.
   * @property {boolean} [checksums] check the whole file end to end with its CRC64NVME,
   *   which S3 verifies and stores with the object. Default: true.
   */

  /**
   * upload sends one file: with a single PUT below multipartThreshold,
   * else in parallel parts.
   * @param {File} file
   * @param {UploadOptions} [options]
   * @returns {Promise<{fileKey: string, size: number, multipart: boolean, checksumCRC64NVME?: string, partsSent?: number, partsSkipped?: number}>}
   */
  async upload(file, { onProgress = () => {}, onStep = () => {}, signal, resume, contentType = typeOf(file), checksums = true } = {}) {
    if (!file.size) throw new UploadError("The file is empty.", { code: "EmptyFile" });
    const o = { onProgress, onStep, signal, resume, contentType, checksums };
    return file.size < this.multipartThreshold ? this.#single(file, o) : this.#multipart(file, o);
  }

  async #single(file, { onProgress, onStep, signal, contentType, checksums }) {
    onStep({ step: "sign" });
    const got = await this.uploadUrl(file, { contentType, checksums, signal });
    onStep({ step: "put" });
    await withRetry(() => put(got.uploadUrl, got.headers, file, (n) => onProgress(n, file.size), signal), this.attempts, signal);
    return { fileKey: got.fileKey, size: file.size, multipart: false, checksumCRC64NVME: got.checksumCRC64NVME };
  }

  async #multipart(file, { onProgress, onStep, signal, resume, contentType, checksums }) {
    let state = resume ? await resume.get(file) : null;
    // A state without a secret (from an older client) cannot go on; nor
    // can one of another size.
    if (state && (!state.uploadSecret || state.size !== file.size)) {
      await resume.delete(file);
      state = null;
    }
    // The state is kept as the parts' checksums are read (a resume reads
    // only the parts whose checksums were lost) and forgotten when nothing
    // can go on, one change after the other.
    let saving = Promise.resolve(), forgotten = false;
    const save = () => {
      if (resume && !forgotten) saving = saving.then(() => resume.set(file, state)).catch(() => {});
    };
    const forget = () => {
      forgotten = true;
      if (resume) saving = saving.then(() => resume.delete(file)).catch(() => {});
      return saving;
    };
    const done = new Map(); // part number → ETag
    if (state) {
      try {
        for (const p of await this.sentParts(file, state, signal)) done.set(p.partNumber, p.etag);
        save();
        onStep({ step: "resume", partsDone: done.size, partCount: planParts(state.size, state.partSize).partCount });
      } catch (err) {
        // Gone (completed, aborted, expired), another caller's, or not
        // this secret's: start over.
        if (signal?.aborted || !(err instanceof UploadError) || err.transient || err.status === 401) throw err;
        await resume.delete(file);
        state = null;
        done.clear();
      }
    }
    if (!state) {
      onStep({ step: "start" });
      state = await this.startMultipart(file, { contentType, checksums, signal });
      if (resume) await resume.set(file, state);
    }
    const plan = planParts(state.size, state.partSize);
    const sent = new Map(); // part number → bytes sent
    for (const n of done.keys()) sent.set(n, partLength(plan, n));
    const report = () => { let n = 0; for (const b of sent.values()) n += b; onProgress(n, file.size); };
    report();
    onStep({ step: "parts", partCount: plan.partCount, partsDone: done.size });

    // Cancelling aborts the upload in S3 instead of leaving its parts behind.
    const cancel = () => {
      forget();
      this.abortMultipart(state).catch(() => {});
    };
    signal?.addEventListener("abort", cancel, { once: true });
    // A failed part stops the others.
    const stop = new AbortController();
    const forward = () => stop.abort(aborted(signal));
    signal?.addEventListener("abort", forward, { once: true });
    if (signal?.aborted) { // before the listeners were there
      cancel();
      throw aborted(signal);
    }
    const pending = [];
    for (let n = 1; n <= plan.partCount; n++) if (!done.has(n)) pending.push(n);
    const slice = (n) => file.slice((n - 1) * plan.partSize, (n - 1) * plan.partSize + partLength(plan, n));

    // Parts are read (for their checksums) and signed a batch at a time, the
    // next batch while the last is sent. The first batch is one part per
    // sender, so that sending starts after reading only those.
    const batches = [];
    const batchOf = []; // index in pending → batch
    const full = Math.max(this.parallel, Math.min(1000, Math.floor(BATCH_BYTES / plan.partSize)));
    for (let i = 0, size = Math.min(this.parallel, 1000); i < pending.length; i += size, size = full) {
      for (let j = i; j < Math.min(i + size, pending.length); j++) batchOf.push(batches.length);
      batches.push(pending.slice(i, i + size));
    }
    const signed = new Map(); // part number → signed part
    const signing = [];
    const signBatch = (b) => (signing[b] ??= this.signParts(file, state, batches[b], stop.signal).then((got) => {
      for (const [n, part] of got) signed.set(n, part);
      save();
    }));
    // A part is signed again, once, when its URL is close to expiry, or
    // when S3 may have refused it as expired: with a 403, or, while a large
    // body is still going up, by cutting the connection (a signer's clock
    // behind S3's expires a URL early).
    const send = async (n) => {
      let part = signed.get(n);
      const resign = async () => {
        part = (await this.signParts(file, state, [n], stop.signal)).get(n);
        return true;
      };
      const fresh = part.expiresAt - Date.now() >= EXPIRY_MARGIN_MS;
      if (!fresh) await resign();
      const renew = fresh ? (err) => (expiredLinks.has(err) || err.code === "NetworkError") && resign() : undefined;
      return withRetry(() => put(part.url, part.headers, slice(n), (b) => { sent.set(n, b); report(); }, stop.signal), this.attempts, stop.signal, renew);
    };
    let next = 0;
    const worker = async () => {
      while (next < pending.length) {
        const i = next++;
        await signBatch(batchOf[i]);
        if (batchOf[i] + 1 < batches.length) signBatch(batchOf[i] + 1).catch(() => {}); // its failure shows when a sender waits for it
        done.set(pending[i], await send(pending[i]));
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.parallel, pending.length) }, worker));
    } catch (err) {
      stop.abort();
      // Nothing could resume it without a store: free its parts.
      if (!resume && !signal?.aborted) this.abortMultipart(state).catch(() => {});
      throw err;
    } finally {
      signal?.removeEventListener("abort", cancel);
      signal?.removeEventListener("abort", forward);
    }

    // Every part is in S3: from here on the upload is aborted only when
    // nothing could complete it.
    onStep({ step: "complete" });
    const parts = [...done].sort((a, b) => a[0] - b[0]).map(([partNumber, etag]) => ({ partNumber, etag }));
    let got;
    try {
      got = await this.completeMultipart(state, parts, signal);
    } catch (err) {
      if (signal?.aborted || !(err instanceof UploadError)) throw err;
      // An object has the key and preventOverwrite is on (412), or the
      // parts are not the file as it is now (BadDigest): no retry can
      // complete it, so free its parts. After a 413 or UploadAborted the API
      // has aborted it already.
      if (err.status === 412 || err.code === "BadDigest" || err.status === 413 || err.code === "UploadAborted") {
        if (err.status === 412 || err.code === "BadDigest") await this.abortMultipart(state).catch(() => {});
        await forget();
        throw err;
      }
      // A 403 from a firewall, 5xx answers every time: the same file
      // uploaded again with the same store only completes it.
      err.kept = !!resume;
      throw err;
    }
    await forget();
    return {
      fileKey: got.fileKey || state.fileKey, size: file.size, multipart: true, checksumCRC64NVME: got.checksumCRC64NVME,
      partsSent: pending.length, partsSkipped: plan.partCount - pending.length,
    };
  }

  /**
   * @typedef {object} UploadStatus
   * @property {"pending" | "verified" | "rejected"} status
   * @property {string} [reason] why it was rejected
   */

  /**
   * status returns the verifier's decision on a stored file, or null when
   * the API has no verifier.
   * @param {string} fileKey
   * @param {{signal?: AbortSignal}} [options]
   * @returns {Promise<UploadStatus | null>}
   */
  async status(fileKey, { signal } = {}) {
    try {
      return await this.request(ROUTES.uploadStatus, { input: { fileKey }, signal });
    } catch (err) {
      if (routeMissing(err)) return null;
      throw err;
    }
  }

  /**
   * waitForOutcome polls status until the verifier has decided, and
   * returns its decision; the last "pending" status once timeout passes,
   * or null when the API has no verifier.
   * @param {string} fileKey
   * @param {{signal?: AbortSignal, interval?: number, timeout?: number}} [options] milliseconds;
   *   defaults 1,000 and 120,000
   * @returns {Promise<UploadStatus | null>}
   */
  async waitForOutcome(fileKey, { signal, interval = 1000, timeout = 120_000 } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const st = await this.status(fileKey, { signal });
      if (!st || st.status !== "pending" || Date.now() + interval > deadline) return st;
      await sleep(interval, signal);
    }
  }

  /**
   * listFiles returns a page of the signed-in caller's files; pass the
   * previous page's nextToken as continuationToken for the next.
   * @param {{continuationToken?: string, maxFiles?: number, signal?: AbortSignal}} [options]
   * @returns {Promise<{files: {fileKey: string, fileName: string, size: number, lastModified: string, etag: string}[], nextToken?: string}>}
   */
  listFiles({ continuationToken, maxFiles, signal } = {}) {
    return this.request(ROUTES.listFiles, { input: { continuationToken, maxFiles }, signal });
  }

  /**
   * downloadUrl returns a short-lived pre-signed GET of one of the caller's
   * files, which a browser saves under its name.
   * @param {string} fileKey
   * @param {{signal?: AbortSignal}} [options]
   * @returns {Promise<{downloadUrl: string, fileName: string, expiresIn: number}>}
   */
  downloadUrl(fileKey, { signal } = {}) {
    return this.request(ROUTES.downloadUrl, { input: { fileKey }, signal });
  }

  /**
   * deleteFile deletes one of the caller's files: given as listFiles listed
   * it, only if it is still the object listed; a file replaced since is
   * kept and the API answers 412 (PreconditionFailed). Given as a fileKey,
   * with options.etag or without.
   * @param {string | {fileKey: string, etag?: string}} file
   * @param {{etag?: string, signal?: AbortSignal}} [options]
   * @returns {Promise<void>}
   */
  async deleteFile(file, { etag = typeof file === "string" ? undefined : file.etag, signal } = {}) {
    const fileKey = typeof file === "string" ? file : file.fileKey;
    await this.request(ROUTES.deleteFile, { input: { fileKey, etag }, signal });
  }

  /**
   * @typedef {object} QuotaResponse The caller's quota limits and usage.
   *   Without sign-in every caller of the API shares one.
   * @property {string} [tier] the caller's tier, when its token names one
   * @property {{bytes: number, bytesPerDay: number, filesPerDay: number, sessions: number}} limits
   *   0 is unlimited
   * @property {{bytes: number, storedBytes: number, reservedBytes: number, bytesToday: number, filesToday: number, sessions: number}} usage
   *   bytes (which limits.bytes bounds) is storedBytes, of verified files,
   *   plus reservedBytes, what issued URLs and multipart uploads in
   *   progress may still store; bytesToday and filesToday count the
   *   uploads begun on day; sessions the multipart uploads in progress
   * @property {string} day the UTC day (YYYY-MM-DD) the per-day usage counts
   * @property {string} resetsAt when it starts afresh (RFC 3339)
   */

  /**
   * quota returns the caller's quota limits and usage, or null when the
   * API has no quota route (no quota is set).
   * @param {{signal?: AbortSignal}} [options]
   * @returns {Promise<QuotaResponse | null>}
   */
  async quota({ signal } = {}) {
    return this.#quotaCall(ROUTES.quota, signal);
  }

  /**
   * reconcileQuota has the API recount the signed-in caller's stored bytes
   * from its files, and returns its quota as quota() does; null when the
   * API has no such route (no quota, or no sign-in).
   * @param {{signal?: AbortSignal}} [options]
   * @returns {Promise<QuotaResponse | null>}
   */
  async reconcileQuota({ signal } = {}) {
    return this.#quotaCall(ROUTES.reconcileQuota, signal);
  }

  async #quotaCall(route, signal) {
    let got;
    try {
      got = await this.request(route, { signal });
    } catch (err) {
      if (routeMissing(err)) return null;
      throw err;
    }
    // The API leaves out the unlimited ones.
    return { ...got, limits: { bytes: 0, bytesPerDay: 0, filesPerDay: 0, sessions: 0, ...got.limits } };
  }
}
