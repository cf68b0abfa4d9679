-- Warden audit log, SQLite schema 1.
CREATE TABLE head (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	size INTEGER NOT NULL,
	checkpoint_size INTEGER NOT NULL
);
INSERT INTO head (id, size, checkpoint_size) VALUES (1, 0, 0);
CREATE TABLE records (
	idx INTEGER PRIMARY KEY,
	request_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	time_ns INTEGER NOT NULL,
	body BLOB,
	hashes BLOB NOT NULL
);
CREATE INDEX records_request_id ON records (request_id);
CREATE INDEX records_time ON records (time_ns);
CREATE TABLE checkpoints (
	size INTEGER PRIMARY KEY,
	time_ns INTEGER NOT NULL,
	note BLOB NOT NULL
);
