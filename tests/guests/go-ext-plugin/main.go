// A Morphir extension written with Extism's Go PDK and the standard Go toolchain
// (GOOS=wasip1, -buildmode=c-shared, //go:wasmexport): a counter whose init logs the WASI env
// var GREETING, so a test sees what the sandbox gives it. morph's tests build it.
package main

import (
	"encoding/json"
	"os"

	"github.com/extism/go-pdk"
)

type Header struct {
	Seqnum    uint64  `json:"seqnum"`
	SessionID string  `json:"session_id"`
	Kind      *string `json:"kind,omitempty"`
}

type Envelope struct {
	Header      Header `json:"header"`
	ContentType string `json:"content_type"`
	Content     []int  `json:"content"`
}

func answer(h Header, count int64) int32 {
	body, _ := json.Marshal(map[string]any{"model": map[string]int64{"count": count}, "cmds": []any{}})
	content := make([]int, len(body))
	for i, b := range body {
		content[i] = int(b)
	}
	out, _ := json.Marshal(Envelope{Header: h, ContentType: "application/json", Content: content})
	pdk.Output(out)
	return 0
}

func count(e Envelope) int64 {
	raw := make([]byte, len(e.Content))
	for i, b := range e.Content {
		raw[i] = byte(b)
	}
	var m struct{ Count int64 `json:"count"` }
	_ = json.Unmarshal(raw, &m)
	return m.Count
}

//go:wasmexport init
func initExt() int32 {
	var flags Envelope
	if err := json.Unmarshal(pdk.Input(), &flags); err != nil {
		pdk.SetError(err)
		return 1
	}
	pdk.Log(pdk.LogInfo, "go counter starts, GREETING="+os.Getenv("GREETING"))
	return answer(flags.Header, count(flags))
}

//go:wasmexport update
func update() int32 {
	var in struct {
		Msg   Envelope `json:"msg"`
		Model Envelope `json:"model"`
	}
	if err := json.Unmarshal(pdk.Input(), &in); err != nil {
		pdk.SetError(err)
		return 1
	}
	return answer(in.Msg.Header, count(in.Model)+1)
}

//go:wasmexport subscriptions
func subscriptions() int32 {
	pdk.OutputString(`{"content_type":"application/json","content":"[]"}`)
	return 0
}

func main() {}
