"""{{name}}: a Morphir extension, a counter in The Elm Architecture. The model is
{"count": N}; messages are "Increment", "Decrement" and "Reset" (or {"type": "Increment"}).
The env var `step` (any integer type) sets how much one Increment adds; the last message is
kept in the env var `last-message`. `morph build`, then `morph ext run --msg '"Increment"'`."""

import json
from typing import Any, Tuple

from wit_world import exports
from wit_world.imports import runtime
from wit_world.imports.envelope import Envelope, Header

JSON = "application/json"


def content(envelope: Envelope) -> Any:
    """The envelope's content as JSON (None when it is empty or not JSON)."""
    try:
        return json.loads(bytes(envelope.content))
    except ValueError:
        return None


def reply(header: Header, kind: str, value: Any) -> Envelope:
    """A JSON envelope answering one with `header`: same seqnum and session, its own kind."""
    return Envelope(
        header=Header(seqnum=header.seqnum, session_id=header.session_id, kind=kind),
        content_type=JSON,
        content=json.dumps(value, separators=(",", ":")).encode(),
    )


def count(model: Any) -> int:
    return model.get("count", 0) if isinstance(model, dict) else 0


def step() -> int:
    """How much one Increment adds: the env var `step`, of any integer type (default 1)."""
    value = runtime.get_env_var("step")
    if isinstance(value, runtime.EnvValue_Text):
        return int(value.value) if value.value.lstrip("-").isdigit() else 1
    if value is not None and isinstance(value.value, int) and not isinstance(value.value, bool):
        return value.value
    return 1


class Program(exports.Program):
    def init(self, flags: Envelope) -> Tuple[Envelope, Envelope]:
        start = count(content(flags))
        runtime.log(runtime.LogLevel.INFO, f"counter starts at {start}, step {step()}")
        return reply(flags.header, "model", {"count": start}), reply(flags.header, "cmd", [])

    def update(self, msg: Envelope, model: Envelope) -> Tuple[Envelope, Envelope]:
        now = count(content(model))
        message = content(msg)
        tag = message if isinstance(message, str) else (message or {}).get("type", "")
        if tag == "Increment":
            nxt = now + step()
        elif tag == "Decrement":
            nxt = now - step()
        elif tag == "Reset":
            nxt = 0
        else:
            runtime.log(runtime.LogLevel.WARN, f"unknown message {json.dumps(tag)}; the count stays {now}")
            nxt = now
        previous = runtime.get_env_var("last-message")
        runtime.set_env_var("last-message", runtime.EnvValue_Text(tag))
        before = previous.value if isinstance(previous, runtime.EnvValue_Text) else "none"
        runtime.log(runtime.LogLevel.DEBUG, f"{tag}: {now} -> {nxt} (previous message: {before})")
        return reply(msg.header, "model", {"count": nxt}), reply(msg.header, "cmd", [])

    def subscriptions(self, model: Envelope) -> Envelope:
        return reply(model.header, "subscriptions", [])

    def get_capabilities(self) -> Envelope:
        header = Header(seqnum=0, session_id="", kind="capabilities")
        return reply(
            header,
            "capabilities",
            {"name": "{{name}}", "model": {"count": "integer"}, "messages": ["Increment", "Decrement", "Reset"]},
        )
