// Types of uppy.js. A test checks that both name the same exports. They
// describe what @uppy/aws-s3 6 calls without importing Uppy's types, so
// the client has no dependency on Uppy.

import type { Client } from "./index.js";

export interface AwsS3AdapterOptions {
  /** The API's partSize setting: Uppy cuts the parts before an upload starts and must cut them as the API plans them. */
  partSize: number;
  /** Files this large or larger go up in parts. Default: the client's multipartThreshold. */
  multipartThreshold?: number;
  /** Check each file end to end with its CRC64NVME, which S3 verifies and stores with the object. Default: true. */
  checksums?: boolean;
}

/** The request @uppy/aws-s3 asks to have signed. */
export interface S3Request {
  method: "PUT" | "POST" | "GET" | "DELETE";
  key: string;
  uploadId?: string;
  partNumber?: number;
  contentType?: string;
}

/** What signRequest answers: a URL to send the request to, and the headers it was signed with. */
export interface S3Signed {
  url: string;
  key?: string;
  headers?: Record<string, string>;
}

/** Options for @uppy/aws-s3: pass them to uppy.use(AwsS3, …), alone or spread with Uppy's own. */
export interface AwsS3Options {
  shouldUseMultipart(file: { size: number | null }): boolean;
  getChunkSize(file: { size: number }): number;
  generateObjectKey(file: { id: string; name?: string; type?: string; data: Blob; meta?: { name?: string }; s3Multipart?: { uploadId: string; key: string } }): string;
  signRequest(request: S3Request): Promise<S3Signed>;
}

/** Options that make @uppy/aws-s3 upload through client, with every check on the server. */
export declare function awsS3Options(client: Client, options: AwsS3AdapterOptions): AwsS3Options;
