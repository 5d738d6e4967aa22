// Package export_morphir_ext_program is {{name}}: a Morphir extension, a counter in The Elm
// Architecture. The model is {"count": N}; messages are "Increment", "Decrement" and "Reset"
// (or {"type": "Increment"}). The env var `step` (any integer type) sets how much one Increment
// adds; the last message is kept in the env var `last-message`.
// `morph build` (which writes the Go bindings from wit/), then
// `morph ext run --msg '"Increment"' --env-var step=u8:2`.
package export_morphir_ext_program

import (
	"encoding/json"
	"fmt"
	"strconv"

	witTypes "{{name}}/internal/wit/types"
	"{{name}}/internal/wit/morphir_ext_envelope"
	rt "{{name}}/internal/wit/morphir_ext_runtime"
)

type Envelope = morphir_ext_envelope.Envelope

const contentType = "application/json"

func Init(flags Envelope) (Envelope, Envelope) {
	start := count(flags)
	rt.Log(rt.LogLevelInfo, fmt.Sprintf("counter starts at %d, step %d", start, step()))
	return reply(flags.Header, "model", map[string]int64{"count": start}), reply(flags.Header, "cmd", []any{})
}

func Update(msg Envelope, model Envelope) (Envelope, Envelope) {
	now := count(model)
	tag := messageTag(msg)
	next := now
	switch tag {
	case "Increment":
		next = now + step()
	case "Decrement":
		next = now - step()
	case "Reset":
		next = 0
	default:
		rt.Log(rt.LogLevelWarn, fmt.Sprintf("unknown message %q; the count stays %d", tag, now))
	}
	previous := "none"
	if v := rt.GetEnvVar("last-message"); v.IsSome() && v.Some().Tag() == rt.EnvValueText {
		previous = v.Some().Text()
	}
	rt.SetEnvVar("last-message", rt.MakeEnvValueText(tag))
	rt.Log(rt.LogLevelDebug, fmt.Sprintf("%s: %d -> %d (previous message: %s)", tag, now, next, previous))
	return reply(msg.Header, "model", map[string]int64{"count": next}), reply(msg.Header, "cmd", []any{})
}

func Subscriptions(model Envelope) Envelope {
	return reply(model.Header, "subscriptions", []any{})
}

func GetCapabilities() Envelope {
	header := morphir_ext_envelope.Header{Seqnum: 0, SessionId: "", Kind: witTypes.Some("capabilities")}
	return reply(header, "capabilities", map[string]any{
		"name":     "{{name}}",
		"model":    map[string]string{"count": "integer"},
		"messages": []string{"Increment", "Decrement", "Reset"},
	})
}

// reply answers the envelope with header: same seqnum and session, its own kind, JSON content.
func reply(header morphir_ext_envelope.Header, kind string, value any) Envelope {
	content, _ := json.Marshal(value)
	return Envelope{
		Header:      morphir_ext_envelope.Header{Seqnum: header.Seqnum, SessionId: header.SessionId, Kind: witTypes.Some(kind)},
		ContentType: contentType,
		Content:     content,
	}
}

// count is the model's count (0 when the content is not {"count": N}).
func count(model Envelope) int64 {
	var m struct {
		Count int64 `json:"count"`
	}
	if json.Unmarshal(model.Content, &m) != nil {
		return 0
	}
	return m.Count
}

// messageTag is "Increment" for both "Increment" and {"type": "Increment"}.
func messageTag(msg Envelope) string {
	var tag string
	if json.Unmarshal(msg.Content, &tag) == nil {
		return tag
	}
	var m struct {
		Type string `json:"type"`
	}
	json.Unmarshal(msg.Content, &m)
	return m.Type
}

// step is how much one Increment adds: the env var `step`, of any integer type (default 1).
func step() int64 {
	v := rt.GetEnvVar("step")
	if v.IsNone() {
		return 1
	}
	value := v.Some()
	switch value.Tag() {
	case rt.EnvValueVU8:
		return int64(value.VU8())
	case rt.EnvValueVU16:
		return int64(value.VU16())
	case rt.EnvValueVU32:
		return int64(value.VU32())
	case rt.EnvValueVU64:
		return int64(min(value.VU64(), 1<<63-1))
	case rt.EnvValueVS8:
		return int64(value.VS8())
	case rt.EnvValueVS16:
		return int64(value.VS16())
	case rt.EnvValueVS32:
		return int64(value.VS32())
	case rt.EnvValueVS64:
		return value.VS64()
	case rt.EnvValueText:
		if n, err := strconv.ParseInt(value.Text(), 10, 64); err == nil {
			return n
		}
	}
	return 1
}
