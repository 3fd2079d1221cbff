// Starts fauxqs (SQS + S3 on one port) bound to 127.0.0.1 only.
//
// Usage: node fauxqs.mjs PORT   (PORT 0 picks a free port)
//
// Prints exactly one line, "fauxqs listening on 127.0.0.1:PORT", once the server accepts
// requests, and exits cleanly on SIGTERM or SIGINT. cmd/local/emulator starts this script.
//
// Why buildApp and not startFauxqs: fauxqs 1.9.2's startFauxqs always listens on 0.0.0.0, and
// its `host` option is not a bind address but the host used to build queue URLs
// ("sqs.<region>.<host>:<port>"), so host "127.0.0.1" would yield unusable URLs. buildApp gives
// us the same server and lets us choose the bind address. Queue URLs keep fauxqs's default form,
// http://sqs.us-east-1.localhost:PORT/000000000000/<name>: the SDK sends every call to its
// configured endpoint and fauxqs uses the URL only as the queue's key, so they are opaque ids.
import { buildApp } from "fauxqs";

const arg = process.argv[2] ?? "0";
const port = Number.parseInt(arg, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`fauxqs.mjs: invalid port ${JSON.stringify(arg)}`);
  process.exit(2);
}

const app = buildApp({ logger: false, defaultRegion: "us-east-1" });

// CORS as template.yaml's VoiceBucket declares it (PUT and GET, header content-type), for pages
// served on loopback: fauxqs answers no preflight of its own, so without this a browser on
// `make dev` could not upload a recorded clip with its presigned PUT, as it can in AWS.
const loopback = /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/;
app.addHook("onRequest", async (req, reply) => {
  const origin = req.headers.origin;
  if (!origin || !loopback.test(origin)) return;
  reply.header("access-control-allow-origin", origin);
  reply.header("vary", "origin");
  if (req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
    reply.header("access-control-allow-methods", "PUT, GET");
    reply.header("access-control-allow-headers", "content-type");
    reply.header("access-control-max-age", "3600");
    return reply.code(204).send();
  }
});

await app.listen({ port, host: "127.0.0.1" });
const { port: actual } = app.server.address();
console.log(`fauxqs listening on 127.0.0.1:${actual}`);

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  try {
    await app.close();
  } finally {
    process.exit(signal === "SIGINT" ? 130 : 0);
  }
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
