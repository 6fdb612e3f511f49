// Types of index.js. A test checks that both name the same exports.

/** A route as the API declares it. */
export interface Route {
  method: string;
  resource: string;
}

/** The routes this client calls, as the API declares them. */
export declare const ROUTES: {
  uploadUrl: Route;
  startMultipart: Route;
  signParts: Route;
  listParts: Route;
  completeMultipart: Route;
  abortMultipart: Route;
  listFiles: Route;
  downloadUrl: Route;
  deleteFile: Route;
  uploadStatus: Route;
  quota: Route;
  reconcileQuota: Route;
};

/** How a multipart upload is cut: partCount parts of partSize bytes, the last one shorter. */
export interface Plan {
  size: number;
  partSize: number;
  partCount: number;
}

/** The API's plan for size bytes with parts of preferred bytes (its partSize setting). */
export declare function planParts(size: number, preferred: number): Plan;

/** The byte count of part n (1-based) of a plan. */
export declare function partLength(plan: Plan, n: number): number;

/**
 * S3's CRC64NVME checksum of bytes; given crc, the checksum of what crc
 * covered followed by bytes (feed a file to it a chunk at a time).
 */
export declare function crc64nvme(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, crc?: bigint): bigint;

/** The CRC64NVME checksum of a Blob, read a few MiB at a time. */
export declare function crc64nvmeBlob(blob: Blob, options?: { signal?: AbortSignal }): Promise<bigint>;

/** The checksum of A followed by B, from A's checksum, B's checksum and B's length in bytes. */
export declare function combineCrc64nvme(a: bigint, b: bigint, lengthB: number): bigint;

/** A checksum as S3 and the API spell it: the base64 of its 8 bytes, big-endian. */
export declare function encodeCrc64nvme(crc: bigint): string;

/** Reads a checksum encodeCrc64nvme spelled; null for anything else. */
export declare function decodeCrc64nvme(s: string): bigint | null;

/** A number of bytes in binary units, as the client's messages spell it: "512 B", "1.5 KiB", "3.0 MiB". */
export declare function formatBytes(n: number): string;

/** A quota dimension, as refusals and GET /quota name it. */
export type QuotaDimension = "bytes" | "bytesPerDay" | "filesPerDay" | "sessions";

/** Which of the caller's quota limits an upload would pass: the API's QuotaExceeded refusal. */
export interface QuotaRefusal {
  dimension: QuotaDimension;
  limit: number;
  used: number;
  /** What is left of the limit. */
  remaining: number;
  /** What the upload asked for. */
  needed: number;
  /** For a per-day limit, seconds until the UTC day starts afresh. */
  retryAfter?: number;
}

/** A caller's quota limits; 0 is unlimited. */
export interface QuotaLimits {
  /** The bytes a caller keeps stored, with what its issued URLs may still store. */
  bytes: number;
  /** The bytes a caller's URLs may upload in a UTC day. */
  bytesPerDay: number;
  /** The uploads (URLs, multipart starts) a caller may begin in a UTC day. */
  filesPerDay: number;
  /** A caller's multipart uploads in progress. */
  sessions: number;
}

/** What a caller's quota ledger counts. */
export interface QuotaUsage {
  /** storedBytes plus reservedBytes: what limits.bytes bounds. */
  bytes: number;
  /** The bytes of the caller's stored, verified files. */
  storedBytes: number;
  /** What its issued URLs and multipart uploads in progress may still store. */
  reservedBytes: number;
  /** Bytes of the uploads begun on day. */
  bytesToday: number;
  /** Uploads begun on day. */
  filesToday: number;
  /** Multipart uploads in progress. */
  sessions: number;
}

/** GET /quota: the caller's limits and usage. Without sign-in every caller of the API shares one. */
export interface QuotaResponse {
  /** The caller's tier, when its token names one. */
  tier?: string;
  limits: QuotaLimits;
  usage: QuotaUsage;
  /** The UTC day (YYYY-MM-DD) the per-day usage counts. */
  day: string;
  /** When the per-day usage starts afresh (RFC 3339). */
  resetsAt: string;
}

/** Every failure the client reports, but a cancellation (an AbortError DOMException). */
export declare class UploadError extends Error {
  constructor(message: string, details?: { status?: number; code?: string; transient?: boolean; kept?: boolean; quota?: QuotaRefusal | null; cause?: unknown });
  name: "UploadError";
  /** The HTTP status of the refusal; 0 when no answer came. */
  status: number;
  /** The API's error code, S3's `<Code>`, or the client's own ("NetworkError", "EmptyFile", …). */
  code: string;
  /** Whether trying again may help: a failed connection, a 5xx. */
  transient: boolean;
  /** Every part is in S3 and the upload is kept: the same file with the same resume store only completes it. */
  kept: boolean;
  /** With code "QuotaExceeded" (status 403, or 429 for a per-day limit), the limit the upload would pass and what is left of it; else null. */
  quota: QuotaRefusal | null;
}

/** What resumes a multipart upload; keep it as JSON to finish the upload later. */
export interface MultipartState {
  uploadId: string;
  fileKey: string;
  /** Sent with every later call about the upload (X-Upload-Secret): without it the API refuses them. */
  uploadSecret: string;
  /** The declared size, which binds the upload. */
  size: number;
  /** The API's plan. */
  partSize: number;
  /** Whether the upload checks the whole file with CRC64NVME: each part's checksum signed, the whole file's sent at completion. */
  checksums: boolean;
  /** Each part's CRC64NVME (base64) by part number, as read from the file: a resume and the completion use them without reading the file again. */
  partChecksums?: Record<string, string>;
}

/** Where upload() keeps a multipart upload's state while it runs. */
export interface ResumeStore {
  get(file: File): MultipartState | null | Promise<MultipartState | null>;
  set(file: File, state: MultipartState): void | Promise<void>;
  delete(file: File): void | Promise<void>;
}

/** Resume state in Web Storage (localStorage by default), keyed by file name, size and modification time. */
export declare function localStore(storage?: Storage, prefix?: string): ResumeStore;

export interface ClientOptions {
  /** The stage URL, e.g. https://ID.execute-api.REGION.amazonaws.com/prod. */
  apiUrl: string;
  /** Sent as X-Api-Key when the API requires a key. */
  apiKey?: string;
  /** The access token to send as a bearer token, "" when signed out; called before every API call, and with refresh true once after a 401. */
  getToken?: (options: { refresh: boolean }) => string | Promise<string>;
  /** Files this large or larger go up in parts. Default: 64 MiB. */
  multipartThreshold?: number;
  /** Parts in flight. Default: 4. */
  parallel?: number;
  /** Tries per S3 request on a failed connection or a 5xx, and per API call answered 503 Busy (a write the API needed met another under way, nothing was done). Default: 4. */
  attempts?: number;
}

/** What upload() is doing, for a status line. */
export interface UploadStep {
  step: "sign" | "put" | "start" | "resume" | "parts" | "complete";
  partCount?: number;
  partsDone?: number;
}

export interface UploadOptions {
  onProgress?: (loaded: number, total: number) => void;
  onStep?: (step: UploadStep) => void;
  /** Aborting cancels the upload, and a multipart one in S3 too. */
  signal?: AbortSignal;
  /** Keeps a multipart upload's state while it runs; without one, a failed multipart upload is aborted in S3. */
  resume?: ResumeStore;
  /** Default: file.type, else application/octet-stream. */
  contentType?: string;
  /** Check the whole file end to end with its CRC64NVME, which S3 verifies and stores with the object. Default: true. */
  checksums?: boolean;
}

export interface UploadResult {
  fileKey: string;
  size: number;
  multipart: boolean;
  /** The object's CRC64NVME (base64) as S3 holds it, having checked it against the file's as read; without checksums, S3's own, if it says. */
  checksumCRC64NVME?: string;
  partsSent?: number;
  partsSkipped?: number;
}

export interface UploadStatus {
  status: "pending" | "verified" | "rejected";
  reason?: string;
}

export interface FileInfo {
  fileKey: string;
  fileName: string;
  size: number;
  /** RFC 3339. */
  lastModified: string;
  /** The stored object's ETag: deleteFile deletes only this object. */
  etag: string;
}

export interface SignedPart {
  partNumber: number;
  url: string;
  headers: Record<string, string>;
  /** When the URL expires, in milliseconds since the epoch. */
  expiresAt: number;
}

/** A part S3 holds, with the checksum it was sent with. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
  checksumCRC64NVME?: string;
}

interface FileOptions {
  fileName?: string;
  contentType?: string;
  checksums?: boolean;
  signal?: AbortSignal;
}

/** A client of the API at options.apiUrl. */
export declare function createClient(options: ClientOptions): Client;

/** Calls the upload API and sends files to S3. */
export declare class Client {
  constructor(options: ClientOptions);
  readonly apiUrl: string;
  apiKey: string;
  getToken?: ClientOptions["getToken"];
  multipartThreshold: number;
  parallel: number;
  attempts: number;

  /** Calls one route; resolves with the answer's JSON. Tries again after 503 Busy (an idempotent call after any 5xx or lost connection), never after QuotaExceeded. */
  request(route: Route, options?: { params?: Record<string, string>; input?: object; secret?: string; signal?: AbortSignal; idempotent?: boolean }): Promise<any>;
  /** Sends one file: a single PUT below multipartThreshold, else parallel parts. */
  upload(file: File, options?: UploadOptions): Promise<UploadResult>;
  /** The verifier's decision on a stored file, or null when the API has no verifier. */
  status(fileKey: string, options?: { signal?: AbortSignal }): Promise<UploadStatus | null>;
  /** Polls status until the verifier has decided; the last "pending" status after timeout; null without a verifier. */
  waitForOutcome(fileKey: string, options?: { signal?: AbortSignal; interval?: number; timeout?: number }): Promise<UploadStatus | null>;
  /** A page of the signed-in caller's files. */
  listFiles(options?: { continuationToken?: string; maxFiles?: number; signal?: AbortSignal }): Promise<{ files: FileInfo[]; nextToken?: string }>;
  /** A short-lived pre-signed GET of one of the caller's files, saved under its name. */
  downloadUrl(fileKey: string, options?: { signal?: AbortSignal }): Promise<{ downloadUrl: string; fileName: string; expiresIn: number }>;
  /**
   * Deletes one of the caller's files: given as listFiles listed it, only if it is still that object (else the API
   * answers 412 PreconditionFailed and keeps it); given as a fileKey, with options.etag or unconditionally.
   */
  deleteFile(file: string | { fileKey: string; etag?: string }, options?: { etag?: string; signal?: AbortSignal }): Promise<void>;
  /** The caller's quota limits and usage, or null when the API has no quota route (no quota is set). */
  quota(options?: { signal?: AbortSignal }): Promise<QuotaResponse | null>;
  /** Recounts the signed-in caller's stored bytes from its files and returns its quota; null without the route (no quota, or no sign-in). */
  reconcileQuota(options?: { signal?: AbortSignal }): Promise<QuotaResponse | null>;

  // The steps of an upload, for adapters such as ./uppy.js.
  uploadUrl(file: Blob, options?: FileOptions): Promise<{ uploadUrl: string; fileKey: string; expiresIn: number; method: string; headers: Record<string, string>; checksumCRC64NVME?: string }>;
  startMultipart(file: Blob, options?: FileOptions): Promise<MultipartState>;
  /** The parts' CRC64NVME (base64, in the order of numbers), reading only those state.partChecksums lacks; kept there. */
  checksumParts(file: Blob, state: MultipartState, numbers: number[], signal?: AbortSignal): Promise<string[]>;
  signParts(file: Blob, state: MultipartState, numbers: number[], signal?: AbortSignal): Promise<Map<number, SignedPart>>;
  /** The parts S3 holds of the planned length. */
  listParts(state: MultipartState, signal?: AbortSignal): Promise<UploadedPart[]>;
  /** The parts S3 holds that are file's: of the planned length and, with checksums, that part's checksum. */
  sentParts(file: Blob, state: MultipartState, signal?: AbortSignal): Promise<UploadedPart[]>;
  /** Assembles the parts; with checksums, sends the whole file's CRC64NVME combined from state.partChecksums (BadDigest: the file changed). Sent again after a 5xx or lost connection: a completion done already answers as it did. */
  completeMultipart(state: MultipartState, parts: { partNumber: number; etag: string }[], signal?: AbortSignal): Promise<{ fileKey: string; etag: string; size: number; checksumCRC64NVME?: string }>;
  abortMultipart(state: MultipartState, signal?: AbortSignal): Promise<void>;
}
