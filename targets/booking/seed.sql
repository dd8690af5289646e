INSERT INTO trucks (id, capacity_kg) VALUES (1, 1000), (2, 5000);
