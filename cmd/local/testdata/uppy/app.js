// Test fixture: Uppy 6 with its Dashboard uploading through the API with
// the adapter, bundled by the test with esbuild. The tests drive the
// Dashboard and read what happened from window.results; the client itself
// is there too, to time it against Uppy in the same page.
import Uppy from "@uppy/core";
import Dashboard from "@uppy/dashboard";
import AwsS3 from "@uppy/aws-s3";
import { createClient } from "@presigned-upload/client";
import { awsS3Options } from "@presigned-upload/client/uppy";
import "@uppy/core/css/style.min.css";
import "@uppy/dashboard/css/style.min.css";

const config = await (await fetch("config.json", { cache: "no-store" })).json();
const client = createClient({ apiUrl: config.apiUrl, apiKey: config.apiKey, multipartThreshold: config.multipartThreshold });
const uppy = new Uppy()
  .use(Dashboard, { inline: true, target: "#uppy", height: 400 })
  .use(AwsS3, awsS3Options(client, { partSize: config.partSize }));

// File name → {key, outcome, reason} or {error, status, code}.
const results = {};
uppy.on("upload-success", async (file, response) => {
  results[file.name] = { key: response.body.key };
  const outcome = await client.waitForOutcome(response.body.key, { interval: 200 });
  Object.assign(results[file.name], { outcome: outcome?.status || "", reason: outcome?.reason || "" });
});
uppy.on("upload-error", (file, err) => {
  results[file.name] = { error: err.message, status: err.status || 0, code: err.code || "" };
});

Object.assign(window, { uppy, client, results, awsS3Options });
document.body.dataset.ready = "true";
