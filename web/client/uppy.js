// Options for Uppy 6's @uppy/aws-s3 that upload through the API, so that
// every check stays on the server.
//
// @uppy/aws-s3 6 has one hook for a custom backend, signRequest, which it
// calls for each S3 request it is about to send: a PUT of a small file, and
// for a multipart upload its create, part PUTs, list, complete and abort.
// Used directly it would have the browser create and complete uploads in S3
// itself, past the API's checks. Here only the PUTs go to S3, to URLs the
// API signed (with the size, the CRC64NVME and If-None-Match the API
// decides); create, list, complete and abort run through the API's routes,
// with the upload's secret, and Uppy gets S3's XML answer as a data: URL.
// The page's Content-Security-Policy must therefore allow connect-src data:
// (fetching one sends nothing anywhere).
//
// Uppy hands over only URLs, so each part's checksum is signed into its
// URL: the adapter reads a part before signing it, and the parts after it
// while it goes up. Completion sends the whole file's checksum, combined
// from the parts'.

import { UploadError, planParts } from "./index.js";

// Parts signed ahead, in bytes: Uppy sends a file's parts one at a time.
// The first is signed alone, so that it goes up after reading only it; the
// next ones while it does.
const SIGN_AHEAD_BYTES = 64 * 1024 * 1024;
// A signed part URL this close to expiry is signed again.
const EXPIRY_MARGIN_MS = 30 * 1000;

// The entities Uppy's XML reader decodes.
const entities = { "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" };
const escapeXml = (s) => String(s).replace(/[<>&"']/g, (c) => entities[c]);
const xmlAnswer = (xml) => "data:application/xml," + encodeURIComponent('<?xml version="1.0" encoding="UTF-8"?>' + xml);

// The browser sets Content-Length from the body; JavaScript may not.
const sendable = (headers) => Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== "content-length"));

const nameOf = (file) => file.meta?.name || file.name || "file";

/**
 * @typedef {object} AwsS3AdapterOptions
 * @property {number} partSize the API's partSize setting (local mode's
 *   config.json has it; deployed, the environment's partSize, default 16 MiB):
 *   Uppy cuts the parts before the upload starts and must cut them as the API
 *   plans them
 * @property {number} [multipartThreshold] files this large or larger go up in
 *   parts. Default: the client's.
 * @property {boolean} [checksums] check each file end to end with its
 *   CRC64NVME, which S3 verifies and stores with the object. Default: true.
 */

/**
 * awsS3Options returns the options to pass to @uppy/aws-s3 (as they are, or
 * spread with Uppy's own, such as limit) so that it uploads through client.
 * @param {import("./index.js").Client} client
 * @param {AwsS3AdapterOptions} options
 */
export function awsS3Options(client, { partSize, multipartThreshold = client.multipartThreshold, checksums = true }) {
  if (!(partSize > 0)) throw new TypeError("awsS3Options: partSize is required: the API's partSize setting");
  // Uppy names each upload by the key generateObjectKey returns (the file's
  // ID); signRequest finds the file by it when the upload starts, and again
  // when it starts over after a pause. A weak reference: a file removed
  // from Uppy is not kept.
  const starting = new Map(); // Uppy file ID → {data: WeakRef<Blob>, name, type}
  const uploads = new Map(); // fileKey → {file, state, signed, signing, objectUrl}

  const track = (file, state) => {
    // signed: part number → signed part; signing: part number → the
    // signing call under way that covers it.
    const upload = { file, state, signed: new Map(), signing: new Map(), objectUrl: "" };
    uploads.set(state.fileKey, upload);
    return upload;
  };

  const find = (key) => {
    const file = starting.get(key);
    const data = file?.data.deref();
    if (!data) throw new UploadError(`No file ${key} is waiting to upload.`, { code: "UnknownFile" });
    return { ...file, data };
  };

  async function putObject(file, contentType) {
    const got = await client.uploadUrl(file.data, { fileName: file.name, contentType, checksums });
    return { url: got.uploadUrl, key: got.fileKey, headers: sendable(got.headers) };
  }

  async function createMultipartUpload(file) {
    const state = await client.startMultipart(file.data, { fileName: file.name, contentType: file.type, checksums });
    const cut = planParts(file.data.size, partSize).partSize;
    if (state.partSize !== cut) {
      client.abortMultipart(state).catch(() => {});
      throw new UploadError(`The API plans parts of ${state.partSize} bytes where Uppy cuts ${cut}: pass the API's partSize setting to awsS3Options.`, { code: "PartSizeMismatch" });
    }
    track(file.data, state);
    return {
      url: xmlAnswer(`<InitiateMultipartUploadResult><Key>${escapeXml(state.fileKey)}</Key><UploadId>${escapeXml(state.uploadId)}</UploadId></InitiateMultipartUploadResult>`),
      key: state.fileKey,
    };
  }

  const fresh = (part) => !!part && part.expiresAt - Date.now() >= EXPIRY_MARGIN_MS;

  // sign reads and signs parts, once for all who ask for them.
  function sign(upload, numbers) {
    const call = client.signParts(upload.file, upload.state, numbers).then((signed) => {
      for (const [m, p] of signed) upload.signed.set(m, p);
    });
    const settle = () => { for (const m of numbers) if (upload.signing.get(m) === call) upload.signing.delete(m); };
    call.then(settle, settle);
    for (const m of numbers) upload.signing.set(m, call);
    return call;
  }

  async function uploadPart(upload, n) {
    if (!fresh(upload.signed.get(n))) await (upload.signing.get(n) ?? sign(upload, [n]));
    if (!fresh(upload.signed.get(n))) await sign(upload, [n]); // signed by a call that started long ago
    const part = upload.signed.get(n);
    // Sign the next parts while this one goes up, once fewer than half of
    // those ahead are.
    const { partCount } = planParts(upload.state.size, upload.state.partSize);
    const ahead = Math.max(1, Math.min(1000, Math.floor(SIGN_AHEAD_BYTES / upload.state.partSize)));
    const last = Math.min(partCount, n + ahead);
    const unsigned = [];
    for (let m = n + 1; m <= last; m++) if (!fresh(upload.signed.get(m)) && !upload.signing.has(m)) unsigned.push(m);
    if (unsigned.length * 2 > last - n) sign(upload, unsigned).catch(() => {}); // on failure, each is signed when it is sent
    upload.objectUrl = part.url.split("?")[0];
    return { url: part.url, headers: sendable(part.headers) };
  }

  // listParts answers Uppy's resume with the parts S3 holds that are this
  // file's (their checksums match): Uppy sends the others.
  async function listParts(upload) {
    // Uppy lists the parts when it resumes or retries, and a URL refused as
    // expired (the signer's clock behind S3's) may be what failed: what it
    // sends now is signed afresh.
    upload.signed.clear();
    const parts = await client.sentParts(upload.file, upload.state);
    return {
      url: xmlAnswer(`<ListPartsResult>${parts.map((p) =>
        `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${escapeXml(p.etag)}</ETag><Size>${p.size}</Size></Part>`).join("")}</ListPartsResult>`),
    };
  }

  // completeMultipartUpload completes with the parts S3 holds (Uppy's own
  // list is in the request body, which signRequest never sees) and the
  // whole file's checksum, combined from the parts': the API checks them
  // against the declared size and plan, the caller, and preventOverwrite;
  // S3 checks the parts make up the file.
  async function completeMultipartUpload(upload) {
    const { file, state } = upload;
    const parts = (await client.listParts(state)).map(({ partNumber, etag }) => ({ partNumber, etag }));
    const { partCount } = planParts(state.size, state.partSize);
    if (state.checksums) await client.checksumParts(file, state, Array.from({ length: partCount }, (_, i) => i + 1)); // reads only parts never read
    let done;
    try {
      done = await client.completeMultipart(state, parts);
    } catch (err) {
      // An object has the key (412), or the parts are not the file as it is
      // now (BadDigest): the API keeps the upload, which no retry can
      // complete, and Uppy would not abort it when the failed file is
      // removed; so abort it now. After a 413 or UploadAborted the API has
      // aborted it already. Anything else keeps it for a retry.
      if (err.status === 412 || err.code === "BadDigest" || err.status === 413 || err.code === "UploadAborted") {
        uploads.delete(state.fileKey);
        if (err.status === 412 || err.code === "BadDigest") await client.abortMultipart(state).catch(() => {});
      }
      throw err;
    }
    uploads.delete(state.fileKey);
    return {
      url: xmlAnswer(`<CompleteMultipartUploadResult><Location>${escapeXml(upload.objectUrl || done.fileKey)}</Location>` +
        `<Key>${escapeXml(done.fileKey)}</Key><ETag>${escapeXml(done.etag)}</ETag></CompleteMultipartUploadResult>`),
    };
  }

  async function abortMultipartUpload(upload) {
    uploads.delete(upload.state.fileKey);
    await client.abortMultipart(upload.state);
    return { url: xmlAnswer("") };
  }

  return {
    /** @param {{size: number | null}} file */
    shouldUseMultipart: (file) => (file.size ?? 0) >= multipartThreshold,

    /** @param {{size: number}} file */
    getChunkSize: (file) => planParts(file.size, partSize).partSize,

    // Uppy's key is only a name for the upload until it starts: the API
    // makes the real one, which signRequest hands back to Uppy. A paused or
    // failed multipart upload (file.s3Multipart) carries on with the state
    // this page holds, its secret with it.
    generateObjectKey(file) {
      if (!file.s3Multipart) {
        for (const [id, f] of starting) if (!f.data.deref()) starting.delete(id);
        // The type Uppy sends as the PUT's Content-Type.
        starting.set(file.id, { data: new WeakRef(file.data), name: nameOf(file), type: file.type || "application/octet-stream" });
      }
      return file.id;
    },

    /** @param {{method: string, key: string, uploadId?: string, partNumber?: number, contentType?: string}} request */
    async signRequest(request) {
      const { method, key, uploadId } = request;
      if (!uploadId) {
        if (method === "PUT") return putObject(find(key), request.contentType || "application/octet-stream");
        if (method === "POST") return createMultipartUpload(find(key));
        throw new UploadError("Files are deleted with the client's deleteFile, not through Uppy.", { code: "Unsupported" });
      }
      const upload = uploads.get(key);
      if (!upload || upload.state.uploadId !== uploadId) {
        // Such as one Uppy restored after a reload: its secret stayed with
        // the page that started it.
        throw new UploadError(`No multipart upload of ${key} is in progress on this page: remove the file and add it again.`, { code: "NoSuchUpload" });
      }
      if (method === "PUT") return uploadPart(upload, request.partNumber);
      if (method === "GET") return listParts(upload);
      if (method === "POST") return completeMultipartUpload(upload);
      if (method === "DELETE") return abortMultipartUpload(upload);
      throw new UploadError(`Uppy asked to sign a ${method} of an upload.`, { code: "Unsupported" });
    },
  };
}
