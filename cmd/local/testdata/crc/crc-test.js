// Test fixture: puts the client module within reach of the checksum tests,
// which drive it with Runtime.evaluate; no API needed.
import * as presigned from "./client/index.js";

window.presigned = presigned;
// bytesOf decodes base64, as the tests pass Go's buffers.
window.bytesOf = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
// hex spells a checksum as the tests compare them.
window.hex = (crc) => crc.toString(16).padStart(16, "0");
document.body.dataset.ready = "true";
