package chat_test

import (
	"errors"
	"testing"

	"github.com/sysblocks/sysblocks/examples/chat/chat"
)

// FuzzParseFrame: any input either parses into a frame that satisfies the
// protocol's limits or fails with a *FrameError matching ErrInvalid or
// ErrTooLarge; it never panics.
func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"send","id":"m1","to":"bob","text":"hi"}`,
		`{"type":"send","id":"m1","group":"team","text":"hi","media":"` + "ab" + `"}`,
		`{"type":"ack","conv":"u:alice:bob","seq":3,"id":"m1","from":"bob"}`,
		`{"type":"read","conv":"g:team:alice","id":"m1","from":"bob"}`,
		`{"type":"resync","after":{"u:alice:bob":2}}`,
		`{"type":"resync","after":null}`, `{}`, `null`, `"x"`, `{"type":"send","id":"`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := chat.ParseFrame(data)
		if err != nil {
			var fe *chat.FrameError
			if !errors.As(err, &fe) || !(errors.Is(err, chat.ErrInvalid) || errors.Is(err, chat.ErrTooLarge)) {
				t.Fatalf("error %v is not a *FrameError matching ErrInvalid or ErrTooLarge", err)
			}
			return
		}
		switch fr.Type {
		case chat.TypeSend:
			if !chat.ValidID(fr.ID) || len(fr.Text) > chat.MaxText || (fr.To == "") == (fr.Group == "") {
				t.Fatalf("accepted send breaks the limits: %+v", fr)
			}
		case chat.TypeAck, chat.TypeRead, chat.TypeResync:
		default:
			t.Fatalf("accepted unknown type %q", fr.Type)
		}
	})
}
