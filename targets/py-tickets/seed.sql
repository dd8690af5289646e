INSERT INTO events (id, name, capacity) VALUES (1, 'Workshop: PostgreSQL locking', 100), (2, 'Meetup', 500);
