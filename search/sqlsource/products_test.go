package sqlsource_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/search"
	"github.com/sysblocks/sysblocks/search/sqlsource"
)

const productSchema = `CREATE TABLE products (
	id       VARCHAR(32) PRIMARY KEY,
	version  BIGINT UNSIGNED NOT NULL,
	title    VARCHAR(200) NOT NULL,
	category VARCHAR(50) NOT NULL,
	price    DECIMAL(10,2) NOT NULL,
	sales    BIGINT NOT NULL
) CHARACTER SET utf8mb4`

func productSource(db *sql.DB) *sqlsource.Source {
	return sqlsource.New(db, "SELECT id, version, title, category, price, sales FROM products", nil,
		func(rows *sql.Rows) (search.Document, error) {
			var d search.Document
			var title, category string
			var price float64
			var sales int64
			if err := rows.Scan(&d.ID, &d.Version, &title, &category, &price, &sales); err != nil {
				return d, err
			}
			d.Fields = map[string]string{"title": title}
			d.Tags = map[string][]string{"category": {category}}
			d.Numbers = map[string]float64{"price": price}
			d.Popularity = float64(sales)
			return d, nil
		})
}

// TestProductsFromMySQL is the shop case study's catalogue: products in
// MariaDB, the index rebuilt from the table, and searches with a price
// range and a category filter answering what the equivalent SQL query
// answers, best sellers first; after price changes in the table, a
// rebuild answers the new prices.
func TestProductsFromMySQL(t *testing.T) {
	env := testenv.MySQL(t)
	ctx := context.Background()
	if _, err := env.DB.ExecContext(ctx, productSchema); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 7))
	kinds := []string{"Headphones", "Speaker", "Mouse", "Keyboard", "Charger", "Earbuds"}
	adjectives := []string{"Wireless", "Wired", "Portable", "Compact", "Gaming", "Studio"}
	categories := []string{"audio", "computers", "accessories"}
	sales := r.Perm(100000)
	for i := range 300 {
		title := adjectives[r.IntN(len(adjectives))] + " " + kinds[r.IntN(len(kinds))]
		if _, err := env.DB.ExecContext(ctx, "INSERT INTO products VALUES (?, 1, ?, ?, ?, ?)",
			fmt.Sprintf("p%03d", i), title, categories[r.IntN(len(categories))], float64(r.IntN(50000))/100, sales[i]); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		ix, _ := search.New(nil)
		if err := ix.Rebuild(ctx, productSource(env.DB)); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			text, category string
			lo, hi         float64
		}{
			{"wireles headphnes", "", 0, 100},
			{"wireless", "audio", 50, 250},
			{"gaming keybord", "computers", 0, 500},
			{"studio", "", 100, 200},
		} {
			q := search.Query{Text: c.text, Limit: 1000, Filter: search.Filter{
				Ranges: []search.Range{search.Between("price", c.lo, c.hi)}}}
			where := "price BETWEEN ? AND ?"
			args := []any{c.lo, c.hi}
			if c.category != "" {
				q.Filter.Tags = map[string][]string{"category": {c.category}}
				where += " AND category = ?"
				args = append(args, c.category)
			}
			// The query's words without typos, each a whole word of the
			// title.
			for _, w := range strings.Fields(map[string]string{
				"wireles headphnes": "wireless headphones", "wireless": "wireless",
				"gaming keybord": "gaming keyboard", "studio": "studio"}[c.text]) {
				where += " AND CONCAT(' ', LOWER(title), ' ') LIKE ?"
				args = append(args, "% "+w+" %")
			}
			rows, err := env.DB.QueryContext(ctx, "SELECT id FROM products WHERE "+where+" ORDER BY sales DESC", args...)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				want = append(want, id)
			}
			rows.Close()
			res, err := ix.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range res.Hits {
				got = append(got, h.Doc.ID)
			}
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("%s: Search(%q, %v-%v %q) = %v; want %v (SQL)", when, c.text, c.lo, c.hi, c.category, got, want)
			}
		}
	}
	check("first load")
	if _, err := env.DB.ExecContext(ctx, "UPDATE products SET price = price / 3, version = version + 1 WHERE sales % 2 = 0"); err != nil {
		t.Fatal(err)
	}
	check("after price changes")
}
