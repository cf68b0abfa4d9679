// Package sqlite stores Warden's audit log in an SQLite database file (pure
// Go, modernc.org/sqlite) in WAL mode with synchronous=FULL, so a committed
// append survives a crash of the process or the machine. It is the embedded
// default; several processes may share the file (appends take SQLite's
// write lock with BEGIN IMMEDIATE), but one gateway replica is the usual
// setup.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/warden-safety/warden/audit/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is an audit store in one SQLite file.
type Store struct {
	db *sql.DB
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(30000)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return s, nil
}

// DB returns the underlying database handle (tests use it to tamper).
func (s *Store) DB() *sql.DB { return s.db }

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var cur int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&cur); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(files)
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: bad migration name %s", base)
		}
		if v <= cur {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("migrate %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, v); err != nil {
			return fmt.Errorf("migrate %s: %w", base, err)
		}
	}
	return tx.Commit()
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func readHashes(ctx context.Context, q querier, indexes []int64) ([]tlog.Hash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	recs := store.HashRecords(indexes)
	var b strings.Builder
	args := make([]any, len(recs))
	b.WriteString(`SELECT idx, hashes FROM records WHERE idx IN (`)
	for i, r := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('?')
		args[i] = r
	}
	b.WriteByte(')')
	rows, err := q.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read hashes: %w", err)
	}
	defer rows.Close()
	m := make(map[int64][]byte, len(recs))
	for rows.Next() {
		var idx int64
		var hs []byte
		if err := rows.Scan(&idx, &hs); err != nil {
			return nil, fmt.Errorf("sqlite: read hashes: %w", err)
		}
		m[idx] = hs
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read hashes: %w", err)
	}
	return store.CollectHashes(indexes, m)
}

// Append implements store.Store.
func (s *Store) Append(ctx context.Context, fn store.AppendFunc) error {
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: takes the write lock
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	var h store.Head
	if err := tx.QueryRowContext(ctx, `SELECT size, checkpoint_size FROM head WHERE id = 1`).Scan(&h.Size, &h.CheckpointSize); err != nil {
		return fmt.Errorf("sqlite: read head: %w", err)
	}
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) { return readHashes(ctx, tx, idx) })
	batch, err := fn(ctx, h, r)
	if err != nil {
		return err
	}
	for i, e := range batch.Entries {
		if e.Index != h.Size+int64(i) {
			return fmt.Errorf("sqlite: append: entry %d has index %d, want %d", i, e.Index, h.Size+int64(i))
		}
	}
	// Multi-row INSERTs: one statement per insertChunk rows.
	for rest := batch.Entries; len(rest) > 0; {
		n := min(len(rest), insertChunk)
		args := make([]any, 0, 6*n)
		for _, e := range rest[:n] {
			args = append(args, e.Index, e.RequestID, e.Kind, e.Time, e.Body, e.Hashes)
		}
		if _, err := tx.ExecContext(ctx, insertSQL(n), args...); err != nil {
			return fmt.Errorf("sqlite: insert records %d..%d: %w", rest[0].Index, rest[n-1].Index, err)
		}
		rest = rest[n:]
	}
	h.Size += int64(len(batch.Entries))
	if c := batch.Checkpoint; c != nil {
		if c.Size != h.Size {
			return fmt.Errorf("sqlite: append: checkpoint size %d, log size %d", c.Size, h.Size)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (size, time_ns, note) VALUES (?, ?, ?) ON CONFLICT (size) DO NOTHING`, c.Size, c.Time, c.Note); err != nil {
			return fmt.Errorf("sqlite: insert checkpoint: %w", err)
		}
		h.CheckpointSize = c.Size
	}
	if _, err := tx.ExecContext(ctx, `UPDATE head SET size = ?, checkpoint_size = ? WHERE id = 1`, h.Size, h.CheckpointSize); err != nil {
		return fmt.Errorf("sqlite: update head: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// insertChunk is the most rows one INSERT writes (6 parameters each, well
// under SQLite's limit of 32766).
const insertChunk = 256

func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO records (idx, request_id, kind, time_ns, body, hashes) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?,?,?,?,?,?)`)
	}
	return b.String()
}

// Head implements store.Store.
func (s *Store) Head(ctx context.Context) (store.Head, error) {
	var h store.Head
	if err := s.db.QueryRowContext(ctx, `SELECT size, checkpoint_size FROM head WHERE id = 1`).Scan(&h.Size, &h.CheckpointSize); err != nil {
		return h, fmt.Errorf("sqlite: read head: %w", err)
	}
	return h, nil
}

// ReadHashes implements store.Store.
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	return readHashes(ctx, s.db, indexes)
}

// Entries implements store.Store.
func (s *Store) Entries(ctx context.Context, start, end int64) ([]store.Entry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT idx, request_id, kind, time_ns, body, hashes FROM records WHERE idx >= ? AND idx < ? ORDER BY idx`, start, end)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read records: %w", err)
	}
	defer rows.Close()
	var out []store.Entry
	for rows.Next() {
		var e store.Entry
		if err := rows.Scan(&e.Index, &e.RequestID, &e.Kind, &e.Time, &e.Body, &e.Hashes); err != nil {
			return nil, fmt.Errorf("sqlite: read records: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read records: %w", err)
	}
	return out, nil
}

// LookupRequest implements store.Store.
func (s *Store) LookupRequest(ctx context.Context, requestID string) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT idx FROM records WHERE request_id = ? ORDER BY idx`, requestID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lookup request: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var i int64
		if err := rows.Scan(&i); err != nil {
			return nil, fmt.Errorf("sqlite: lookup request: %w", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// FirstIndexSince implements store.Store.
func (s *Store) FirstIndexSince(ctx context.Context, t int64) (int64, error) {
	var idx sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(idx) FROM records WHERE time_ns >= ?`, t).Scan(&idx); err != nil {
		return 0, fmt.Errorf("sqlite: find time: %w", err)
	}
	if !idx.Valid {
		h, err := s.Head(ctx)
		return h.Size, err
	}
	return idx.Int64, nil
}

// AddCheckpoint implements store.Store.
func (s *Store) AddCheckpoint(ctx context.Context, c store.Checkpoint) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (size, time_ns, note) VALUES (?, ?, ?) ON CONFLICT (size) DO NOTHING`, c.Size, c.Time, c.Note); err != nil {
		return fmt.Errorf("sqlite: insert checkpoint: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE head SET checkpoint_size = MAX(checkpoint_size, ?) WHERE id = 1`, c.Size); err != nil {
		return fmt.Errorf("sqlite: update head: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

func (s *Store) checkpoints(ctx context.Context, query string, args ...any) ([]store.Checkpoint, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read checkpoints: %w", err)
	}
	defer rows.Close()
	cs, err := store.ScanCheckpoints(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read checkpoints: %w", err)
	}
	return cs, nil
}

// Checkpoints implements store.Store.
func (s *Store) Checkpoints(ctx context.Context) ([]store.Checkpoint, error) {
	return s.checkpoints(ctx, `SELECT `+store.CheckpointColumns+` FROM checkpoints ORDER BY size`)
}

// LatestCheckpoint implements store.Store.
func (s *Store) LatestCheckpoint(ctx context.Context) (store.Checkpoint, error) {
	cs, err := s.checkpoints(ctx, `SELECT `+store.CheckpointColumns+` FROM checkpoints ORDER BY size DESC LIMIT 1`)
	return store.FirstCheckpoint(cs, err, "sqlite: latest checkpoint")
}

// CheckpointAt implements store.Store.
func (s *Store) CheckpointAt(ctx context.Context, size int64) (store.Checkpoint, error) {
	cs, err := s.checkpoints(ctx, `SELECT `+store.CheckpointColumns+` FROM checkpoints WHERE size = ?`, size)
	return store.FirstCheckpoint(cs, err, fmt.Sprintf("sqlite: checkpoint at %d", size))
}

// Prune implements store.Store. It works in chunks so the write lock is
// never held for long.
func (s *Store) Prune(ctx context.Context, before int64) (int64, error) {
	var total int64
	for {
		res, err := s.db.ExecContext(ctx, `UPDATE records SET body = NULL WHERE idx IN (SELECT idx FROM records WHERE time_ns < ? AND body IS NOT NULL LIMIT 10000)`, before)
		if err != nil {
			return total, fmt.Errorf("sqlite: prune: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n == 0 {
			return total, nil
		}
	}
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close implements store.Store.
func (s *Store) Close() error { return s.db.Close() }
