package sqlsource_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sysblocks/sysblocks/search"
	"github.com/sysblocks/sysblocks/search/sqlsource"
)

// An index is rebuilt from the hotels table, the source of truth. It needs
// a server, so it is compiled but not run by go test.
func Example() {
	ctx := context.Background()
	db, err := sql.Open("mysql", os.Getenv("SYSBLOCKS_MYSQL_DSN"))
	if err != nil {
		panic(err)
	}
	defer db.Close()

	src := sqlsource.New(db, "SELECT id, version, name, city, price FROM hotels WHERE deleted = ?", []any{false},
		func(rows *sql.Rows) (search.Document, error) {
			var d search.Document
			var name, city string
			var price float64
			if err := rows.Scan(&d.ID, &d.Version, &name, &city, &price); err != nil {
				return d, err
			}
			d.Fields = map[string]string{"name": name, "city": city}
			d.Tags = map[string][]string{"city": {city}}
			d.Numbers = map[string]float64{"price": price}
			return d, nil
		})
	ix, _ := search.New(nil)
	if err := ix.Rebuild(ctx, src); err != nil {
		panic(err)
	}
	fmt.Println(ix.Len(), "hotels")
}
