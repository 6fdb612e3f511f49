// A minimal Lambda runtime loop, as the Node.js managed runtime runs a
// handler: fetch the next event from the Runtime API, answer it.
import { handler } from "./handler.mjs";

const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation`;
for (;;) {
  const next = await fetch(`${api}/next`);
  const id = next.headers.get("lambda-runtime-aws-request-id");
  const event = await next.json();
  const result = await handler(event);
  await fetch(`${api}/${id}/response`, { method: "POST", body: JSON.stringify(result) });
}
