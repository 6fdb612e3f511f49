// Warm throughput of the handler: invocations per second after warm-up.
import { handler } from "./handler.mjs";

const event = { body: JSON.stringify({ fileName: "report.pdf", contentType: "application/pdf" }) };
const n = Number(process.argv[2] || 20000);
for (let i = 0; i < 2000; i++) await handler(event);
const start = process.hrtime.bigint();
for (let i = 0; i < n; i++) await handler(event);
const ns = Number(process.hrtime.bigint() - start);
console.log(JSON.stringify({ nsPerOp: ns / n, opsPerSec: n / (ns / 1e9) }));
