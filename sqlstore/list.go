package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/flexd/flexd"
)

// defaultItemsPerPage is Atlas's itemsPerPage default, used when a caller
// passes a zero Page.
const defaultItemsPerPage = 100

// rowScanner is what *sql.Row and *sql.Rows have in common.
type rowScanner interface {
	Scan(dest ...any) error
}

// where collects the conditions of a list query, ANDed.
type where struct {
	dialect Dialect
	conds   []string
	args    []any
	// none is set by an empty, non-nil id list: nothing can match, so the
	// list answers without asking the database.
	none bool
}

// eq adds col = v.
func (w *where) eq(col string, v any) {
	w.conds = append(w.conds, col+" = ?")
	w.args = append(w.args, v)
}

// eqIfSet adds col = v unless v is empty, the filters' "match all".
func (w *where) eqIfSet(col, v string) {
	if v != "" {
		w.eq(col, v)
	}
}

// inIDs restricts col to ids: nil means no restriction, empty means none.
func (w *where) inIDs(col string, ids []string) {
	if ids == nil {
		return
	}
	if len(ids) == 0 {
		w.none = true
		return
	}
	b, _ := json.Marshal(ids) // a []string always marshals
	w.conds = append(w.conds, w.dialect.InJSON(col))
	w.args = append(w.args, string(b))
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// listQuery is one list: which columns of which rows, in which order. The
// page and the count share its FROM and WHERE, so they cannot disagree on
// what is listed.
type listQuery struct {
	what    string // for error messages: "list restore jobs"
	columns string
	from    string
	where   where
	orderBy string
}

func (q *listQuery) pageSQL() string {
	return "SELECT " + q.columns + " FROM " + q.from + q.where.sql() +
		" ORDER BY " + q.orderBy + " LIMIT ? OFFSET ?"
}

func (q *listQuery) countSQL() string {
	return "SELECT COUNT(*) FROM " + q.from + q.where.sql()
}

// pageBounds turns p into LIMIT and OFFSET. A zero Page is the first page
// of Atlas's default size rather than an error or an unbounded read.
func pageBounds(p flexd.Page) (limit, offset int) {
	p.Num = max(p.Num, 1)
	if p.ItemsPerPage <= 0 {
		p.ItemsPerPage = defaultItemsPerPage
	}
	return p.ItemsPerPage, p.Offset()
}

// listPage reads one page of q (with the next item when p.Peek is set)
// and, when p.Count is set, the total. The total needs no second query when
// what was read shows where the list ends (it is neither empty nor all that
// was asked for); otherwise the page and the COUNT run in one read
// transaction so that they agree.
func listPage[T any](ctx context.Context, s *Store, q listQuery, p flexd.Page, scan func(rowScanner, *T) error) ([]T, int, error) {
	total := flexd.NoCount
	if q.where.none {
		if p.Count {
			total = 0
		}
		return []T{}, total, nil
	}
	limit, offset := pageBounds(p)
	if p.Peek {
		limit++
	}
	var items []T
	read := func(r runner) error {
		var err error
		items, err = queryAll(ctx, r, q.pageSQL(), append(slices.Clip(q.where.args), limit, offset), scan)
		if err != nil || !p.Count {
			return err
		}
		if n := len(items); (n > 0 && n < limit) || (n == 0 && offset == 0) {
			total = offset + n
			return nil
		}
		return r.queryRow(ctx, q.countSQL(), q.where.args...).Scan(&total)
	}
	var err error
	if p.Count {
		err = s.readTx(ctx, read)
	} else {
		err = read(s.run())
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", q.what, err)
	}
	return items, total, nil
}

// queryAll runs query and scans every row; it never returns a nil slice,
// so an empty page encodes as [] wherever it ends up.
func queryAll[T any](ctx context.Context, r runner, query string, args []any, scan func(rowScanner, *T) error) ([]T, error) {
	rows, err := r.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	items := []T{}
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return items, rows.Close()
}

// getOne reads the single row query selects, or flexd.ErrNotFound. what
// names the row for the message: "restore job 5f… of cluster 5e…".
func getOne[T any](ctx context.Context, r runner, what, query string, args []any, scan func(rowScanner, *T) error) (*T, error) {
	var v T
	err := scan(r.queryRow(ctx, query, args...), &v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", what, flexd.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", what, err)
	}
	return &v, nil
}

// lockRow locks the row of table with id for the rest of the transaction,
// or reports flexd.ErrNotFound. Deletes that check children first take it so
// that a child inserted concurrently is either seen or refused (see
// Dialect.forUpdate).
func lockRow(ctx context.Context, r runner, table, id, what string) error {
	var one int
	err := r.queryRow(ctx, "SELECT 1 FROM "+table+" WHERE id = ?"+r.s.dialect.ForUpdate(), id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, flexd.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", what, err)
	}
	return nil
}
