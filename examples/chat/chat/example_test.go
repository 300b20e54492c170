package chat_test

import (
	"bytes"
	"context"
	"fmt"

	"gocloud.dev/blob/memblob"

	"github.com/sysblocks/sysblocks/examples/chat/chat"
)

// The same image uploaded twice is stored once, under its SHA-256.
func ExampleMedia_Put() {
	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	media := chat.NewMedia(bucket, 0)
	ctx := context.Background()
	a, _ := media.Put(ctx, bytes.NewReader(pngBytes))
	b, _ := media.Put(ctx, bytes.NewReader(pngBytes))
	fmt.Println(a.ContentType, a.Hash == b.Hash, a.Existed, b.Existed)
	_, err := media.Put(ctx, bytes.NewReader([]byte("<script>alert(1)</script>")))
	fmt.Println(err)
	fmt.Printf("%+v\n", media.Stats())
	// Output:
	// image/png true false true
	// chat: media: content type "text/html; charset=utf-8": chat: invalid input
	// {Stored:1 Deduplicated:1 Rejected:1}
}

// ParseFrame checks a client frame; a bad one is a *FrameError.
func ExampleParseFrame() {
	f, err := chat.ParseFrame([]byte(`{"type":"send","id":"m1","to":"bob","text":"hi"}`))
	fmt.Println(f.Type, f.To, f.Text, err)
	_, err = chat.ParseFrame([]byte(`{"type":"send","id":"m2","to":"bob","group":"team","text":"hi"}`))
	fmt.Println(err)
	// Output:
	// send bob hi <nil>
	// chat: frame: send: want exactly one of to and group
}
