package sqlstore_test

import (
	"context"
	"testing"

	"github.com/sysblocks/sysblocks/examples/chat/chat"
	"github.com/sysblocks/sysblocks/examples/chat/chat/sqlstore"
	"github.com/sysblocks/sysblocks/examples/chat/chat/storetest"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) chat.Store {
		s := sqlstore.New(testenv.MySQL(t).DB)
		if err := s.CreateSchema(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	})
}
