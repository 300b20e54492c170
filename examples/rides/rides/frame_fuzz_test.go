package rides

import (
	"encoding/json"
	"testing"
)

// FuzzParseFrame: any bytes either parse into a frame or are refused;
// nothing panics, and a frame that parses was a single JSON object whose
// fields have the right types.
func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"location","id":"1","lat":12.97,"lng":77.59}`,
		`{"type":"accept","trip":"t_0123"}`,
		`{"type":"location","lat":1e999}`,
		`{"type":"location","lat":"north"}`,
		`{"type":"location"} {"type":"location"}`,
		`[1,2]`, `null`, `{}`, `{"type":7}`, `{"id":"` + string(make([]byte, 70)) + `"}`,
		"\xff\xfe", ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := parseFrame(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("parsed invalid JSON %q", data)
		}
		if len(fr.ID) > 64 {
			t.Fatalf("id of %d bytes accepted", len(fr.ID))
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) != nil {
			t.Fatalf("parsed a non-object %q", data)
		}
	})
}

// NaN and infinities are not JSON: such frames are malformed.
func TestParseFrameNumbers(t *testing.T) {
	for _, s := range []string{`{"type":"location","lat":NaN,"lng":0}`, `{"type":"location","lat":Infinity,"lng":0}`} {
		if _, err := parseFrame([]byte(s)); err == nil {
			t.Errorf("parseFrame(%s): got nil; want an error (not JSON)", s)
		}
	}
}
