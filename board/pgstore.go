package board

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PGStore keeps statements in PostgreSQL and pushes every append to all
// replicas with LISTEN/NOTIFY: a replica applies a halt accepted by another
// within milliseconds of its commit.
//
// Tables (PREFIX is the configured prefix, default "warden_"):
//
//	PREFIXboard_statements(seq, subject, version, digest, envelope, accepted_at), unique (subject, version)
//	PREFIXboard_pending(digest, envelope, updated_at)
//	PREFIXboard_meter(replica, model, kind, prompt, completion), the token totals of each run
//
// and the notification channel PREFIXboard.
type PGStore struct {
	pool    *pgxpool.Pool
	owns    bool
	prefix  string
	channel string
}

var prefixRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,39}$`)

// OpenPGStore connects to dsn and creates the tables if needed.
func OpenPGStore(ctx context.Context, dsn, prefix string) (*PGStore, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	s, err := NewPGStore(ctx, pool, prefix)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.owns = true
	return s, nil
}

// NewPGStore uses an existing pool (which Close leaves open) and creates
// the tables if needed. prefix must match [a-z_][a-z0-9_]*; "" means
// "warden_".
func NewPGStore(ctx context.Context, pool *pgxpool.Pool, prefix string) (*PGStore, error) {
	if prefix == "" {
		prefix = "warden_"
	}
	if !prefixRE.MatchString(prefix) {
		return nil, fmt.Errorf("postgres store: table prefix %q: want lowercase letters, digits and _ (at most 40)", prefix)
	}
	s := &PGStore{pool: pool, prefix: prefix, channel: prefix + "board"}
	ddl := fmt.Sprintf(`
CREATE TABLE IF NOT EXISTS %[1]sboard_statements (
	seq         bigserial PRIMARY KEY,
	subject     text        NOT NULL,
	version     bigint      NOT NULL,
	digest      text        NOT NULL,
	envelope    jsonb       NOT NULL,
	accepted_at timestamptz NOT NULL,
	UNIQUE (subject, version)
);
CREATE TABLE IF NOT EXISTS %[1]sboard_pending (
	digest     text PRIMARY KEY,
	envelope   jsonb       NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS %[1]sboard_meter (
	replica    text   NOT NULL,
	model      text   NOT NULL,
	kind       text   NOT NULL,
	prompt     bigint NOT NULL,
	completion bigint NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (replica, model, kind)
);`, prefix)
	// Concurrent CREATE TABLE IF NOT EXISTS can race on the catalog; an
	// advisory lock serializes replicas starting together.
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, s.channel); err != nil {
		return nil, fmt.Errorf("postgres store: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, ddl); err != nil {
		return nil, fmt.Errorf("postgres store: create tables: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	return s, nil
}

// Load implements Store.
func (s *PGStore) Load(ctx context.Context, after int64) ([]Entry, error) {
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT seq, subject, version, digest, envelope, accepted_at FROM %sboard_statements WHERE seq > $1 ORDER BY seq`, s.prefix), after)
	if err != nil {
		return nil, fmt.Errorf("postgres store: load: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var raw []byte
		var ver int64
		if err := rows.Scan(&e.Seq, &e.Subject, &ver, &e.Digest, &raw, &e.AcceptedAt); err != nil {
			return nil, fmt.Errorf("postgres store: load: %w", err)
		}
		e.Version = uint64(ver)
		var env Envelope
		if err := json.Unmarshal(raw, &env); err != nil {
			return nil, fmt.Errorf("postgres store: load seq %d: %w", e.Seq, err)
		}
		e.Envelope = &env
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres store: load: %w", err)
	}
	return out, nil
}

// Append implements Store; the insert and the notification commit together.
func (s *PGStore) Append(ctx context.Context, e Entry) (int64, error) {
	raw, err := json.Marshal(e.Envelope)
	if err != nil {
		return 0, fmt.Errorf("postgres store: %w", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres store: append: %w", err)
	}
	defer tx.Rollback(ctx)
	// Appends are serialized, so sequence numbers become visible in
	// order: a replica that has read seq N never misses a smaller one
	// committed later.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, s.channel+"/append"); err != nil {
		return 0, fmt.Errorf("postgres store: append lock: %w", err)
	}
	var seq int64
	err = tx.QueryRow(ctx, fmt.Sprintf(`INSERT INTO %sboard_statements (subject, version, digest, envelope, accepted_at) VALUES ($1, $2, $3, $4, $5) RETURNING seq`, s.prefix),
		e.Subject, int64(e.Version), e.Digest, raw, e.AcceptedAt).Scan(&seq)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return 0, ErrConflict
	}
	if err != nil {
		return 0, fmt.Errorf("postgres store: append: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, s.channel, fmt.Sprint(seq)); err != nil {
		return 0, fmt.Errorf("postgres store: notify: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("postgres store: append: %w", err)
	}
	return seq, nil
}

// Pending implements Store.
func (s *PGStore) Pending(ctx context.Context) ([]*Envelope, error) {
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT envelope FROM %sboard_pending ORDER BY updated_at`, s.prefix))
	if err != nil {
		return nil, fmt.Errorf("postgres store: pending: %w", err)
	}
	defer rows.Close()
	var out []*Envelope
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("postgres store: pending: %w", err)
		}
		var env Envelope
		if err := json.Unmarshal(raw, &env); err != nil {
			return nil, fmt.Errorf("postgres store: pending: %w", err)
		}
		out = append(out, &env)
	}
	return out, rows.Err()
}

// PutPending implements Store.
func (s *PGStore) PutPending(ctx context.Context, digest string, e *Envelope) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("postgres store: %w", err)
	}
	_, err = s.pool.Exec(ctx, fmt.Sprintf(`INSERT INTO %sboard_pending (digest, envelope) VALUES ($1, $2)
		ON CONFLICT (digest) DO UPDATE SET envelope = EXCLUDED.envelope, updated_at = now()`, s.prefix), digest, raw)
	if err != nil {
		return fmt.Errorf("postgres store: put pending: %w", err)
	}
	return nil
}

// DeletePending implements Store.
func (s *PGStore) DeletePending(ctx context.Context, digest string) error {
	if _, err := s.pool.Exec(ctx, fmt.Sprintf(`DELETE FROM %sboard_pending WHERE digest = $1`, s.prefix), digest); err != nil {
		return fmt.Errorf("postgres store: delete pending: %w", err)
	}
	return nil
}

// Watch implements Store: one pooled connection LISTENs on the channel and
// reconnects after errors (signalling once LISTEN is in place after each
// (re)connect, since notifications may have been missed meanwhile).
func (s *PGStore) Watch(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	signal := func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	go func() {
		defer close(ch)
		for ctx.Err() == nil {
			// Signal once LISTEN is in place: anything appended before it
			// (since the caller's last load) is picked up by that sync.
			err := s.listen(ctx, signal, signal)
			if ctx.Err() != nil {
				return
			}
			_ = err // the periodic sync and the reconnect cover the gap
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	return ch
}

func (s *PGStore) listen(ctx context.Context, onListening, onNotify func()) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer func() {
		// The connection is LISTENing: do not return it to the pool in
		// that state.
		conn.Conn().Close(context.WithoutCancel(ctx))
		conn.Release()
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return err
	}
	onListening()
	for {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			return err
		}
		onNotify()
	}
}

// Close implements Store (closing the pool only if OpenPGStore made it).
func (s *PGStore) Close() error {
	if s.owns {
		s.pool.Close()
	}
	return nil
}

// Drop removes the store's tables (used by tests to clean up).
func (s *PGStore) Drop(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, fmt.Sprintf(`DROP TABLE IF EXISTS %[1]sboard_statements, %[1]sboard_pending, %[1]sboard_meter`, s.prefix))
	return err
}

var _ MeterStore = (*PGStore)(nil)

// SaveMeter implements MeterStore.
func (s *PGStore) SaveMeter(ctx context.Context, replica string, counts []TokenCount) error {
	batch := &pgx.Batch{}
	q := fmt.Sprintf(`INSERT INTO %sboard_meter (replica, model, kind, prompt, completion) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (replica, model, kind) DO UPDATE SET prompt = EXCLUDED.prompt, completion = EXCLUDED.completion, updated_at = now()`, s.prefix)
	for _, c := range counts {
		batch.Queue(q, replica, c.Model, c.Kind, c.Prompt, c.Completion)
	}
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("postgres store: save meter: %w", err)
	}
	return nil
}

// LoadMeter implements MeterStore.
func (s *PGStore) LoadMeter(ctx context.Context, exclude string) ([]TokenCount, error) {
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT model, kind, sum(prompt)::bigint, sum(completion)::bigint FROM %sboard_meter
		WHERE replica <> $1 GROUP BY model, kind ORDER BY model, kind`, s.prefix), exclude)
	if err != nil {
		return nil, fmt.Errorf("postgres store: load meter: %w", err)
	}
	defer rows.Close()
	var out []TokenCount
	for rows.Next() {
		var c TokenCount
		if err := rows.Scan(&c.Model, &c.Kind, &c.Prompt, &c.Completion); err != nil {
			return nil, fmt.Errorf("postgres store: load meter: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
