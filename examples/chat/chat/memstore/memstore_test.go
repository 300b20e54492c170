package memstore_test

import (
	"testing"

	"github.com/sysblocks/sysblocks/examples/chat/chat"
	"github.com/sysblocks/sysblocks/examples/chat/chat/memstore"
	"github.com/sysblocks/sysblocks/examples/chat/chat/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) chat.Store { return memstore.New() })
}
