-- Warden audit log, PostgreSQL schema 1.
CREATE TABLE head (
	id integer PRIMARY KEY CHECK (id = 1),
	size bigint NOT NULL,
	checkpoint_size bigint NOT NULL
);
INSERT INTO head (id, size, checkpoint_size) VALUES (1, 0, 0);
CREATE TABLE records (
	idx bigint PRIMARY KEY,
	request_id text NOT NULL,
	kind text NOT NULL,
	time_ns bigint NOT NULL,
	body bytea,
	hashes bytea NOT NULL
);
CREATE INDEX records_request_id ON records (request_id);
CREATE INDEX records_time ON records (time_ns);
CREATE TABLE checkpoints (
	size bigint PRIMARY KEY,
	time_ns bigint NOT NULL,
	note bytea NOT NULL
);
