// {{name}}: a Morphir extension, a counter in The Elm Architecture. The model is {"count": N};
// messages are "Increment", "Decrement" and "Reset" (or {"type": "Increment"}). The env var
// `step` (any integer type) sets how much one Increment adds; the last message is kept in the
// env var `last-message`. `morph build`, then `morph ext run --msg '"Increment"'`.

import { getEnvVar, log, setEnvVar } from "morphir:ext/runtime@0.1.0";

const JSON_TYPE = "application/json";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The envelope's content as JSON (null when it is empty or not JSON). */
function content(envelope) {
  try {
    return JSON.parse(decoder.decode(envelope.content));
  } catch {
    return null;
  }
}

/** A JSON envelope answering one with `header`: same seqnum and session, its own kind. */
function reply(header, kind, value) {
  return {
    header: { seqnum: header.seqnum, sessionId: header.sessionId, kind },
    contentType: JSON_TYPE,
    content: encoder.encode(JSON.stringify(value)),
  };
}

function count(model) {
  return Number.isInteger(model?.count) ? model.count : 0;
}

/** How much one Increment adds: the env var `step`, of any integer type (default 1). */
function step() {
  const v = getEnvVar("step");
  if (v === undefined) return 1;
  if (v.tag === "text") return Number.parseInt(v.val, 10) || 1;
  if (v.tag.startsWith("v-u") || v.tag.startsWith("v-s")) return Number(v.val);
  return 1;
}

export const program = {
  init(flags) {
    const start = count(content(flags));
    log("info", `counter starts at ${start}, step ${step()}`);
    return [reply(flags.header, "model", { count: start }), reply(flags.header, "cmd", [])];
  },

  update(msg, model) {
    const now = count(content(model));
    const message = content(msg);
    const tag = typeof message === "string" ? message : (message?.type ?? "");
    let next = now;
    if (tag === "Increment") next = now + step();
    else if (tag === "Decrement") next = now - step();
    else if (tag === "Reset") next = 0;
    else log("warn", `unknown message ${JSON.stringify(tag)}; the count stays ${now}`);
    const previous = getEnvVar("last-message");
    setEnvVar("last-message", { tag: "text", val: tag });
    const before = previous?.tag === "text" ? previous.val : "none";
    log("debug", `${tag}: ${now} -> ${next} (previous message: ${before})`);
    return [reply(msg.header, "model", { count: next }), reply(msg.header, "cmd", [])];
  },

  subscriptions(model) {
    return reply(model.header, "subscriptions", []);
  },

  getCapabilities() {
    const header = { seqnum: 0n, sessionId: "", kind: "capabilities" };
    return reply(header, "capabilities", {
      name: "{{name}}",
      model: { count: "integer" },
      messages: ["Increment", "Decrement", "Reset"],
    });
  },
};
