// Package postgres stores Warden's audit log in PostgreSQL (pgx), so several
// gateway replicas can append to one log. Every append transaction locks the
// single head row (SELECT ... FOR UPDATE) before it reads the tree size and
// the hashes it builds on, so appends from all replicas are serialized into
// one order and each computes its tree hashes from the committed state of
// the one before.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/warden-safety/warden/audit/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is an audit store in a PostgreSQL schema.
type Store struct {
	pool *pgxpool.Pool
}

var (
	_ store.Store               = (*Store)(nil)
	_ store.SpeculativeAppender = (*Store)(nil)
)

// Open connects to the database at dsn and brings the schema up to date.
// When schema is not empty the log's tables live in that schema, created
// if needed (tests use a fresh schema per run).
func Open(ctx context.Context, dsn, schema string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("postgres: parse dsn: invalid connection string")
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	if schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = schema
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{pool: pool}
	if schema != "" {
		if _, err := pool.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			pool.Close()
			return nil, fmt.Errorf("postgres: create schema: %w", err)
		}
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

// Pool returns the connection pool (tests use it to tamper).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(ctx)
	// Replicas starting together take turns.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.warden_audit_migrate'))`); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var cur int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&cur); err != nil {
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
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("migrate %s: %w", base, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, v); err != nil {
			return fmt.Errorf("migrate %s: %w", base, err)
		}
	}
	return tx.Commit(ctx)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func readHashes(ctx context.Context, q querier, indexes []int64) ([]tlog.Hash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	recs := store.HashRecords(indexes)
	rows, err := q.Query(ctx, `SELECT idx, hashes FROM records WHERE idx = ANY($1)`, recs)
	if err != nil {
		return nil, fmt.Errorf("postgres: read hashes: %w", err)
	}
	defer rows.Close()
	m := make(map[int64][]byte, len(recs))
	for rows.Next() {
		var idx int64
		var hs []byte
		if err := rows.Scan(&idx, &hs); err != nil {
			return nil, fmt.Errorf("postgres: read hashes: %w", err)
		}
		m[idx] = hs
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read hashes: %w", err)
	}
	return store.CollectHashes(indexes, m)
}

// Append implements store.Store.
func (s *Store) Append(ctx context.Context, fn store.AppendFunc) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	var h store.Head
	// The head row lock is the log's single-writer lock across replicas.
	if err := tx.QueryRow(ctx, `SELECT size, checkpoint_size FROM head WHERE id = 1 FOR UPDATE`).Scan(&h.Size, &h.CheckpointSize); err != nil {
		return fmt.Errorf("postgres: lock head: %w", err)
	}
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) { return readHashes(ctx, tx, idx) })
	batch, err := fn(ctx, h, r)
	if err != nil {
		return err
	}
	if n := len(batch.Entries); n > 0 {
		if err := checkIndexes(h, batch); err != nil {
			return err
		}
		a := insertArgs(batch.Entries)
		if _, err := tx.Exec(ctx, insertSQL, a...); err != nil {
			return fmt.Errorf("postgres: insert records: %w", err)
		}
		h.Size += int64(n)
	}
	if c := batch.Checkpoint; c != nil {
		if c.Size != h.Size {
			return fmt.Errorf("postgres: append: checkpoint size %d, log size %d", c.Size, h.Size)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO checkpoints (size, time_ns, note) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING`, c.Size, c.Time, c.Note); err != nil {
			return fmt.Errorf("postgres: insert checkpoint: %w", err)
		}
		h.CheckpointSize = c.Size
	}
	if _, err := tx.Exec(ctx, `UPDATE head SET size = $1, checkpoint_size = $2 WHERE id = 1`, h.Size, h.CheckpointSize); err != nil {
		return fmt.Errorf("postgres: update head: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

const insertSQL = `INSERT INTO records (idx, request_id, kind, time_ns, body, hashes)
	SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bytea[], $6::bytea[])`

func checkIndexes(h store.Head, b store.Batch) error {
	for i, e := range b.Entries {
		if e.Index != h.Size+int64(i) {
			return fmt.Errorf("postgres: append: entry %d has index %d, want %d", i, e.Index, h.Size+int64(i))
		}
	}
	return nil
}

// insertArgs returns the column arrays of insertSQL.
func insertArgs(es []store.Entry) []any {
	idx := make([]int64, len(es))
	req := make([]string, len(es))
	kind := make([]string, len(es))
	tm := make([]int64, len(es))
	body := make([][]byte, len(es))
	hashes := make([][]byte, len(es))
	for i, e := range es {
		idx[i], req[i], kind[i], tm[i], body[i], hashes[i] = e.Index, e.RequestID, e.Kind, e.Time, e.Body, e.Hashes
	}
	return []any{idx, req, kind, tm, body, hashes}
}

// AppendAt implements store.SpeculativeAppender: it writes a batch computed
// for head at in one round trip, a pipeline that PostgreSQL runs as one
// implicit transaction. Its first statement locks the head row and fails
// (division by zero) unless the head is still at, so a batch computed on a
// stale head is never written: AppendAt then returns store.ErrHeadMoved.
func (s *Store) AppendAt(ctx context.Context, at store.Head, batch store.Batch) error {
	if err := checkIndexes(at, batch); err != nil {
		return err
	}
	size, cpSize := at.Size+int64(len(batch.Entries)), at.CheckpointSize
	b := &pgx.Batch{}
	b.Queue(`SELECT 1 / (CASE WHEN size = $1 AND checkpoint_size = $2 THEN 1 ELSE 0 END) FROM head WHERE id = 1 FOR UPDATE`, at.Size, at.CheckpointSize)
	if len(batch.Entries) > 0 {
		b.Queue(insertSQL, insertArgs(batch.Entries)...)
	}
	if c := batch.Checkpoint; c != nil {
		if c.Size != size {
			return fmt.Errorf("postgres: append: checkpoint size %d, log size %d", c.Size, size)
		}
		b.Queue(`INSERT INTO checkpoints (size, time_ns, note) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING`, c.Size, c.Time, c.Note)
		cpSize = c.Size
	}
	b.Queue(`UPDATE head SET size = $1, checkpoint_size = $2 WHERE id = 1`, size, cpSize)
	err := s.pool.SendBatch(ctx, b).Close()
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "22012" {
		return store.ErrHeadMoved
	}
	if err != nil {
		return fmt.Errorf("postgres: append: %w", err)
	}
	return nil
}

// Head implements store.Store.
func (s *Store) Head(ctx context.Context) (store.Head, error) {
	var h store.Head
	if err := s.pool.QueryRow(ctx, `SELECT size, checkpoint_size FROM head WHERE id = 1`).Scan(&h.Size, &h.CheckpointSize); err != nil {
		return h, fmt.Errorf("postgres: read head: %w", err)
	}
	return h, nil
}

// ReadHashes implements store.Store.
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	return readHashes(ctx, s.pool, indexes)
}

// Entries implements store.Store.
func (s *Store) Entries(ctx context.Context, start, end int64) ([]store.Entry, error) {
	rows, err := s.pool.Query(ctx, `SELECT idx, request_id, kind, time_ns, body, hashes FROM records WHERE idx >= $1 AND idx < $2 ORDER BY idx`, start, end)
	if err != nil {
		return nil, fmt.Errorf("postgres: read records: %w", err)
	}
	defer rows.Close()
	var out []store.Entry
	for rows.Next() {
		var e store.Entry
		if err := rows.Scan(&e.Index, &e.RequestID, &e.Kind, &e.Time, &e.Body, &e.Hashes); err != nil {
			return nil, fmt.Errorf("postgres: read records: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read records: %w", err)
	}
	return out, nil
}

// LookupRequest implements store.Store.
func (s *Store) LookupRequest(ctx context.Context, requestID string) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT idx FROM records WHERE request_id = $1 ORDER BY idx`, requestID)
	if err != nil {
		return nil, fmt.Errorf("postgres: lookup request: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("postgres: lookup request: %w", err)
	}
	return out, nil
}

// FirstIndexSince implements store.Store.
func (s *Store) FirstIndexSince(ctx context.Context, t int64) (int64, error) {
	var idx *int64
	if err := s.pool.QueryRow(ctx, `SELECT MIN(idx) FROM records WHERE time_ns >= $1`, t).Scan(&idx); err != nil {
		return 0, fmt.Errorf("postgres: find time: %w", err)
	}
	if idx == nil {
		h, err := s.Head(ctx)
		return h.Size, err
	}
	return *idx, nil
}

// AddCheckpoint implements store.Store.
func (s *Store) AddCheckpoint(ctx context.Context, c store.Checkpoint) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO checkpoints (size, time_ns, note) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING`, c.Size, c.Time, c.Note); err != nil {
		return fmt.Errorf("postgres: insert checkpoint: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE head SET checkpoint_size = GREATEST(checkpoint_size, $1) WHERE id = 1`, c.Size); err != nil {
		return fmt.Errorf("postgres: update head: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

func (s *Store) checkpoints(ctx context.Context, query string, args ...any) ([]store.Checkpoint, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read checkpoints: %w", err)
	}
	defer rows.Close()
	cs, err := store.ScanCheckpoints(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: read checkpoints: %w", err)
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
	return store.FirstCheckpoint(cs, err, "postgres: latest checkpoint")
}

// CheckpointAt implements store.Store.
func (s *Store) CheckpointAt(ctx context.Context, size int64) (store.Checkpoint, error) {
	cs, err := s.checkpoints(ctx, `SELECT `+store.CheckpointColumns+` FROM checkpoints WHERE size = $1`, size)
	return store.FirstCheckpoint(cs, err, fmt.Sprintf("postgres: checkpoint at %d", size))
}

// Prune implements store.Store. It works in chunks so no transaction
// holds many row locks for long.
func (s *Store) Prune(ctx context.Context, before int64) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, `UPDATE records SET body = NULL WHERE idx IN (SELECT idx FROM records WHERE time_ns < $1 AND body IS NOT NULL LIMIT 10000)`, before)
		if err != nil {
			return total, fmt.Errorf("postgres: prune: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() == 0 {
			return total, nil
		}
	}
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// DropSchema drops a schema and everything in it (tests clean up with it).
func (s *Store) DropSchema(ctx context.Context, schema string) error {
	if _, err := s.pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
		return fmt.Errorf("postgres: drop schema: %w", err)
	}
	return nil
}
