// Test fixture, served next to the upload page: puts the client module and
// local mode's settings within reach of the browser tests, which drive it
// with Runtime.evaluate.
import * as presigned from "./client/index.js";

window.presigned = presigned;
window.config = await (await fetch("config.json", { cache: "no-store" })).json();
document.body.dataset.ready = "true";
